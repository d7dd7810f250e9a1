package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/carrierguard/carrierguard/protection"
)

// Errors. Match them with errors.Is.
var (
	// ErrUnauthenticated is a credential that names no agent: missing, malformed, unknown
	// or revoked. It says nothing about which.
	ErrUnauthenticated = errors.New("agent: not authenticated")
	// ErrUnknownAgent is an agent ID no directory entry has.
	ErrUnknownAgent = errors.New("agent: unknown agent")
	// ErrInvalidConfig is a credential file or list that cannot be used; the error names
	// the line and what is wrong with it.
	ErrInvalidConfig = errors.New("agent: invalid credential configuration")
	// ErrInvalidRequest is a call with missing or malformed arguments.
	ErrInvalidRequest = errors.New("agent: invalid request")
)

// Channels are the channels an agent credential can be bound to: the agent-assisted
// ones. App and web are the subscriber's own sessions, partner is another carrier's API;
// no agent credential ever speaks for them.
var Channels = []protection.Channel{protection.ChannelPhone, protection.ChannelChat, protection.ChannelStore}

// AgentChannel reports whether c is one of Channels.
func AgentChannel(c protection.Channel) bool {
	return c == protection.ChannelPhone || c == protection.ChannelChat || c == protection.ChannelStore
}

// Agent is a support agent as a directory knows them.
type Agent struct {
	// ID is the agent's stable identifier, written to every audit record: 1 to 32
	// characters from A-Z a-z 0-9 '.' '_' '-'.
	ID string
	// Name is the agent's display name, for people reading the audit trail.
	Name string
	// Channels are the channels the agent holds a credential for, in the order of
	// Channels. An agent who works a store desk and the phone queue has two credentials,
	// one bound to each.
	Channels []protection.Channel
}

// Identity is what an authenticated credential proves: which agent is acting and the one
// channel the credential is bound to. The channel of everything the agent does with it
// comes from here, never from the request: a phone agent cannot "declare" that the
// caller is standing in a store.
type Identity struct {
	Agent   string
	Name    string
	Channel protection.Channel
}

// Valid reports whether the identity names an agent and an agent channel.
func (id Identity) Valid() bool { return ValidID(id.Agent) && AgentChannel(id.Channel) }

// Authenticator turns a presented bearer credential (a token from the console's
// Authorization header, or whatever the carrier's SSO hands over) into an Identity. It
// returns an error wrapping ErrUnauthenticated for any credential it does not know;
// any other error is a fault and must be treated as a refusal. Implementations are safe
// for concurrent use and compare secrets in constant time.
type Authenticator interface {
	Authenticate(ctx context.Context, credential string) (Identity, error)
}

// Directory looks agents up by ID, for consoles that show who handled a case. It
// returns an error wrapping ErrUnknownAgent for an ID it does not know.
type Directory interface {
	Agent(ctx context.Context, id string) (Agent, error)
}

// ValidID reports whether id is a well-formed agent ID: 1 to 32 characters from
// A-Z a-z 0-9 '.' '_' '-'.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// maxName bounds a display name, in characters.
const maxName = 100

func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("the name is empty")
	case strings.TrimSpace(name) != name:
		return errors.New("the name starts or ends with a space")
	case !utf8.ValidString(name):
		return errors.New("the name is not valid UTF-8")
	case utf8.RuneCountInString(name) > maxName:
		return fmt.Errorf("the name is longer than %d characters", maxName)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return errors.New("the name has a control character")
		}
	}
	return nil
}
