package risk

import (
	"context"
	"sync"
	"time"
)

// fakeProfiles and fakeGlobal are minimal stores for internal tests; the real ones live
// in store/memory and are tested by store/storetest.
type fakeProfiles struct {
	mu  sync.Mutex
	m   map[string]Profile
	err error
}

func (f *fakeProfiles) LoadProfile(_ context.Context, sub string, dst *Profile) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	p, ok := f.m[sub]
	if !ok {
		return ErrNotFound
	}
	*dst = p
	return nil
}

func (f *fakeProfiles) UpdateProfile(_ context.Context, sub string, fn func(*Profile) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	p := f.m[sub]
	if err := fn(&p); err != nil {
		return err
	}
	if f.m == nil {
		f.m = map[string]Profile{}
	}
	f.m[sub] = p
	return nil
}

func (f *fakeProfiles) PruneProfiles(_ context.Context, before time.Time, keep int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return 0, f.err
	}
	n := 0
	for k, p := range f.m {
		if !p.Established() && p.LastSeen().Before(before) {
			delete(f.m, k)
			n++
		}
	}
	return n, nil
}

type fakeGlobal struct {
	st  GlobalStats
	err error
}

func (f *fakeGlobal) GlobalStats(context.Context, *Keys) (GlobalStats, error) { return f.st, f.err }
func (f *fakeGlobal) AddLogin(context.Context, *Keys, bool) error             { return f.err }
