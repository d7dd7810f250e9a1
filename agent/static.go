package agent

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/carrierguard/carrierguard/protection"
)

// TokenHash is the SHA-256 of an agent token. Tokens are random and high-entropy
// (NewToken makes 256-bit ones), so a plain hash is enough to keep them out of the
// configuration: nobody can guess a preimage, and no salt or slow hash is needed.
type TokenHash [sha256.Size]byte

// HashToken returns the TokenHash of token, as written to a credential line.
func HashToken(token string) TokenHash { return sha256.Sum256([]byte(token)) }

// String returns the hash in credential-file form: "sha256:" and 64 lowercase hex digits.
func (h TokenHash) String() string { return "sha256:" + hex.EncodeToString(h[:]) }

// tokenPrefix marks carrierguard agent tokens, so secret scanners can find leaked ones.
const tokenPrefix = "cga_"

// NewToken returns a new agent token: "cga_" and 256 random bits in base64url (47
// characters in all). r nil means crypto/rand. Give the token to the agent (or their
// console) and put only HashToken(token) in the configuration.
func NewToken(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("agent: token randomness: %w", err)
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Credential is one agent credential: a token (kept as its hash) bound to one agent and
// one channel.
type Credential struct {
	Agent   string
	Name    string
	Channel protection.Channel
	Hash    TokenHash
}

// String returns the credential as a line of the credential file (see ParseStatic),
// without a newline. ParseStatic reads it back to an equal Credential.
func (c Credential) String() string {
	return c.Agent + " " + c.Channel.String() + " " + c.Hash.String() + " " + c.Name
}

func (c Credential) validate() error {
	switch {
	case !ValidID(c.Agent):
		return errors.New("the agent ID must be 1 to 32 of A-Z a-z 0-9 . _ -")
	case !AgentChannel(c.Channel):
		return errors.New("the channel must be phone, chat or store")
	case c.Hash == TokenHash{}:
		return errors.New("the token hash is all zeros")
	}
	return checkName(c.Name)
}

// Static is an Authenticator and Directory over a fixed list of credentials, from
// configuration. It is safe for concurrent use; to change the list (add an agent,
// revoke a token), build a new one and swap it in.
type Static struct {
	creds  []Credential
	agents map[string]Agent
}

var (
	_ Authenticator = (*Static)(nil)
	_ Directory     = (*Static)(nil)
)

// Limits of a credential list.
const (
	// MaxCredentials is the most credentials a Static holds.
	MaxCredentials = 10000
	// maxLine bounds one line of a credential file, in bytes.
	maxLine = 1024
)

// NewStatic returns a Static over creds. Every credential must be well formed; an agent
// ID must carry the same name on every credential; a token hash may appear only once (one
// token, one identity). It returns an error wrapping ErrInvalidConfig that names the
// first bad entry (by position, from 1).
func NewStatic(creds []Credential) (*Static, error) {
	if len(creds) > MaxCredentials {
		return nil, fmt.Errorf("%w: %d credentials, at most %d", ErrInvalidConfig, len(creds), MaxCredentials)
	}
	s := &Static{creds: slices.Clone(creds), agents: make(map[string]Agent)}
	seen := make(map[TokenHash]bool, len(creds))
	for i, c := range s.creds {
		if err := s.add(c, seen); err != nil {
			return nil, fmt.Errorf("%w: credential %d: %w", ErrInvalidConfig, i+1, err)
		}
	}
	return s, nil
}

func (s *Static) add(c Credential, seen map[TokenHash]bool) error {
	if err := c.validate(); err != nil {
		return err
	}
	if seen[c.Hash] {
		return errors.New("the token hash is already used by another credential")
	}
	seen[c.Hash] = true
	a, ok := s.agents[c.Agent]
	if ok && a.Name != c.Name {
		return fmt.Errorf("agent %s is named differently on another credential", c.Agent)
	}
	a.ID, a.Name = c.Agent, c.Name
	if !slices.Contains(a.Channels, c.Channel) {
		a.Channels = append(a.Channels, c.Channel)
		slices.SortFunc(a.Channels, func(x, y protection.Channel) int {
			return slices.Index(Channels, x) - slices.Index(Channels, y)
		})
	}
	s.agents[c.Agent] = a
	return nil
}

// ParseStatic reads a credential file and returns a Static over it.
//
// The format is line-based UTF-8 text. Blank lines and lines starting with '#' are
// ignored. Every other line is one credential: four fields separated by spaces or tabs,
//
//	# agent-id   channel  token hash                                                               name
//	alice        phone    sha256:426dfb93bc0ee6af75971a1cc3d430da29315aebc4cb6448123e4365f617d592  Alice Archer
//	alice        store    sha256:d4f6be28d73a800b30772658b2559cc66a7442402744411eced6b485ae6d8c8c  Alice Archer
//	bob          chat     sha256:383477b47368e8426c0ef70be22922db9bb3c53ec0204393bfe754e037461e3f  Bob Baker
//
// where the agent ID is 1 to 32 of A-Z a-z 0-9 . _ -, the channel is phone, chat or
// store, the hash is "sha256:" and the 64 hex digits of SHA-256(token) (HashToken), and
// the name is the rest of the line (1 to 100 characters). An agent who works two
// channels has a credential for each: the channel is a property of the credential, so
// the console never asks which channel a request is on. Keeping two lines for one agent
// and channel lets a token be rotated without a gap. Lines are at most 1024 bytes and
// a file at most MaxCredentials credentials.
//
// Errors wrap ErrInvalidConfig and name the line; they never quote the hash.
func ParseStatic(r io.Reader) (*Static, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	var creds []Credential
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		c, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrInvalidConfig, n, err)
		}
		if len(creds) == MaxCredentials {
			return nil, fmt.Errorf("%w: line %d: more than %d credentials", ErrInvalidConfig, n, MaxCredentials)
		}
		creds = append(creds, c)
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return nil, fmt.Errorf("%w: a line is longer than %d bytes", ErrInvalidConfig, maxLine)
	} else if err != nil {
		return nil, fmt.Errorf("agent: reading credentials: %w", err)
	}
	return NewStatic(creds)
}

func parseLine(line string) (Credential, error) {
	var f [3]string
	rest := line
	for i := range f {
		f[i], rest = nextField(rest)
	}
	name := strings.TrimSpace(rest)
	if f[2] == "" || name == "" {
		return Credential{}, errors.New("want four fields: agent-id channel sha256:<hex> name")
	}
	ch, err := protection.ParseChannel(f[1])
	if err != nil || !AgentChannel(ch) || f[1] != ch.String() {
		return Credential{}, errors.New("the channel must be phone, chat or store")
	}
	hexHash, ok := strings.CutPrefix(f[2], "sha256:")
	var h TokenHash
	if !ok || len(hexHash) != 2*len(h) || strings.ToLower(hexHash) != hexHash {
		return Credential{}, errors.New("the token hash must be sha256: and 64 lowercase hex digits")
	}
	if _, err := hex.Decode(h[:], []byte(hexHash)); err != nil {
		return Credential{}, errors.New("the token hash must be sha256: and 64 lowercase hex digits")
	}
	c := Credential{Agent: f[0], Name: name, Channel: ch, Hash: h}
	return c, c.validate()
}

// nextField splits s into its first space- or tab-separated field and the rest.
func nextField(s string) (field, rest string) {
	s = strings.TrimLeft(s, " \t")
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// Authenticate implements Authenticator: it hashes the token and compares the hash with
// every credential's in constant time, so neither the time taken nor the error says
// which credential came close.
func (s *Static) Authenticate(ctx context.Context, token string) (Identity, error) {
	if err := ctx.Err(); err != nil {
		return Identity{}, err
	}
	if token == "" || len(token) > maxLine {
		return Identity{}, ErrUnauthenticated
	}
	h := HashToken(token)
	match := -1
	for i := range s.creds {
		if subtle.ConstantTimeCompare(h[:], s.creds[i].Hash[:]) == 1 {
			match = i // no early exit: every credential is compared
		}
	}
	if match < 0 {
		return Identity{}, ErrUnauthenticated
	}
	c := s.creds[match]
	return Identity{Agent: c.Agent, Name: c.Name, Channel: c.Channel}, nil
}

// Agent implements Directory.
func (s *Static) Agent(ctx context.Context, id string) (Agent, error) {
	if err := ctx.Err(); err != nil {
		return Agent{}, err
	}
	a, ok := s.agents[id]
	if !ok {
		return Agent{}, fmt.Errorf("%w: %q", ErrUnknownAgent, clip(id))
	}
	a.Channels = slices.Clone(a.Channels)
	return a, nil
}

// Credentials returns a copy of the credential list, in configuration order.
func (s *Static) Credentials() []Credential { return slices.Clone(s.creds) }

func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
