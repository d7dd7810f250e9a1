package password

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Bounds on argon2id hashes this package will parse and compute. They keep a corrupted
// or hostile stored hash from demanding unbounded memory or time.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 64
	maxThreads   = 64
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 128
	maxKeyIDLen  = 11
)

var b64 = base64.RawStdEncoding.Strict()

// phc is a parsed argon2id hash in PHC string format:
//
//	$argon2id$v=19$m=19456,t=2,p=1[,keyid=ID]$<salt>$<hash>
//
// salt and hash are unpadded standard base64; keyid names the pepper, if one was used.
type phc struct {
	memory  uint32
	time    uint32
	threads uint8
	keyID   string
	salt    []byte
	key     []byte
}

// String formats h as a PHC string; for any h from parsePHC it returns the parsed input.
func (h phc) String() string {
	var b strings.Builder
	b.Grow(64 + b64.EncodedLen(len(h.salt)) + b64.EncodedLen(len(h.key)))
	fmt.Fprintf(&b, "$argon2id$v=19$m=%d,t=%d,p=%d", h.memory, h.time, h.threads)
	if h.keyID != "" {
		b.WriteString(",keyid=")
		b.WriteString(h.keyID)
	}
	b.WriteByte('$')
	b.WriteString(b64.EncodeToString(h.salt))
	b.WriteByte('$')
	b.WriteString(b64.EncodeToString(h.key))
	return b.String()
}

// parsePHC parses the canonical argon2id PHC form that String produces. Anything else —
// another algorithm or version, parameters out of order, out of range or with leading
// zeros, non-canonical base64 — is ErrMalformedHash. Errors never echo the input.
func parsePHC(s string) (phc, error) {
	var h phc
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return h, fmt.Errorf("%w: want $argon2id$v=19$params$salt$hash", ErrMalformedHash)
	}
	if parts[1] != "argon2id" {
		return h, fmt.Errorf("%w: algorithm is not argon2id", ErrMalformedHash)
	}
	if parts[2] != "v=19" {
		return h, fmt.Errorf("%w: argon2 version is not 19", ErrMalformedHash)
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 && len(params) != 4 {
		return h, fmt.Errorf("%w: want parameters m, t, p and optionally keyid", ErrMalformedHash)
	}
	m, err := phcUint(params[0], "m", maxMemoryKiB)
	if err != nil {
		return h, err
	}
	t, err := phcUint(params[1], "t", maxTime)
	if err != nil {
		return h, err
	}
	p, err := phcUint(params[2], "p", maxThreads)
	if err != nil {
		return h, err
	}
	if m < 8*p {
		return h, fmt.Errorf("%w: m must be at least 8*p", ErrMalformedHash)
	}
	h.memory, h.time, h.threads = uint32(m), uint32(t), uint8(p)
	if len(params) == 4 {
		id, ok := strings.CutPrefix(params[3], "keyid=")
		if !ok || !validKeyID(id) {
			return h, fmt.Errorf("%w: keyid must be 1-%d letters or digits", ErrMalformedHash, maxKeyIDLen)
		}
		h.keyID = id
	}
	// encoding/base64 skips '\r' and '\n' even in Strict mode; a canonical hash has none.
	if strings.ContainsAny(parts[4], "\r\n") || strings.ContainsAny(parts[5], "\r\n") {
		return phc{}, fmt.Errorf("%w: line breaks in salt or hash", ErrMalformedHash)
	}
	if h.salt, err = b64.DecodeString(parts[4]); err != nil || len(h.salt) < minSaltLen || len(h.salt) > maxSaltLen {
		return phc{}, fmt.Errorf("%w: salt must be %d-%d bytes of unpadded base64", ErrMalformedHash, minSaltLen, maxSaltLen)
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) < minKeyLen || len(h.key) > maxKeyLen {
		return phc{}, fmt.Errorf("%w: hash must be %d-%d bytes of unpadded base64", ErrMalformedHash, minKeyLen, maxKeyLen)
	}
	return h, nil
}

// phcUint parses "name=decimal" with 1 <= value <= limit and no sign or leading zero.
func phcUint(s, name string, limit uint64) (uint64, error) {
	v, ok := strings.CutPrefix(s, name+"=")
	if !ok || v == "" || len(v) > 10 || (v[0] == '0') {
		return 0, fmt.Errorf("%w: parameter %s missing or malformed", ErrMalformedHash, name)
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > limit {
		return 0, fmt.Errorf("%w: parameter %s must be 1-%d", ErrMalformedHash, name, limit)
	}
	return n, nil
}

func validKeyID(id string) bool {
	if id == "" || len(id) > maxKeyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
