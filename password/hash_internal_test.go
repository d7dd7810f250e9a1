package password

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/carrierguard/carrierguard/internal/testkey"
	"github.com/carrierguard/carrierguard/keyring"
)

// cheap are argon2id parameters far below the floor, reachable only through newHasher,
// to keep tests that hash many times fast.
var cheap = Params{Memory: 64, Time: 1, Threads: 1}

func cheapHasher(t testing.TB, cfg HasherConfig) *Hasher {
	t.Helper()
	if cfg.Params == (Params{}) {
		cfg.Params = cheap
	}
	h, err := newHasher(cfg, cheap)
	require.NoError(t, err)
	return h
}

var pepper = testkey.New("pepper p1")

func TestHashFormatAndVerify(t *testing.T) {
	ctx := context.Background()
	h, err := NewHasher(HasherConfig{})
	require.NoError(t, err)
	enc, err := h.Hash(ctx, "violet tractor humming")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$"), enc)
	parsed, err := parsePHC(enc)
	require.NoError(t, err)
	assert.Len(t, parsed.salt, saltLen)
	assert.Len(t, parsed.key, keyLen)

	rehash, err := h.Verify(ctx, enc, "violet tractor humming")
	require.NoError(t, err)
	assert.False(t, rehash)
	_, err = h.Verify(ctx, enc, "violet tractor hummin")
	assert.ErrorIs(t, err, ErrMismatch)

	other, err := h.Hash(ctx, "violet tractor humming")
	require.NoError(t, err)
	assert.NotEqual(t, enc, other, "salts must differ")
}

func TestVerifyNormalises(t *testing.T) {
	ctx := context.Background()
	h := cheapHasher(t, HasherConfig{})
	enc, err := h.Hash(ctx, "caf\u00e9 au lait please")
	require.NoError(t, err)
	_, err = h.Verify(ctx, enc, "cafe\u0301 au lait please")
	assert.NoError(t, err, "NFD input must verify against an NFC hash")
}

func TestNeedsRehash(t *testing.T) {
	ctx := context.Background()
	base := cheapHasher(t, HasherConfig{})
	enc, err := base.Hash(ctx, "violet tractor humming")
	require.NoError(t, err)
	stronger := cheapHasher(t, HasherConfig{Params: Params{Memory: 128, Time: 1, Threads: 1}})
	peppered := cheapHasher(t, HasherConfig{Pepper: pepper, PepperID: "p1"})

	assert.False(t, base.NeedsRehash(enc))
	assert.True(t, stronger.NeedsRehash(enc), "new parameters")
	assert.True(t, peppered.NeedsRehash(enc), "pepper added")
	assert.True(t, base.NeedsRehash("not a hash"))

	rehash, err := stronger.Verify(ctx, enc, "violet tractor humming")
	require.NoError(t, err)
	assert.True(t, rehash)

	// A stored hash below the OWASP floor still verifies, and is flagged.
	owasp, err := NewHasher(HasherConfig{})
	require.NoError(t, err)
	rehash, err = owasp.Verify(ctx, enc, "violet tractor humming")
	require.NoError(t, err)
	assert.True(t, rehash, "hash below the OWASP floor must be upgraded")
}

func TestBcryptMigration(t *testing.T) {
	ctx := context.Background()
	h := cheapHasher(t, HasherConfig{Pepper: pepper, PepperID: "p1"})
	legacy, err := bcrypt.GenerateFromPassword([]byte("old Passw0rd from 2015"), bcrypt.MinCost)
	require.NoError(t, err)
	rehash, err := h.Verify(ctx, string(legacy), "old Passw0rd from 2015")
	require.NoError(t, err, "bcrypt hashes are verified without the pepper")
	assert.True(t, rehash)
	_, err = h.Verify(ctx, string(legacy), "old Passw0rd from 2016")
	assert.ErrorIs(t, err, ErrMismatch)

	// A legacy system that hashed NFD bytes still verifies with either form typed.
	nfd, err := bcrypt.GenerateFromPassword([]byte("cafe\u0301 2015"), bcrypt.MinCost)
	require.NoError(t, err)
	_, err = h.Verify(ctx, string(nfd), "cafe\u0301 2015")
	assert.NoError(t, err)

	huge := "$2a$31$" + strings.Repeat("a", 53)
	_, err = h.Verify(ctx, huge, "x")
	assert.ErrorIs(t, err, ErrMalformedHash, "cost 31 would take days")
}

// TestAttackStoredHashAsksForTooMuch: a stored hash (corrupted, or planted by someone
// with write access to one table) that asks for more than the configured maximum —
// up to the 1 GiB the PHC parser accepts, or a slow bcrypt cost — is refused before
// any hashing, so one sign-in cannot take a gigabyte or a minute.
func TestAttackStoredHashAsksForTooMuch(t *testing.T) {
	ctx := context.Background()
	const salt, key = "c2FsdHNhbHRzYWx0c2FsdA", "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	h, err := NewHasher(HasherConfig{})
	require.NoError(t, err)
	assert.Equal(t, Params{Memory: 2 * 19456, Time: 4, Threads: 2}, h.MaxParams(), "default: twice the configured cost")
	var slots atomic.Int32
	h.hook = func(start bool) {
		if start {
			slots.Add(1)
		}
	}
	for _, stored := range []string{
		"$argon2id$v=19$m=1048576,t=2,p=1$" + salt + "$" + key, // 1 GiB
		"$argon2id$v=19$m=38913,t=2,p=1$" + salt + "$" + key,   // just over 2x memory
		"$argon2id$v=19$m=19456,t=5,p=1$" + salt + "$" + key,   // over 2x passes
		"$argon2id$v=19$m=19456,t=64,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=3$" + salt + "$" + key, // over 2x lanes
		"$argon2id$v=19$m=65536,t=2,p=64$" + salt + "$" + key,
		"$2a$13$" + strings.Repeat("a", 53), // bcrypt above DefaultMaxBcryptCost
		"$2b$16$" + strings.Repeat("a", 53),
	} {
		_, err := h.Verify(ctx, stored, "violet tractor humming")
		assert.ErrorIs(t, err, ErrCostTooHigh, stored)
		assert.ErrorIs(t, err, ErrMalformedHash, "it fails closed like a malformed hash: %s", stored)
		assert.NotContains(t, err.Error(), salt)
	}
	assert.Zero(t, slots.Load(), "a refused hash must not take a hashing slot, let alone hash")

	// At the cap it is computed (and here simply does not match).
	cheapBase := cheapHasher(t, HasherConfig{})
	assert.Equal(t, Params{Memory: 128, Time: 2, Threads: 2}, cheapBase.MaxParams())
	atCap := cheapHasher(t, HasherConfig{Params: Params{Memory: 128, Time: 2, Threads: 2}})
	enc, err := atCap.Hash(ctx, "violet tractor humming")
	require.NoError(t, err)
	rehash, err := cheapBase.Verify(ctx, enc, "violet tractor humming")
	require.NoError(t, err, "a hash at twice the cost verifies")
	assert.True(t, rehash)
	over := cheapHasher(t, HasherConfig{Params: Params{Memory: 136, Time: 1, Threads: 1}})
	enc, err = over.Hash(ctx, "violet tractor humming")
	require.NoError(t, err)
	_, err = cheapBase.Verify(ctx, enc, "violet tractor humming")
	assert.ErrorIs(t, err, ErrCostTooHigh, "even the right password: the hash is not computed")

	// A configured maximum replaces the default, field by field.
	wide := cheapHasher(t, HasherConfig{MaxParams: Params{Memory: 256}})
	assert.Equal(t, Params{Memory: 256, Time: 2, Threads: 2}, wide.MaxParams())
	_, err = wide.Verify(ctx, enc, "violet tractor humming")
	assert.NoError(t, err)

	// MaxBcryptCost can be lowered (or raised to 16).
	legacy, err := bcrypt.GenerateFromPassword([]byte("old Passw0rd from 2015"), 5)
	require.NoError(t, err)
	strict := cheapHasher(t, HasherConfig{MaxBcryptCost: 4})
	_, err = strict.Verify(ctx, string(legacy), "old Passw0rd from 2015")
	assert.ErrorIs(t, err, ErrCostTooHigh)
	_, err = cheapBase.Verify(ctx, string(legacy), "old Passw0rd from 2015")
	assert.NoError(t, err)
}

func TestWeakPepperRefused(t *testing.T) {
	_, err := NewHasher(HasherConfig{Pepper: make([]byte, 32), PepperID: "p1"})
	assert.ErrorIs(t, err, keyring.ErrWeakKey)
}

func TestPepper(t *testing.T) {
	ctx := context.Background()
	h := cheapHasher(t, HasherConfig{Pepper: pepper, PepperID: "p1"})
	enc, err := h.Hash(ctx, "violet tractor humming")
	require.NoError(t, err)
	assert.Contains(t, enc, ",keyid=p1$")

	noPepper := cheapHasher(t, HasherConfig{})
	_, err = noPepper.Verify(ctx, enc, "violet tractor humming")
	assert.ErrorIs(t, err, ErrUnknownPepper, "a peppered hash never verifies without its pepper")

	otherPepper := cheapHasher(t, HasherConfig{Pepper: testkey.New("another pepper"), PepperID: "p1"})
	_, err = otherPepper.Verify(ctx, enc, "violet tractor humming")
	assert.ErrorIs(t, err, ErrMismatch, "same ID, different key")

	rotated := cheapHasher(t, HasherConfig{Pepper: testkey.New("pepper p2"), PepperID: "p2", OldPeppers: map[string][]byte{"p1": pepper}})
	rehash, err := rotated.Verify(ctx, enc, "violet tractor humming")
	require.NoError(t, err)
	assert.True(t, rehash, "hash under a retired pepper is upgraded")

	plain, err := noPepper.Hash(ctx, "violet tractor humming")
	require.NoError(t, err)
	rehash, err = h.Verify(ctx, plain, "violet tractor humming")
	require.NoError(t, err, "unpeppered hashes made before the pepper was introduced still verify")
	assert.True(t, rehash)
}

func TestNewHasherValidates(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  HasherConfig
		want string
	}{
		{"memory below floor", HasherConfig{Params: Params{Memory: 19455, Time: 2, Threads: 1}}, "OWASP floor"},
		{"time below floor", HasherConfig{Params: Params{Memory: 65536, Time: 1, Threads: 1}}, "OWASP floor"},
		{"threads zero", HasherConfig{Params: Params{Memory: 65536, Time: 2}}, "OWASP floor"},
		{"memory above cap", HasherConfig{Params: Params{Memory: maxMemoryKiB + 1, Time: 2, Threads: 1}}, "out of range"},
		{"short pepper", HasherConfig{Pepper: []byte("short"), PepperID: "p1"}, "Pepper"},
		{"pepper without ID", HasherConfig{Pepper: pepper}, "PepperID"},
		{"ID without pepper", HasherConfig{PepperID: "p1"}, "PepperID"},
		{"bad ID", HasherConfig{Pepper: pepper, PepperID: "p-1"}, "PepperID"},
		{"old pepper reuses ID", HasherConfig{Pepper: pepper, PepperID: "p1", OldPeppers: map[string][]byte{"p1": pepper}}, "OldPeppers"},
		{"negative concurrency", HasherConfig{Concurrency: -1}, "Concurrency"},
		{"zero pepper", HasherConfig{Pepper: make([]byte, 32), PepperID: "p1"}, "HasherConfig.Pepper: keyring: key material is not random"},
		{"text pepper", HasherConfig{Pepper: []byte("my pepper is a long sentence!!!!"), PepperID: "p1"}, "printable text"},
		{"weak old pepper", HasherConfig{Pepper: pepper, PepperID: "p2", OldPeppers: map[string][]byte{"p1": bytes.Repeat([]byte{7}, 32)}}, `HasherConfig.OldPeppers["p1"]: keyring`},
		{"max memory below params", HasherConfig{MaxParams: Params{Memory: 19455}}, "MaxParams"},
		{"max time below params", HasherConfig{MaxParams: Params{Time: 1}}, "MaxParams"},
		{"max memory above the parser's cap", HasherConfig{MaxParams: Params{Memory: maxMemoryKiB + 1}}, "MaxParams"},
		{"bcrypt cost too high", HasherConfig{MaxBcryptCost: 17}, "MaxBcryptCost"},
		{"bcrypt cost too low", HasherConfig{MaxBcryptCost: 3}, "MaxBcryptCost"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewHasher(tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestHashInputErrors(t *testing.T) {
	h := cheapHasher(t, HasherConfig{})
	for pw, want := range map[string]error{"": ErrEmpty, strings.Repeat("x", MaxBytes+1): ErrTooLong, "\xc0": ErrInvalidUTF8} {
		_, err := h.Hash(context.Background(), pw)
		assert.ErrorIs(t, err, want)
		_, err = h.Verify(context.Background(), "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", pw)
		assert.ErrorIs(t, err, want)
	}
}

// TestConcurrencyLimit runs 200 hashes at once with a limit of 2 and checks that never
// more than 2 run at the same time, and that the limit is actually used.
func TestConcurrencyLimit(t *testing.T) {
	const limit, callers = 2, 200
	h := cheapHasher(t, HasherConfig{Concurrency: limit})
	var running, peak atomic.Int32
	h.hook = func(start bool) {
		if !start {
			running.Add(-1)
			return
		}
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(200 * time.Microsecond) // widen the window for overlap
	}
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := h.Hash(context.Background(), "violet tractor humming")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, peak.Load(), int32(limit), "more hashes ran at once than the limit")
	assert.Equal(t, int32(limit), peak.Load(), "the limit was never reached; the test proves nothing")
	assert.Zero(t, running.Load())
}

func TestConcurrencyHonoursContext(t *testing.T) {
	h := cheapHasher(t, HasherConfig{Concurrency: 1})
	release := make(chan struct{})
	entered := make(chan struct{})
	h.hook = func(start bool) {
		if start {
			close(entered)
			<-release
		}
	}
	go func() { _, _ = h.Hash(context.Background(), "violet tractor humming") }()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := h.Hash(ctx, "violet tractor humming")
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a waiting caller must give up with its context")
	close(release)

	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	_, err = h.Hash(done, "violet tractor humming")
	assert.True(t, errors.Is(err, context.Canceled), "a cancelled context never hashes")
}

func TestParsePHC(t *testing.T) {
	valid := []string{
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=65536,t=3,p=4,keyid=p2026$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
	}
	for _, s := range valid {
		h, err := parsePHC(s)
		require.NoError(t, err, s)
		assert.Equal(t, s, h.String())
	}
	invalid := []string{
		"",
		"$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$t=2,m=19456,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=019456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=+19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=4294967295,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=19456,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=1,keyid=a-b$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=1,data=abc$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA$",
		"$argon2id$v=19$m=8,t=2,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
	}
	for _, s := range invalid {
		_, err := parsePHC(s)
		assert.ErrorIs(t, err, ErrMalformedHash, s)
		if err != nil && len(s) > 20 {
			assert.NotContains(t, err.Error(), s[len(s)-20:], "errors never echo the hash")
		}
	}
}

func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
	f.Add("$argon2id$v=19$m=65536,t=3,p=4,keyid=p2026$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$argon2id$v=19$m=019456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$2b$10$abcdefghijklmnopqrstuu")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parsePHC(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("error %v does not wrap ErrMalformedHash", err)
			}
			return
		}
		if got := h.String(); got != s {
			t.Fatalf("round trip: parsed %q, formatted %q", s, got)
		}
		again, err := parsePHC(h.String())
		if err != nil || again.String() != s {
			t.Fatalf("re-parse failed: %v", err)
		}
	})
}

// FuzzVerifyCost: whatever a stored hash says, Verify never computes one dearer than
// the Hasher allows. Property: if a hashing slot was taken, the stored string parses
// as argon2id within MaxParams or is bcrypt within MaxBcryptCost; a refusal for cost
// wraps ErrCostTooHigh and ErrMalformedHash and takes no slot.
func FuzzVerifyCost(f *testing.F) {
	const salt, key = "c2FsdHNhbHRzYWx0c2FsdA", "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	for _, s := range []string{
		"$argon2id$v=19$m=128,t=2,p=2$" + salt + "$" + key,
		"$argon2id$v=19$m=129,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=3,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=1048576,t=2,p=1$" + salt + "$" + key,
		"$2a$04$" + strings.Repeat("a", 53),
		"$2a$05$" + strings.Repeat("a", 53),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := newHasher(HasherConfig{Params: cheap, MaxBcryptCost: 4}, cheap)
		if err != nil {
			t.Fatal(err)
		}
		var took bool
		h.hook = func(start bool) { took = took || start }
		_, err = h.Verify(context.Background(), s, "violet tractor humming")
		if errors.Is(err, ErrCostTooHigh) {
			if took || !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("refused for cost after hashing (%v) or not as malformed: %v", took, err)
			}
			return
		}
		if !took {
			return
		}
		if isBcrypt(s) {
			if cost, err := bcrypt.Cost([]byte(s)); err != nil || cost > h.maxBcrypt {
				t.Fatalf("computed bcrypt cost %d (%v), above %d", cost, err, h.maxBcrypt)
			}
			return
		}
		p, err := parsePHC(s)
		if err != nil {
			t.Fatalf("hashed an unparsable hash: %v", err)
		}
		if p.memory > h.max.Memory || p.time > h.max.Time || p.threads > h.max.Threads {
			t.Fatalf("computed m=%d t=%d p=%d, above MaxParams %+v", p.memory, p.time, p.threads, h.max)
		}
	})
}
