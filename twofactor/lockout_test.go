package twofactor

import (
	"errors"
	"testing"
	"time"
)

func TestLockoutPolicyUntil(t *testing.T) {
	last := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p := LockoutPolicy{} // zero: the defaults
	tests := []struct {
		n    int
		d    time.Duration // lockout length from last; 0 = none
		hard bool
	}{
		{0, 0, false}, {1, 0, false}, {4, 0, false},
		{5, 15 * time.Minute, false}, {6, 0, false}, {9, 0, false},
		{10, 30 * time.Minute, false}, {15, time.Hour, false}, {20, 2 * time.Hour, false},
		{40, 24 * time.Hour, false}, // 15m·2^7 = 32h, capped
		{95, 24 * time.Hour, false}, {99, 0, false},
		{100, 0, true}, {250, 0, true},
	}
	for _, tt := range tests {
		until, hard := p.Until(Failures{Count: tt.n, Last: last})
		var want time.Time
		if tt.d > 0 {
			want = last.Add(tt.d)
		}
		if !until.Equal(want) || hard != tt.hard {
			t.Errorf("Until(%d) = %v, %v; want %v, %v", tt.n, until, hard, want, tt.hard)
		}
	}
}

func TestLockoutPolicyLocked(t *testing.T) {
	last := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p := LockoutPolicy{Threshold: 3, Base: time.Minute, MaxLockout: 4 * time.Minute, HardLimit: 10}
	tests := []struct {
		n      int
		at     time.Duration
		locked bool
		hard   bool
	}{
		{2, 0, false, false},
		{3, 59 * time.Second, true, false},
		{3, time.Minute, false, false}, // a lockout ends exactly at Until
		{4, 0, false, false},           // tried again after the first lockout ended
		{6, 119 * time.Second, true, false},
		{9, 4*time.Minute - 1, true, false}, // 1m·2² = 4m, the cap
		{9, 4 * time.Minute, false, false},
		{10, 1000 * time.Hour, true, true},
	}
	for _, tt := range tests {
		err := p.Locked(Failures{Count: tt.n, Last: last}, last.Add(tt.at))
		var le *LockedError
		if got := errors.As(err, &le); got != tt.locked {
			t.Errorf("Locked(%d at +%v) = %v, want locked=%v", tt.n, tt.at, err, tt.locked)
			continue
		}
		if tt.locked && (le.Hard != tt.hard || !errors.Is(err, ErrLocked)) {
			t.Errorf("Locked(%d) = %+v, want hard=%v and ErrLocked", tt.n, le, tt.hard)
		}
	}
}

func TestLockoutStarts(t *testing.T) {
	p := DefaultLockoutPolicy
	var got []int
	for n := 1; n <= 120; n++ {
		if p.starts(n) {
			got = append(got, n)
		}
	}
	if len(got) != 20 || got[0] != 5 || got[18] != 95 || got[19] != 100 {
		t.Errorf("lockouts start at %v, want 5, 10, …, 95, 100", got)
	}
}
