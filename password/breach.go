package password

import (
	"bufio"
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/carrierguard/carrierguard/internal/validate"
)

// BreachChecker says how often a password appears in known data breaches.
//
// It is given the SHA-1 digest of the NFC-normalised password, never the password
// itself, so no implementation can leak what it never sees. BreachCount returns 0 for
// a password not in the corpus. On any failure it returns an error wrapping
// ErrBreachUnavailable; the Checker then applies its fail mode. Implementations must be
// safe for concurrent use and must honour ctx.
type BreachChecker interface {
	BreachCount(ctx context.Context, sha1Sum [20]byte) (int, error)
}

// BreachCheckerFunc adapts a function to BreachChecker.
type BreachCheckerFunc func(ctx context.Context, sha1Sum [20]byte) (int, error)

// BreachCount calls f(ctx, sha1Sum).
func (f BreachCheckerFunc) BreachCount(ctx context.Context, sha1Sum [20]byte) (int, error) {
	return f(ctx, sha1Sum)
}

// DefaultPwnedBaseURL is the public Pwned Passwords range endpoint. The client appends
// the five-character hash prefix to it.
const DefaultPwnedBaseURL = "https://api.pwnedpasswords.com/range/"

// maxRangeBody bounds a range response. Real padded responses are well under 100 KiB.
const maxRangeBody = 2 << 20

// PwnedConfig configures a PwnedClient. The zero value talks to DefaultPwnedBaseURL with
// a 2-second timeout.
type PwnedConfig struct {
	// BaseURL is the range endpoint, ending in "/"; the prefix is appended to it. Point it
	// at your own mirror of the corpus, or a test server. Empty means DefaultPwnedBaseURL.
	BaseURL string `validate:"omitempty,http_url"`
	// Timeout bounds one lookup, including reading the answer. Zero means 2 seconds.
	Timeout time.Duration `validate:"gte=0"`
	// HTTPClient sends the requests. Nil means a client with no timeout of its own
	// (Timeout applies through the request context).
	HTTPClient *http.Client
	// UserAgent is sent with every request; the public API asks callers to name
	// themselves. Empty means "carrierguard-password".
	UserAgent string
}

// PwnedClient is a BreachChecker that speaks the Pwned Passwords range API with
// k-anonymity: only the first five hex characters of the SHA-1 digest leave the
// process; the service answers with every suffix it knows under that prefix, which is
// compared locally. The Add-Padding header is always sent so the size of the answer
// does not reveal the prefix either; padding entries (count 0) are ignored.
type PwnedClient struct {
	base    string
	timeout time.Duration
	client  *http.Client
	agent   string
}

var _ BreachChecker = (*PwnedClient)(nil)

// NewPwnedClient validates cfg and returns a client.
func NewPwnedClient(cfg PwnedConfig) (*PwnedClient, error) {
	if err := validate.Struct("password", cfg); err != nil {
		return nil, err
	}
	c := &PwnedClient{base: cfg.BaseURL, timeout: cfg.Timeout, client: cfg.HTTPClient, agent: cfg.UserAgent}
	if c.base == "" {
		c.base = DefaultPwnedBaseURL
	}
	if !strings.HasSuffix(c.base, "/") {
		c.base += "/"
	}
	if c.timeout == 0 {
		c.timeout = 2 * time.Second
	}
	if c.client == nil {
		c.client = &http.Client{}
	}
	if c.agent == "" {
		c.agent = "carrierguard-password"
	}
	return c, nil
}

// BreachCount looks the digest up. Errors wrap ErrBreachUnavailable and say whether the
// lookup timed out, failed to connect, got an HTTP error or a malformed answer; they
// never contain the digest.
func (c *PwnedClient) BreachCount(ctx context.Context, sha1Sum [20]byte) (int, error) {
	var hexSum [40]byte
	hex.Encode(hexSum[:], sha1Sum[:])
	upper := bytes.ToUpper(hexSum[:])
	prefix, suffix := string(upper[:5]), upper[5:]

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+prefix, nil)
	if err != nil {
		return 0, errBreach("building request: %v", err)
	}
	req.Header.Set("Add-Padding", "true")
	req.Header.Set("User-Agent", c.agent)
	resp, err := c.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, errBreach("lookup timed out or was cancelled after %s: %w", c.timeout, ctx.Err())
		}
		return 0, errBreach("request failed: %v", redactURL(err))
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return 0, errBreach("breach service answered HTTP %d", resp.StatusCode)
	}
	n, err := parseRange(io.LimitReader(resp.Body, maxRangeBody), suffix)
	if err != nil {
		if ctx.Err() != nil {
			return 0, errBreach("reading the answer timed out after %s: %w", c.timeout, ctx.Err())
		}
		return 0, err
	}
	return n, nil
}

// redactURL drops the request URL (which holds the prefix) from transport errors.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// parseRange reads a range answer, lines of "SUFFIX:COUNT" (35 hex characters, a colon,
// a decimal count; CRLF or LF), and returns the count for suffix, or 0. Padding lines
// (count 0) are ignored. Any malformed line makes the whole answer an error.
func parseRange(r io.Reader, suffix []byte) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 128), 128)
	found := 0
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimRight(sc.Bytes(), "\r")
		if len(b) == 0 {
			continue
		}
		hexPart, countPart, ok := bytes.Cut(b, []byte{':'})
		if !ok || len(hexPart) != 35 || !isHex(hexPart) {
			return 0, errBreach("malformed answer at line %d", line)
		}
		n, err := strconv.Atoi(string(countPart))
		if err != nil || n < 0 {
			return 0, errBreach("malformed count at line %d", line)
		}
		if n > 0 && subtle.ConstantTimeCompare(bytes.ToUpper(hexPart), suffix) == 1 {
			found = n
		}
	}
	if err := sc.Err(); err != nil {
		return 0, errBreach("reading answer: %v", err)
	}
	if line == 0 {
		return 0, errBreach("empty answer")
	}
	return found, nil
}

func isHex(b []byte) bool {
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9', c >= 'A' && c <= 'F', c >= 'a' && c <= 'f':
		default:
			return false
		}
	}
	return true
}

// String describes the client without secrets.
func (c *PwnedClient) String() string {
	return fmt.Sprintf("PwnedClient(%s, timeout %s)", c.base, c.timeout)
}

// errBreach is used by checkers to wrap their failures.
func errBreach(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBreachUnavailable}, args...)...)
}
