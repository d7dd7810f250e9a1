package password

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// redacted stands in for a password wherever a request carrying one is printed, logged
// or encoded.
const redacted = "[redacted]"

// SignIn and ChangeRequest carry passwords in plaintext. An integrator who logs one —
// fmt with any verb, log/slog, encoding/json — gets the other fields and "[redacted]"
// in place of each password, so no password reaches a log by accident. A
// ChangeRequest's Subject (name, email address, phone number) is left out too: a log
// does not need it. Encoding is one way: decode requests into a type of your own.

// Format implements fmt.Formatter: every verb prints the sign-in with the password
// redacted.
func (s SignIn) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "{Subscriber:%q Password:%s ClientKey:%q Channel:%q}", s.Subscriber, redacted, s.ClientKey, s.Channel)
}

// LogValue implements slog.LogValuer with the password redacted.
func (s SignIn) LogValue() slog.Value {
	return slog.GroupValue(slog.String("subscriber", s.Subscriber), slog.String("password", redacted),
		slog.String("client_key", s.ClientKey), slog.String("channel", s.Channel))
}

// MarshalJSON encodes the sign-in with the password redacted.
func (s SignIn) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ Subscriber, Password, ClientKey, Channel string }{s.Subscriber, redacted, s.ClientKey, s.Channel})
}

// Format implements fmt.Formatter: every verb prints the request with both passwords
// redacted and without the Subject.
func (r ChangeRequest) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "{Subscriber:%q Current:%s New:%s ClientKey:%q Channel:%q}", r.Subscriber, redacted, redacted, r.ClientKey, r.Channel)
}

// LogValue implements slog.LogValuer with both passwords redacted and without the
// Subject.
func (r ChangeRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("subscriber", r.Subscriber), slog.String("current", redacted),
		slog.String("new", redacted), slog.String("client_key", r.ClientKey), slog.String("channel", r.Channel))
}

// MarshalJSON encodes the request with both passwords redacted and without the Subject.
func (r ChangeRequest) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ Subscriber, Current, New, ClientKey, Channel string }{
		r.Subscriber, redacted, redacted, r.ClientKey, r.Channel})
}
