package keyring_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/testkey"
	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/keyring"
)

// key returns a keyring key whose secret is derived from seed: the same seed gives the
// same secret.
func key(id uint32, seed byte) keyring.Key {
	return keyring.Key{ID: id, Secret: testkey.New(fmt.Sprint("keyring ", seed))}
}

func newLocal(t testing.TB, primary uint32, keys ...keyring.Key) *keyring.Local {
	t.Helper()
	kr, err := keyring.NewLocal(keyring.Config{Keys: keys, Primary: primary})
	require.NoError(t, err)
	return kr
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	kr := newLocal(t, 0, key(7, 1))
	ad := keyring.AssociatedData("totp-seed", "sub-1")
	for _, pt := range [][]byte{{}, []byte("x"), bytes.Repeat([]byte("seed"), 100)} {
		sealed, err := kr.Seal(ctx, pt, ad)
		require.NoError(t, err)
		assert.Len(t, sealed, len(pt)+keyring.Overhead)
		if len(pt) >= 8 { // a shorter plaintext can turn up in random bytes by chance
			assert.False(t, bytes.Contains(sealed, pt), "plaintext visible in sealed value")
		}
		id, err := keyring.KeyID(sealed)
		require.NoError(t, err)
		assert.Equal(t, uint32(7), id)
		got, err := kr.Open(ctx, sealed, ad)
		require.NoError(t, err)
		assert.Equal(t, string(pt), string(got))
	}
}

func TestSealIsRandomised(t *testing.T) {
	kr := newLocal(t, 0, key(1, 1))
	a, err := kr.Seal(context.Background(), []byte("same"), nil)
	require.NoError(t, err)
	b, err := kr.Seal(context.Background(), []byte("same"), nil)
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
}

func TestRotation(t *testing.T) {
	ctx := context.Background()
	ad := keyring.AssociatedData("answer", "sub-1", "q-3", "v1")
	old := newLocal(t, 0, key(1, 1))
	sealed, err := old.Seal(ctx, []byte("blue whale"), ad)
	require.NoError(t, err)

	rotated := newLocal(t, 2, key(1, 1), key(2, 2))
	got, err := rotated.Open(ctx, sealed, ad)
	require.NoError(t, err, "old ciphertext must still open after rotation")
	assert.Equal(t, "blue whale", string(got))

	moved, changed, err := rotated.Reseal(ctx, sealed, ad)
	require.NoError(t, err)
	assert.True(t, changed)
	id, _ := keyring.KeyID(moved)
	assert.Equal(t, uint32(2), id)
	got, err = rotated.Open(ctx, moved, ad)
	require.NoError(t, err)
	assert.Equal(t, "blue whale", string(got))

	again, changed, err := rotated.Reseal(ctx, moved, ad)
	require.NoError(t, err)
	assert.False(t, changed)
	assert.Equal(t, moved, again)

	// Once key 1 is retired, only the moved value opens.
	retired := newLocal(t, 0, key(2, 2))
	_, err = retired.Open(ctx, sealed, ad)
	assert.ErrorIs(t, err, keyring.ErrUnknownKey)
	assert.ErrorIs(t, err, keyring.ErrOpen)
	_, err = retired.Open(ctx, moved, ad)
	assert.NoError(t, err)
}

func TestResealRejectsWrongAssociatedData(t *testing.T) {
	ctx := context.Background()
	kr := newLocal(t, 2, key(1, 1), key(2, 2))
	old := newLocal(t, 0, key(1, 1))
	sealed, err := old.Seal(ctx, []byte("x"), []byte("a"))
	require.NoError(t, err)
	_, _, err = kr.Reseal(ctx, sealed, []byte("b"))
	assert.ErrorIs(t, err, keyring.ErrOpen)
	primary, err := kr.Seal(ctx, []byte("x"), []byte("a"))
	require.NoError(t, err)
	_, _, err = kr.Reseal(ctx, primary, []byte("b"))
	assert.ErrorIs(t, err, keyring.ErrOpen)
}

func TestWrongAssociatedData(t *testing.T) {
	ctx := context.Background()
	kr := newLocal(t, 0, key(1, 1))
	sealed, err := kr.Seal(ctx, []byte("answer"), keyring.AssociatedData("answer", "sub-1"))
	require.NoError(t, err)
	for _, ad := range [][]byte{
		nil,
		keyring.AssociatedData("answer", "sub-2"),
		keyring.AssociatedData("totp-seed", "sub-1"),
		keyring.AssociatedData("answe", "rsub-1"),
	} {
		_, err := kr.Open(ctx, sealed, ad)
		assert.ErrorIs(t, err, keyring.ErrOpen, "ad %q", ad)
	}
}

func TestAssociatedDataIsUnambiguous(t *testing.T) {
	assert.NotEqual(t, keyring.AssociatedData("ab", "c"), keyring.AssociatedData("a", "bc"))
	assert.NotEqual(t, keyring.AssociatedData("a"), keyring.AssociatedData("a", ""))
}

func TestTamperEveryByte(t *testing.T) {
	ctx := context.Background()
	kr := newLocal(t, 2, key(1, 1), key(2, 2))
	ad := []byte("ad")
	sealed, err := kr.Seal(ctx, []byte("secret seed"), ad)
	require.NoError(t, err)
	for i := range sealed {
		for _, flip := range []byte{0x01, 0x80, 0xff} {
			bad := append([]byte(nil), sealed...)
			bad[i] ^= flip
			_, err := kr.Open(ctx, bad, ad)
			assert.ErrorIs(t, err, keyring.ErrOpen, "byte %d flip %#x opened", i, flip)
		}
	}
	for n := range len(sealed) {
		_, err := kr.Open(ctx, sealed[:n], ad)
		assert.ErrorIs(t, err, keyring.ErrOpen, "truncated to %d", n)
	}
	_, err = kr.Open(ctx, append(append([]byte(nil), sealed...), 0), ad)
	assert.ErrorIs(t, err, keyring.ErrOpen, "extended")
}

func TestKeyIDSwapIsDetected(t *testing.T) {
	// Keys 1 and 2 share a secret: only the authenticated header tells them apart.
	ctx := context.Background()
	kr := newLocal(t, 1, key(1, 9), key(2, 9))
	sealed, err := kr.Seal(ctx, []byte("x"), nil)
	require.NoError(t, err)
	sealed[4] = 2
	_, err = kr.Open(ctx, sealed, nil)
	assert.ErrorIs(t, err, keyring.ErrOpen)
}

func TestForeignKeyring(t *testing.T) {
	ctx := context.Background()
	a := newLocal(t, 0, key(1, 1))
	b := newLocal(t, 0, key(1, 2))
	sealed, err := a.Seal(ctx, []byte("x"), nil)
	require.NoError(t, err)
	_, err = b.Open(ctx, sealed, nil)
	assert.ErrorIs(t, err, keyring.ErrOpen)
	assert.NotErrorIs(t, err, keyring.ErrUnknownKey)
}

func TestCanceledContext(t *testing.T) {
	kr := newLocal(t, 0, key(1, 1))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := kr.Seal(ctx, []byte("x"), nil)
	assert.ErrorIs(t, err, context.Canceled)
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy exhausted") }

func TestNonceFailure(t *testing.T) {
	kr, err := keyring.NewLocal(keyring.Config{Keys: []keyring.Key{key(1, 1)}, Rand: failingReader{}})
	require.NoError(t, err)
	_, err = kr.Seal(context.Background(), []byte("x"), nil)
	assert.ErrorContains(t, err, "entropy exhausted")
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  keyring.Config
		want string
	}{
		{"no keys", keyring.Config{}, "Config.Keys is required"},
		{"zero id", keyring.Config{Keys: []keyring.Key{key(0, 1)}}, "Config.Keys[0].ID is required"},
		{"short secret", keyring.Config{Keys: []keyring.Key{{ID: 1, Secret: []byte("short")}}}, "Config.Keys[0].Secret must have length 32"},
		{"duplicate", keyring.Config{Keys: []keyring.Key{key(1, 1), key(1, 2)}, Primary: 1}, "Config.Keys[1].ID 1 is a duplicate"},
		{"primary missing", keyring.Config{Keys: []keyring.Key{key(1, 1)}, Primary: 3}, "Config.Primary 3 is not among Config.Keys"},
		{"primary ambiguous", keyring.Config{Keys: []keyring.Key{key(1, 1), key(2, 2)}}, "Config.Primary is required when there are 2 keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keyring.NewLocal(tt.cfg)
			require.Error(t, err)
			assert.ErrorIs(t, err, validate.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestParseKeys(t *testing.T) {
	secret := append([]byte{0xfb, 0xff, 0xff}, testkey.New("parse")[3:]...) // "+///" in std base64, "-___" in URL form
	std := base64.StdEncoding.EncodeToString(secret)
	url := base64.RawURLEncoding.EncodeToString(secret)
	keys, err := keyring.ParseKeys(" 1:" + std + " , 2:" + url)
	require.NoError(t, err)
	require.Len(t, keys, 2)
	assert.Equal(t, uint32(1), keys[0].ID)
	assert.Equal(t, secret, keys[0].Secret)
	assert.Equal(t, uint32(2), keys[1].ID)
	assert.Equal(t, secret, keys[1].Secret)

	short := base64.StdEncoding.EncodeToString([]byte("sixteen bytes!!!"))
	bad := []struct{ spec, want string }{
		{"", "key list is empty"},
		{std, "key entry 1 has no \"ID:\" prefix"},
		{"x:" + std, "key entry 1: ID \"x\" must be a number"},
		{"0:" + std, "key entry 1: ID \"0\" must be a number"},
		{"1:" + std + ",2:!!!notbase64", "key entry 2 (ID 2): secret is not valid base64"},
		{"1:" + short, "secret is 16 bytes, want 32"},
	}
	for _, tt := range bad {
		_, err := keyring.ParseKeys(tt.spec)
		require.Error(t, err, tt.spec)
		assert.ErrorIs(t, err, validate.ErrInvalidConfig)
		assert.Contains(t, err.Error(), tt.want)
		assert.False(t, strings.Contains(err.Error(), std) || strings.Contains(err.Error(), short), "error echoes the secret")
	}
}

func TestGenerateKey(t *testing.T) {
	a, err := keyring.GenerateKey()
	require.NoError(t, err)
	b, err := keyring.GenerateKey()
	require.NoError(t, err)
	assert.Len(t, a, keyring.KeySize)
	assert.NotEqual(t, a, b)
}

func TestGenerateKeyPassesTheCheck(t *testing.T) {
	for range 100 {
		k, err := keyring.GenerateKey()
		require.NoError(t, err)
		require.NoError(t, keyring.CheckKeyMaterial(k))
	}
}

// TestAttackWeakKeyAccepted: placeholder keys (all zeros, one byte repeated, a pattern,
// a counting sequence, a password, base64 of "000…", undecoded hex) are refused by
// CheckKeyMaterial, NewLocal and ParseKeys, with an error that says what to do and
// never shows the key.
func TestAttackWeakKeyAccepted(t *testing.T) {
	counting := make([]byte, keyring.KeySize)
	down := make([]byte, keyring.KeySize)
	for i := range counting {
		counting[i] = byte(i)
		down[i] = byte(0xf0 - 3*i)
	}
	weak := []struct {
		name   string
		secret []byte
		want   string
	}{
		{"all zeros", make([]byte, keyring.KeySize), "every byte is the same"},
		{"all 0xff", bytes.Repeat([]byte{0xff}, keyring.KeySize), "every byte is the same"},
		{"repeated 4-byte pattern", bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 8), "repeats a 4-byte pattern"},
		{"two equal halves", append(append([]byte(nil), testkey.New("half")[:16]...), testkey.New("half")[:16]...), "repeats a 16-byte pattern"},
		{"counting up", counting, "count up or down"},
		{"counting down by 3", down, "count up or down"},
		{"ASCII zeros", []byte(strings.Repeat("0", 31) + "1"), "printable text"},
		{"a password", []byte("correct horse battery staple!!42"), "printable text"},
		{"a passphrase with a newline", []byte("my carrier key is very secret\n12"), "printable text"},
		{"undecoded hex", []byte("9f86d081884c7d659a2feaa0c55ad015"), "printable text"},
	}
	for _, tt := range weak {
		t.Run(tt.name, func(t *testing.T) {
			require.Len(t, tt.secret, keyring.KeySize)
			err := keyring.CheckKeyMaterial(tt.secret)
			require.ErrorIs(t, err, keyring.ErrWeakKey)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "keyring.GenerateKey", "the error says what to do")

			_, err = keyring.NewLocal(keyring.Config{Keys: []keyring.Key{{ID: 3, Secret: tt.secret}}})
			require.ErrorIs(t, err, keyring.ErrWeakKey)
			assert.ErrorIs(t, err, validate.ErrInvalidConfig)
			assert.Contains(t, err.Error(), "Config.Keys[0].Secret (ID 3)")

			b64 := base64.StdEncoding.EncodeToString(tt.secret)
			_, err = keyring.ParseKeys("1:" + base64.StdEncoding.EncodeToString(testkey.New("good")) + ",7:" + b64)
			require.ErrorIs(t, err, keyring.ErrWeakKey)
			assert.ErrorIs(t, err, validate.ErrInvalidConfig)
			assert.Contains(t, err.Error(), "key entry 2 (ID 7)")
			assert.NotContains(t, err.Error(), b64)
			if isPrintable(tt.secret) {
				assert.NotContains(t, err.Error(), string(tt.secret[:12]), "the error never shows the key")
			}
		})
	}
	// The example: base64 of ASCII "000…" in the environment.
	_, err := keyring.ParseKeys("1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("0", 32))))
	assert.ErrorIs(t, err, keyring.ErrWeakKey)
	assert.ErrorIs(t, keyring.CheckKeyMaterial(nil), keyring.ErrWeakKey, "an empty key")

	// A random key passes: the rules refuse placeholders, not bad luck.
	rng := rand.NewChaCha8([32]byte{1})
	for i := range 10000 {
		k := make([]byte, keyring.KeySize)
		_, _ = rng.Read(k)
		require.NoError(t, keyring.CheckKeyMaterial(k), "random key %d", i)
	}
	// Longer keys (HMAC keys may be longer than 32 bytes) follow the same rules.
	assert.NoError(t, keyring.CheckKeyMaterial(append(testkey.New("a"), testkey.New("b")...)))
	assert.ErrorIs(t, keyring.CheckKeyMaterial([]byte(strings.Repeat("hunter2 ", 8))), keyring.ErrWeakKey)
}

func isPrintable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// TestAttackWeakKeyBypass: placeholders that slip past a check of the whole key taken at
// once. A half-filled buffer (16 random bytes, then zeros), a zeroed key with its last
// byte set, and a password read as a C string (a trailing NUL) are refused too; random
// keys still pass (TestAttackWeakKeyAccepted draws 10,000).
func TestAttackWeakKeyBypass(t *testing.T) {
	half := append(append([]byte(nil), testkey.New("half")[:16]...), make([]byte, 16)...)
	lastSet := make([]byte, keyring.KeySize)
	lastSet[31] = 1
	firstSet := make([]byte, keyring.KeySize)
	firstSet[0] = 0x9c
	for _, tt := range []struct {
		name   string
		secret []byte
		want   string
	}{
		{"half-filled buffer", half, "runs of"},
		{"zeros but the last byte", lastSet, "runs of"},
		{"zeros but the first byte", firstSet, "runs of"},
		{"a password with a C string's NUL", []byte("correct horse battery staple!!4\x00"), "printable text"},
		{"a password padded with NULs", append([]byte("staple-battery-horse"), make([]byte, 12)...), "printable text"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Len(t, tt.secret, keyring.KeySize)
			err := keyring.CheckKeyMaterial(tt.secret)
			require.ErrorIs(t, err, keyring.ErrWeakKey)
			assert.Contains(t, err.Error(), tt.want)
			_, err = keyring.NewLocal(keyring.Config{Keys: []keyring.Key{{ID: 3, Secret: tt.secret}}})
			assert.ErrorIs(t, err, keyring.ErrWeakKey)
		})
	}
}
