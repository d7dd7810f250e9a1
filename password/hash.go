package password

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/keyring"
)

// Params are argon2id cost parameters.
type Params struct {
	// Memory in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism (lanes).
	Threads uint8
}

// OWASPParams returns the OWASP Password Storage Cheat Sheet minimum for argon2id:
// 19 MiB of memory, 2 passes, 1 lane. It is the default and the floor: a Hasher
// cannot be configured below it, and stored hashes below it are upgraded at the
// next sign-in.
func OWASPParams() Params { return Params{Memory: 19456, Time: 2, Threads: 1} }

const (
	saltLen = 16
	keyLen  = 32
	// DefaultMaxBcryptCost is the highest bcrypt cost a Hasher verifies by default:
	// the defaults of common legacy systems (10 and 12) pass, and one verification
	// stays near a quarter of a second.
	DefaultMaxBcryptCost = 12
	// minPepperLen is the shortest pepper accepted.
	minPepperLen = 32
)

// ErrCostTooHigh is returned (wrapped) by Verify for a stored hash whose cost is above
// what the Hasher agrees to compute: argon2id parameters above HasherConfig.MaxParams,
// or a bcrypt cost above HasherConfig.MaxBcryptCost. It is refused before any hashing,
// so a corrupted or planted hash cannot make one sign-in take a gigabyte or a minute.
// It wraps ErrMalformedHash, so it fails closed wherever a malformed hash does.
var ErrCostTooHigh = fmt.Errorf("%w: cost above the configured maximum", ErrMalformedHash)

// HasherConfig configures a Hasher. The zero value hashes with OWASPParams, no
// pepper, and at most GOMAXPROCS hashes at a time, and verifies stored hashes that
// cost at most twice as much as its own.
type HasherConfig struct {
	// Params are the argon2id parameters for new hashes. The zero value means
	// OWASPParams; each field must be at least OWASPParams' (the floor).
	Params Params
	// MaxParams caps the argon2id parameters a stored hash may ask for: a hash with
	// more memory, passes or lanes than this is refused with ErrCostTooHigh before
	// any work, so each verification costs at most MaxParams and memory is bounded
	// by Concurrency × MaxParams.Memory. Each zero field means twice the Params field
	// (memory, time and threads alike; the default for OWASPParams is 38 MiB, 4
	// passes, 2 lanes); a set field must be at least the Params field. Raise it
	// before raising Params across a fleet, so replicas still on the old Params
	// verify the new hashes.
	MaxParams Params
	// MaxBcryptCost is the highest cost of a legacy bcrypt hash that Verify agrees to
	// compute; a higher one is refused with ErrCostTooHigh before any work. Zero
	// means DefaultMaxBcryptCost (12); at most 16.
	MaxBcryptCost int `validate:"omitempty,min=4,max=16"` // 16 is seconds per verification
	// Pepper, if set, is a secret key (at least 32 bytes, kept outside the password
	// database, for example in a KMS) mixed into every new hash: the password is
	// replaced by HMAC-SHA-256(Pepper, password) before argon2id. A stolen database
	// is then useless without the pepper. Legacy bcrypt hashes are not peppered; see
	// the package doc.
	Pepper []byte
	// PepperID names Pepper inside each hash (the PHC keyid parameter): 1-11 ASCII
	// letters or digits. Required with Pepper.
	PepperID string
	// OldPeppers holds retired peppers by ID, so that hashes made with them still
	// verify (and are upgraded to Pepper at the next sign-in).
	OldPeppers map[string][]byte
	// Concurrency is the most hashes computed at once; each takes Params.Memory of
	// RAM (a stored hash at most MaxParams.Memory), so this bounds the memory a burst
	// of sign-ins can use. Callers beyond it
	// wait, honouring their context. Zero means GOMAXPROCS.
	Concurrency int `validate:"gte=0"`
	// Rand is the salt source. Nil means crypto/rand.Reader.
	Rand io.Reader
}

// Hasher hashes passwords with argon2id in PHC string format and verifies argon2id
// and legacy bcrypt hashes. It is safe for concurrent use.
type Hasher struct {
	params    Params
	max       Params // the most a stored argon2id hash may ask for
	maxBcrypt int
	pepper    []byte
	pepperID  string
	peppers   map[string][]byte
	sem       chan struct{}
	rand      io.Reader

	// hook, if set (tests only), is called with true after a slot is taken and with
	// false before it is given back.
	hook func(start bool)
}

// NewHasher validates cfg and returns a Hasher.
func NewHasher(cfg HasherConfig) (*Hasher, error) {
	return newHasher(cfg, OWASPParams())
}

// newHasher is NewHasher with a chosen floor; only tests lower it, to keep
// concurrency tests fast. No exported path reaches it.
func newHasher(cfg HasherConfig, floor Params) (*Hasher, error) {
	if err := validate.Struct("password", cfg); err != nil {
		return nil, err
	}
	p := cfg.Params
	if p == (Params{}) {
		p = OWASPParams()
	}
	if p.Memory < floor.Memory || p.Time < floor.Time || p.Threads < floor.Threads {
		return nil, validate.Errorf("password", "HasherConfig.Params %+v is below the OWASP floor %+v; raise it or leave it zero", p, floor)
	}
	if p.Memory > maxMemoryKiB || p.Time > maxTime || p.Threads > maxThreads || p.Memory < 8*uint32(p.Threads) {
		return nil, validate.Errorf("password", "HasherConfig.Params %+v is out of range (Memory <= %d KiB, Time <= %d, Threads <= %d)", p, maxMemoryKiB, maxTime, maxThreads)
	}
	maxP, err := maxParams(p, cfg.MaxParams)
	if err != nil {
		return nil, err
	}
	h := &Hasher{params: p, max: maxP, maxBcrypt: cfg.MaxBcryptCost, rand: cfg.Rand, peppers: map[string][]byte{}}
	if h.maxBcrypt == 0 {
		h.maxBcrypt = DefaultMaxBcryptCost
	}
	if h.rand == nil {
		h.rand = rand.Reader
	}
	n := cfg.Concurrency
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	h.sem = make(chan struct{}, n)
	switch {
	case len(cfg.Pepper) == 0 && cfg.PepperID != "":
		return nil, validate.Errorf("password", "HasherConfig.PepperID is set without a Pepper")
	case len(cfg.Pepper) > 0:
		if len(cfg.Pepper) < minPepperLen {
			return nil, validate.Errorf("password", "HasherConfig.Pepper must be at least %d bytes", minPepperLen)
		}
		if err := keyring.CheckKeyMaterial(cfg.Pepper); err != nil {
			return nil, validate.Field("password", "HasherConfig.Pepper", err)
		}
		if !validKeyID(cfg.PepperID) {
			return nil, validate.Errorf("password", "HasherConfig.PepperID must be 1-%d ASCII letters or digits", maxKeyIDLen)
		}
		h.pepperID = cfg.PepperID
		h.pepper = append([]byte(nil), cfg.Pepper...)
		h.peppers[h.pepperID] = h.pepper
	}
	for id, k := range cfg.OldPeppers {
		if !validKeyID(id) || len(k) < minPepperLen {
			return nil, validate.Errorf("password", "HasherConfig.OldPeppers[%q] needs an ID of 1-%d letters or digits and at least %d bytes", id, maxKeyIDLen, minPepperLen)
		}
		if id == h.pepperID {
			return nil, validate.Errorf("password", "HasherConfig.OldPeppers[%q] reuses the current PepperID", id)
		}
		if err := keyring.CheckKeyMaterial(k); err != nil {
			return nil, validate.Field("password", fmt.Sprintf("HasherConfig.OldPeppers[%q]", id), err)
		}
		h.peppers[id] = append([]byte(nil), k...)
	}
	return h, nil
}

// maxParams fills the zero fields of set with twice p's, capped at what the PHC parser
// accepts, and checks that every field admits p itself.
func maxParams(p, set Params) (Params, error) {
	m := set
	if m.Memory == 0 {
		m.Memory = min(2*p.Memory, maxMemoryKiB)
	}
	if m.Time == 0 {
		m.Time = min(2*p.Time, maxTime)
	}
	if m.Threads == 0 {
		m.Threads = min(2*p.Threads, maxThreads)
	}
	if m.Memory < p.Memory || m.Time < p.Time || m.Threads < p.Threads {
		return Params{}, validate.Errorf("password", "HasherConfig.MaxParams %+v is below Params %+v: the Hasher could not verify its own hashes", m, p)
	}
	if m.Memory > maxMemoryKiB || m.Time > maxTime || m.Threads > maxThreads {
		return Params{}, validate.Errorf("password", "HasherConfig.MaxParams %+v is out of range (Memory <= %d KiB, Time <= %d, Threads <= %d)", m, maxMemoryKiB, maxTime, maxThreads)
	}
	return m, nil
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// MaxParams returns the most a stored argon2id hash may ask for (HasherConfig.MaxParams
// with its defaults filled in).
func (h *Hasher) MaxParams() Params { return h.max }

// Hash normalises the password (see Normalize) and returns its argon2id hash in PHC
// string format. It waits for a free hashing slot, or returns ctx.Err().
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	pw, err := Normalize(password)
	if err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(h.rand, salt); err != nil {
		return "", fmt.Errorf("password: reading salt: %w", err)
	}
	out := phc{memory: h.params.Memory, time: h.params.Time, threads: h.params.Threads, keyID: h.pepperID, salt: salt}
	err = h.slot(ctx, func() {
		out.key = argon2.IDKey(h.input(pw, h.pepper), salt, out.time, out.memory, out.threads, keyLen)
	})
	if err != nil {
		return "", err
	}
	return out.String(), nil
}

// Verify checks password against an encoded hash: an argon2id PHC string or a legacy
// bcrypt hash ($2a$, $2b$, $2y$). It returns nil on a match and ErrMismatch
// otherwise; ErrMalformedHash, ErrUnknownPepper and ctx errors fail closed. A hash
// that costs more than HasherConfig.MaxParams or MaxBcryptCost allow gets
// ErrCostTooHigh (an ErrMalformedHash) without any hashing.
// needsRehash is true after a match when the hash should be replaced by Hash's output:
// it is bcrypt, or its parameters, lengths or pepper differ from this Hasher's.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (needsRehash bool, err error) {
	pw, err := Normalize(password)
	if err != nil {
		return false, err
	}
	if isBcrypt(encoded) {
		err := h.verifyBcrypt(ctx, encoded, password, pw)
		return err == nil, err
	}
	stored, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	if stored.memory > h.max.Memory || stored.time > h.max.Time || stored.threads > h.max.Threads {
		return false, fmt.Errorf("%w: argon2id parameters above HasherConfig.MaxParams (m<=%d, t<=%d, p<=%d)",
			ErrCostTooHigh, h.max.Memory, h.max.Time, h.max.Threads)
	}
	var pepper []byte
	if stored.keyID != "" {
		if pepper = h.peppers[stored.keyID]; pepper == nil {
			return false, fmt.Errorf("%w %q", ErrUnknownPepper, stored.keyID)
		}
	}
	var got []byte
	err = h.slot(ctx, func() {
		got = argon2.IDKey(h.input(pw, pepper), stored.salt, stored.time, stored.memory, stored.threads, uint32(len(stored.key)))
	})
	if err != nil {
		return false, err
	}
	if subtle.ConstantTimeCompare(got, stored.key) != 1 {
		return false, ErrMismatch
	}
	return h.needsRehash(stored), nil
}

// NeedsRehash reports whether an encoded hash should be replaced by a new Hash: it is
// bcrypt, malformed, or made with other parameters or another (or no) pepper.
func (h *Hasher) NeedsRehash(encoded string) bool {
	if isBcrypt(encoded) {
		return true
	}
	stored, err := parsePHC(encoded)
	return err != nil || h.needsRehash(stored)
}

func (h *Hasher) needsRehash(s phc) bool {
	return s.memory != h.params.Memory || s.time != h.params.Time || s.threads != h.params.Threads ||
		len(s.salt) != saltLen || len(s.key) != keyLen || s.keyID != h.pepperID
}

// verifyBcrypt checks a legacy hash. Legacy systems hashed the password as typed, with
// no pepper and no normalisation, so the raw input is tried first and then its NFC form.
func (h *Hasher) verifyBcrypt(ctx context.Context, encoded, raw, nfc string) error {
	cost, err := bcrypt.Cost([]byte(encoded))
	if err != nil {
		return fmt.Errorf("%w: bcrypt hash unreadable", ErrMalformedHash)
	}
	if cost > h.maxBcrypt {
		return fmt.Errorf("%w: bcrypt cost above HasherConfig.MaxBcryptCost (%d)", ErrCostTooHigh, h.maxBcrypt)
	}
	candidates := []string{raw}
	if nfc != raw {
		candidates = append(candidates, nfc)
	}
	for _, c := range candidates {
		var cmpErr error
		if err := h.slot(ctx, func() { cmpErr = bcrypt.CompareHashAndPassword([]byte(encoded), []byte(c)) }); err != nil {
			return err
		}
		switch {
		case cmpErr == nil:
			return nil
		case !errors.Is(cmpErr, bcrypt.ErrMismatchedHashAndPassword):
			return fmt.Errorf("%w: bcrypt: %v", ErrMalformedHash, cmpErr)
		}
	}
	return ErrMismatch
}

func isBcrypt(s string) bool {
	return strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")
}

// input is what argon2id hashes: the normalised password, or its HMAC under the pepper.
func (h *Hasher) input(pw string, pepper []byte) []byte {
	if pepper == nil {
		return []byte(pw)
	}
	m := hmac.New(sha256.New, pepper)
	m.Write([]byte(pw))
	return m.Sum(nil)
}

// slot runs fn while holding one of the Concurrency hashing slots, waiting for one
// until ctx is done.
func (h *Hasher) slot(ctx context.Context, fn func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-h.sem }()
	if h.hook != nil {
		h.hook(true)
		defer h.hook(false)
	}
	fn()
	return nil
}

// burn spends the same work as verifying against a current hash, so that a sign-in for
// an unknown subscriber takes as long as one for a known subscriber.
func (h *Hasher) burn(ctx context.Context, password string) {
	salt := make([]byte, saltLen)
	_ = h.slot(ctx, func() {
		_ = argon2.IDKey(h.input(password, h.pepper), salt, h.params.Time, h.params.Memory, h.params.Threads, keyLen)
	})
}
