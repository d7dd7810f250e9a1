package password_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/carrierguard/carrierguard/internal/redacttest"
	"github.com/carrierguard/carrierguard/password"
)

// A request that carries a password never prints, logs or encodes it, whatever an
// integrator does with it; the other fields still show.
func TestRequestsNeverShowPasswords(t *testing.T) {
	const (
		current = "Glimmerous Snorkelwhistle"
		next    = "Quixotic Marmalade Vortex"
	)
	in := password.SignIn{Subscriber: "sub-1", Password: current, ClientKey: "203.0.113.9", Channel: "app"}
	ch := password.ChangeRequest{Subscriber: "sub-1", Current: current, New: next, ClientKey: "203.0.113.9", Channel: "app",
		Subject: password.Subject{Name: "Ada Lovelace", Email: "ada@example.com", Phone: "+15550100001"}}

	for name, v := range map[string]any{
		"SignIn": in, "*SignIn": &in, "[]SignIn": []password.SignIn{in},
		"ChangeRequest": ch, "*ChangeRequest": &ch, "map of ChangeRequest": map[string]password.ChangeRequest{"req": ch},
	} {
		out := redacttest.Renderings(t, v)
		for _, s := range out {
			for _, secret := range []string{"Glimmerous", "Snorkel", "Quixotic", "Marmalade",
				"476c696d", "5175697a"} { // hex of "Glim" and "Quiz"
				assert.NotContains(t, strings.ToLower(s), strings.ToLower(secret), "%s leaks a password: %s", name, s)
			}
			assert.NotContains(t, s, "Lovelace", "%s prints the subscriber's personal details: %s", name, s)
		}
		all := strings.Join(out, "\n")
		assert.Contains(t, all, "sub-1", "%s: other fields still show", name)
		assert.Contains(t, all, "203.0.113.9", "%s: other fields still show", name)
		assert.Contains(t, all, "[redacted]", "%s: says what was left out", name)
	}
}
