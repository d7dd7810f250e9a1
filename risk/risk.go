package risk

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"
)

// Level is the coarse risk of a request: [Low], [Medium] or [High]. Levels are ordered,
// so callers compare them directly (lvl >= risk.Medium). The zero Level is not a level:
// it means "not assessed", and callers must treat it like [High].
type Level uint8

// The levels, in increasing order of risk.
const (
	Low Level = iota + 1
	Medium
	High
)

// String returns "low", "medium", "high" or "unassessed".
func (l Level) String() string {
	switch l {
	case Low:
		return "low"
	case Medium:
		return "medium"
	case High:
		return "high"
	default:
		return "unassessed"
	}
}

// Action is what the subscriber (or someone claiming to be them) is asking to do.
type Action string

// Actions the built-in signals know. Any other non-empty action is accepted and treated
// as sensitive.
const (
	ActionSignIn        Action = "sign_in"
	ActionSIMSwap       Action = "sim_swap"
	ActionPortOut       Action = "port_out"
	ActionAccountChange Action = "account_change" // email, password, contacts, flags, payment
)

// Sensitive reports whether a counts towards the velocity signal: everything except a
// plain sign-in.
func (a Action) Sensitive() bool { return a != ActionSignIn }

// takeover reports whether a is the last step of the classic takeover chain.
func (a Action) takeover() bool { return a == ActionSIMSwap || a == ActionPortOut }

// Channel is where the request came from. It decides which signals apply (see
// [Channel.SubscriberClient]) and is carried into the assessment for the caller's
// policy. It must come from the credential the request was authenticated with (the
// subscriber's session, an agent's or a partner's token), never from a request field:
// a thief who could declare his channel could choose which signals see him.
type Channel string

// Common channels.
const (
	ChannelApp    Channel = "app"
	ChannelWeb    Channel = "web"
	ChannelPhone  Channel = "phone"  // a support agent on a call
	ChannelChat   Channel = "chat"   // a support agent in a chat
	ChannelRetail Channel = "retail" // in store
	// ChannelAPI is a partner's system calling the carrier's API, such as the gaining
	// carrier asking for a port-out with the subscriber's transfer PIN.
	ChannelAPI Channel = "api"
)

// SubscriberClient reports whether requests on c come from the subscriber's own device:
// the app, the web, or a channel this package does not know (the empty one included).
// Only then do the device, browser, location and IP signals and the Freeman model apply,
// and only then does [Service.Record] learn the device and place.
//
// On agent channels (phone, chat, retail) and the partner API the client is the agent's
// desk or the partner's server, not the subscriber's phone, so those signals would
// measure the wrong thing: every such request would look like a new device from a new
// place, and the partner's server would be learned as the subscriber's. Requests there
// are scored on the account signals only: velocity, port_velocity, credential_change,
// recent_sim_change, young_account and unverified_email. A normal port-out from a
// partner, with the PIN, on an established account is thus Low.
func (c Channel) SubscriberClient() bool {
	switch c {
	case ChannelPhone, ChannelChat, ChannelRetail, ChannelAPI:
		return false
	}
	return true
}

// Coordinates is a point on the Earth in decimal degrees.
type Coordinates struct {
	Lat float64 // -90..90
	Lon float64 // -180..180
}

// Valid reports whether c is a real point: finite, latitude within ±90 and longitude
// within ±180.
func (c Coordinates) Valid() bool {
	return !math.IsNaN(c.Lat) && !math.IsNaN(c.Lon) &&
		c.Lat >= -90 && c.Lat <= 90 && c.Lon >= -180 && c.Lon <= 180
}

// Geo is where the client IP address was located. Every field is optional; risk/geoip
// fills it from MaxMind databases.
type Geo struct {
	Country     string       // ISO 3166-1 alpha-2, e.g. "US"
	Region      string       // e.g. "FL" (first subdivision)
	City        string       // e.g. "Miami"
	Coordinates *Coordinates // nil when unknown
	ASN         uint32       // autonomous system number; 0 when unknown
	ASOrg       string       // autonomous system organisation, informational
}

// Client is the parsed form of a user agent. When a Request's Client is zero, the
// request's UserAgent is parsed (see [ParseUserAgent]); callers that already parsed it
// (or replay a dataset with parsed columns) fill it to skip that work.
type Client struct {
	Browser    string // name and major version, e.g. "Chrome 120"
	OS         string // name and version, e.g. "iOS 17.4"
	DeviceType string // "mobile", "tablet", "desktop", "bot" or "other"
}

// Account holds facts about the account that the carrier already knows. Zero times mean
// "unknown" (or "never") and add no risk.
//
// The change times need not be filled: [Service] also reads the changes it recorded
// from the library's own account events (see [Facts]) and uses the later of the two.
type Account struct {
	EmailVerified   bool
	Created         time.Time
	PasswordChanged time.Time
	EmailChanged    time.Time
	ContactChanged  time.Time // a trusted contact (2FA phone or email) added or changed
	FactorChanged   time.Time // an authenticator, recovery codes, 2FA or security questions changed
	FlagLifted      time.Time // a protection flag turned off
	SIMChanged      time.Time // the last SIM change on the line
}

// Request is one sensitive request to assess. Subscriber and Action are required; every
// other field is optional and a missing one degrades gracefully (a missing IP address is
// itself a signal).
type Request struct {
	Subscriber string
	Action     Action
	// Time is when the request was made; zero means now. A time later than now (beyond
	// Config.ClockSkew) is an error.
	Time      time.Time
	IP        netip.Addr // the zero Addr means "not known"
	Geo       Geo
	Device    string // a device fingerprint or device ID; never a secret
	UserAgent string
	Client    Client // parsed UserAgent; zero means "parse UserAgent"
	Channel   Channel
	Account   Account
}

// Signal is one reason that contributed to an assessment.
type Signal struct {
	Name   string  // e.g. SignalNewDevice
	Value  float64 // how strongly it fired, in [0, 1]
	Weight float64 // its weight in the combination, in [0, 1]
	Reason string  // a short, non-secret explanation for agents and logs
}

// Assessment is the result of scoring a request.
type Assessment struct {
	Score   float64 // in [0, 1]
	Level   Level
	Signals []Signal // the signals that fired (Value > 0), strongest contribution first
	Channel Channel  // copied from the request
}

// Scorer scores a request. Implementations must be safe for concurrent use and must
// fail closed: with a non-nil error they return an Assessment of Level [High].
// [Service] is the built-in Scorer; [Model] (the Freeman model alone) is another, and
// carriers plug their own into Config.Scorers.
type Scorer interface {
	Score(ctx context.Context, req Request) (Assessment, error)
}

var (
	// ErrInvalidRequest is wrapped by every error about a malformed Request.
	ErrInvalidRequest = errors.New("risk: invalid request")
	// ErrFutureTime is returned (wrapping ErrInvalidRequest) when a request or account
	// time lies in the future.
	ErrFutureTime = fmt.Errorf("%w: time in the future", ErrInvalidRequest)
	// ErrInvalidCoordinates is returned (wrapping ErrInvalidRequest) for coordinates out
	// of range or not finite.
	ErrInvalidCoordinates = fmt.Errorf("%w: invalid coordinates", ErrInvalidRequest)
	// ErrScorer wraps an error from a plugged-in Scorer.
	ErrScorer = errors.New("risk: scorer failed")
)

// failClosed is the assessment returned with every error.
func failClosed(ch Channel) Assessment { return Assessment{Score: 1, Level: High, Channel: ch} }

// check validates req against now and fills its defaults. It returns the request time.
func (r *Request) check(now time.Time, skew time.Duration) (time.Time, error) {
	if r.Subscriber == "" {
		return time.Time{}, fmt.Errorf("%w: Subscriber is empty", ErrInvalidRequest)
	}
	if r.Action == "" {
		return time.Time{}, fmt.Errorf("%w: Action is empty", ErrInvalidRequest)
	}
	t := r.Time
	if t.IsZero() {
		t = now
	}
	limit := now.Add(skew)
	if t.After(limit) {
		return time.Time{}, fmt.Errorf("%w: Time %s is after now %s", ErrFutureTime, t.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	for _, f := range []struct {
		name string
		t    time.Time
	}{
		{"Created", r.Account.Created},
		{"PasswordChanged", r.Account.PasswordChanged},
		{"EmailChanged", r.Account.EmailChanged},
		{"ContactChanged", r.Account.ContactChanged},
		{"FactorChanged", r.Account.FactorChanged},
		{"FlagLifted", r.Account.FlagLifted},
		{"SIMChanged", r.Account.SIMChanged},
	} {
		if f.t.After(limit) {
			return time.Time{}, fmt.Errorf("%w: Account.%s is after now", ErrFutureTime, f.name)
		}
	}
	if c := r.Geo.Coordinates; c != nil && !c.Valid() {
		return time.Time{}, fmt.Errorf("%w: (%v, %v); want latitude in [-90, 90] and longitude in [-180, 180]", ErrInvalidCoordinates, c.Lat, c.Lon)
	}
	return t, nil
}
