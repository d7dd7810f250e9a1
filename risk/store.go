package risk

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by a ProfileStore for a subscriber it has no profile for.
var ErrNotFound = errors.New("risk: profile not found")

// ProfileStore keeps one [Profile] per subscriber.
//
// Implementations must be safe for concurrent use. A Profile is a plain value, so an
// adapter may persist it in any form that round-trips it (see [Profile.MarshalBinary]),
// next to the two columns PruneProfiles needs: [Profile.Established] and
// [Profile.LastSeen], both read from the profile the core stored. Adapters never read a
// clock: the core passes every time in.
type ProfileStore interface {
	// LoadProfile copies the subscriber's profile into dst, or returns ErrNotFound and
	// leaves dst unchanged.
	LoadProfile(ctx context.Context, subscriber string, dst *Profile) error
	// UpdateProfile applies fn to the subscriber's profile (a zero Profile if there is
	// none) and stores the result, atomically with respect to other calls for the same
	// subscriber. If fn returns an error nothing is stored and UpdateProfile returns it.
	UpdateProfile(ctx context.Context, subscriber string, fn func(*Profile) error) error
	// PruneProfiles bounds the provisional profiles (those not Established). It deletes
	// every provisional profile last seen before seenBefore, then, while more than keep
	// provisional profiles remain, the least recently seen of them (an adapter may take
	// the order in which it last stored them instead: it is the same order when
	// requests are recorded as they happen). It returns how many it deleted and never
	// deletes an established profile. The Service calls it after creating a
	// provisional profile, so the store never holds more than keep of them for long.
	PruneProfiles(ctx context.Context, seenBefore time.Time, keep int) (int, error)
}

// GlobalStats are the population-wide counts the Freeman model compares a subscriber
// against.
type GlobalStats struct {
	Subscribers uint64 // distinct subscribers with at least one login
	Logins      uint64 // successful logins counted
	// Per feature: logins where the feature was present, distinct values seen, and the
	// number of logins with the queried value.
	Total, Distinct, Count [NumFeatures]uint64
}

// GlobalStore keeps population-wide login counts per feature value.
//
// Implementations must be safe for concurrent use; counts may be approximate (a sketch
// is fine for very large carriers) but must never be inflated for one value.
type GlobalStore interface {
	// GlobalStats returns the totals and, in Count, the number of logins seen with each
	// non-zero key in keys (zero keys have Count 0).
	GlobalStats(ctx context.Context, keys *Keys) (GlobalStats, error)
	// AddLogin counts one successful login with these keys; firstLogin is true for the
	// subscriber's first, which also counts one more subscriber.
	AddLogin(ctx context.Context, keys *Keys, firstLogin bool) error
}
