package keyring

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/carrierguard/carrierguard/internal/validate"
)

const (
	formatVersion = 0x01
	headerLen     = 1 + 4
	nonceLen      = chacha20poly1305.NonceSizeX
	// Overhead is the number of bytes a sealed value adds to its plaintext.
	Overhead = headerLen + nonceLen + chacha20poly1305.Overhead
	// KeySize is the length of a key's secret in bytes.
	KeySize = chacha20poly1305.KeySize
)

// Key is one key of a [Local] keyring.
type Key struct {
	// ID identifies the key inside every ciphertext it seals. It must be non-zero and
	// unique within the keyring, and never reused for a different secret.
	ID uint32 `validate:"required"`
	// Secret is the 32-byte key, usually decoded from base64 configuration. It must look
	// random: [CheckKeyMaterial] refuses placeholders such as all zeros or text.
	Secret []byte `validate:"required,len=32"`
}

// Config configures a [Local] keyring.
type Config struct {
	// Keys are all the keys the keyring can open with. At least one is required.
	Keys []Key `validate:"required,min=1,dive"`
	// Primary is the ID of the key that seals new values. Zero means the only key, and is
	// an error when there are several.
	Primary uint32
	// Rand is the source of nonces. Nil means crypto/rand.Reader.
	Rand io.Reader
}

// Local is a [Keyring] on XChaCha20-Poly1305 with keys held in process memory.
// It is safe for concurrent use.
type Local struct {
	aeads   map[uint32]cipher.AEAD
	primary uint32
	rand    io.Reader
}

var _ Keyring = (*Local)(nil)

// NewLocal validates cfg and returns a keyring. It copies the key secrets. A secret
// that is plainly not random (see [CheckKeyMaterial]) is refused with an error wrapping
// both validate's invalid-config error and [ErrWeakKey].
func NewLocal(cfg Config) (*Local, error) {
	if err := validate.Struct("keyring", cfg); err != nil {
		return nil, err
	}
	l := &Local{aeads: make(map[uint32]cipher.AEAD, len(cfg.Keys)), primary: cfg.Primary, rand: cfg.Rand}
	for i, k := range cfg.Keys {
		if _, dup := l.aeads[k.ID]; dup {
			return nil, validate.Errorf("keyring", "Config.Keys[%d].ID %d is a duplicate: every key needs its own ID", i, k.ID)
		}
		if err := CheckKeyMaterial(k.Secret); err != nil {
			return nil, validate.Field("keyring", fmt.Sprintf("Config.Keys[%d].Secret (ID %d)", i, k.ID), err)
		}
		aead, err := chacha20poly1305.NewX(append([]byte(nil), k.Secret...))
		if err != nil {
			return nil, validate.Errorf("keyring", "Config.Keys[%d].Secret: %v", i, err)
		}
		l.aeads[k.ID] = aead
	}
	if l.primary == 0 {
		if len(cfg.Keys) > 1 {
			return nil, validate.Errorf("keyring", "Config.Primary is required when there are %d keys: set it to the ID that should seal new values", len(cfg.Keys))
		}
		l.primary = cfg.Keys[0].ID
	}
	if _, ok := l.aeads[l.primary]; !ok {
		return nil, validate.Errorf("keyring", "Config.Primary %d is not among Config.Keys", l.primary)
	}
	if l.rand == nil {
		l.rand = rand.Reader
	}
	return l, nil
}

// ParseKeys parses keys written as "ID:BASE64" pairs separated by commas, such as
// "1:q83v...=,2:3q2+...=", the form suited to an environment variable or a secret
// manager entry. Base64 may be standard or URL-safe, padded or not. Each decoded
// secret must pass [CheckKeyMaterial]: the base64 of "000…" or of a password decodes
// to text and is refused. Errors name the entry but never echo the secret.
func ParseKeys(spec string) ([]Key, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, validate.Errorf("keyring", "key list is empty: want \"ID:BASE64KEY[,ID:BASE64KEY...]\"")
	}
	entries := strings.Split(spec, ",")
	keys := make([]Key, 0, len(entries))
	for i, e := range entries {
		idStr, secret, ok := strings.Cut(strings.TrimSpace(e), ":")
		if !ok {
			return nil, validate.Errorf("keyring", "key entry %d has no \"ID:\" prefix", i+1)
		}
		id, err := strconv.ParseUint(idStr, 10, 32)
		if err != nil || id == 0 {
			return nil, validate.Errorf("keyring", "key entry %d: ID %q must be a number from 1 to %d", i+1, redact(idStr), uint32(1<<32-1))
		}
		b, err := decodeBase64(secret)
		if err != nil {
			return nil, validate.Errorf("keyring", "key entry %d (ID %d): secret is not valid base64", i+1, id)
		}
		if len(b) != KeySize {
			return nil, validate.Errorf("keyring", "key entry %d (ID %d): secret is %d bytes, want %d (generate one with: head -c 32 /dev/urandom | base64)", i+1, id, len(b), KeySize)
		}
		if err := CheckKeyMaterial(b); err != nil {
			return nil, validate.Field("keyring", fmt.Sprintf("key entry %d (ID %d)", i+1, id), err)
		}
		keys = append(keys, Key{ID: uint32(id), Secret: b})
	}
	return keys, nil
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// GenerateKey returns a new random key secret of [KeySize] bytes from crypto/rand. It
// never returns a key that [CheckKeyMaterial] refuses (the odds of drawing one are
// below 10^-13; such a draw is simply repeated).
func GenerateKey() ([]byte, error) {
	k := make([]byte, KeySize)
	for {
		if _, err := io.ReadFull(rand.Reader, k); err != nil {
			return nil, fmt.Errorf("keyring: generate key: %w", err)
		}
		if CheckKeyMaterial(k) == nil {
			return k, nil
		}
	}
}

// Primary returns the ID of the key that seals new values.
func (l *Local) Primary() uint32 { return l.primary }

// Seal encrypts plaintext under the primary key, binding it to associatedData.
func (l *Local) Seal(ctx context.Context, plaintext, associatedData []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return l.sealWith(l.primary, plaintext, associatedData)
}

func (l *Local) sealWith(id uint32, plaintext, associatedData []byte) ([]byte, error) {
	aead := l.aeads[id]
	out := make([]byte, headerLen+nonceLen, Overhead+len(plaintext))
	out[0] = formatVersion
	binary.BigEndian.PutUint32(out[1:headerLen], id)
	if _, err := io.ReadFull(l.rand, out[headerLen:]); err != nil {
		return nil, fmt.Errorf("keyring: read nonce: %w", err)
	}
	return aead.Seal(out, out[headerLen:], plaintext, additional(out[:headerLen], associatedData)), nil
}

// additional authenticates the header together with the caller's associated data.
// The header has a fixed length, so the concatenation is unambiguous.
func additional(header, associatedData []byte) []byte {
	ad := make([]byte, 0, len(header)+len(associatedData))
	ad = append(ad, header...)
	return append(ad, associatedData...)
}

// Open decrypts a value sealed by this keyring (under any of its keys) with the same
// associated data. Every failure wraps [ErrOpen].
func (l *Local) Open(ctx context.Context, sealed, associatedData []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	id, err := KeyID(sealed)
	if err != nil {
		return nil, err
	}
	aead, ok := l.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w %d", ErrUnknownKey, id)
	}
	nonce := sealed[headerLen : headerLen+nonceLen]
	pt, err := aead.Open(nil, nonce, sealed[headerLen+nonceLen:], additional(sealed[:headerLen], associatedData))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrOpen)
	}
	return pt, nil
}

// Reseal opens sealed and, if it was sealed under a key other than the primary, seals it
// again under the primary key. It reports whether the value changed; an unchanged value
// is returned as given. Use it to migrate stored values after a rotation.
func (l *Local) Reseal(ctx context.Context, sealed, associatedData []byte) ([]byte, bool, error) {
	id, err := KeyID(sealed)
	if err != nil {
		return nil, false, err
	}
	if id == l.primary {
		// Still authenticate, so a caller never writes back something unreadable.
		if _, err := l.Open(ctx, sealed, associatedData); err != nil {
			return nil, false, err
		}
		return sealed, false, nil
	}
	pt, err := l.Open(ctx, sealed, associatedData)
	if err != nil {
		return nil, false, err
	}
	out, err := l.sealWith(l.primary, pt, associatedData)
	clear(pt)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// KeyID reports which key sealed a value, without opening it. It fails with [ErrOpen]
// for values too short to be sealed or of an unknown format version.
func KeyID(sealed []byte) (uint32, error) {
	if len(sealed) < Overhead {
		return 0, fmt.Errorf("%w: too short", ErrOpen)
	}
	if sealed[0] != formatVersion {
		return 0, fmt.Errorf("%w: unknown format version %d", ErrOpen, sealed[0])
	}
	return binary.BigEndian.Uint32(sealed[1:headerLen]), nil
}
