package notify_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/notify"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func sampleEvent(typ notify.Type, attrs map[string]string) notify.Event {
	return notify.Event{ID: "evt-1", Type: typ, Subscriber: "sub-1", Time: t0,
		Actor: notify.Actor{Kind: notify.ActorAgent, ID: "agent-7"}, Channel: "phone", Attributes: attrs}
}

// secretish finds things a message must never contain: long digit runs (unmasked numbers,
// codes), full addresses, template leftovers.
var secretish = regexp.MustCompile(`\d{5,}|[A-Za-z0-9._%+-]{2,}@|<no value>|\{\{|agent-7|sub-1`)

// TestEveryTemplateRenders renders every default template on every channel, for current
// and former addresses, with and without attributes, and checks what every message must
// say and must not say.
func TestEveryTemplateRenders(t *testing.T) {
	configs := map[string]notify.TemplatesConfig{
		"defaults":     {},
		"long support": {Brand: "Acme Mobile Security 24h", SupportPhone: "+1 800 555 0100 x9", SupportURL: "https://acme.example/help"},
	}
	for cname, cfg := range configs {
		tpl, err := notify.NewTemplates(cfg)
		require.NoError(t, err)
		for _, typ := range notify.Types() {
			if typ.Operator() {
				continue
			}
			for _, attrs := range []map[string]string{notify.SampleAttributes(), nil} {
				for _, former := range []bool{false, true} {
					e := sampleEvent(typ, attrs)
					email, err := tpl.Render(e, notify.ChannelEmail, former)
					require.NoError(t, err, "%s %s", cname, typ)
					sms, err := tpl.Render(e, notify.ChannelSMS, former)
					require.NoError(t, err)
					push, err := tpl.Render(e, notify.ChannelPush, former)
					require.NoError(t, err)

					for _, s := range []string{email.Subject, email.Text, email.HTML, sms.Text, push.Subject, push.Text} {
						assert.NotRegexp(t, secretish, s, "%s %s", cname, typ)
					}
					// What happened, when, from which channel, and what to do.
					assert.Contains(t, email.Text, "Sunday 22 November 2026, 09:30 UTC")
					assert.Contains(t, email.Text, "on a phone call with support")
					assert.Contains(t, email.Text, "a support agent")
					assert.Contains(t, email.HTML, "Sunday 22 November 2026, 09:30 UTC")
					if typ.Security() {
						assert.Regexp(t, `(?i)if (this wasn't you|you did not)|sign in to the app`, email.Text, typ)
						assert.Contains(t, sms.Text, "Not you?")
						assert.Contains(t, push.Text, "Not you?")
					}
					if former {
						assert.Contains(t, email.Text, "recently removed from or replaced")
					}
					if cfg.SupportPhone != "" && typ.Security() {
						assert.Contains(t, email.Text, cfg.SupportPhone)
					}
					assert.Contains(t, sms.Text, "22 Nov 09:30 UTC via phone")
					assert.True(t, strings.HasPrefix(email.HTML, "<!DOCTYPE html>"))
					assert.NotContains(t, email.Subject, "\n")

					// SMS: GSM-7 and one segment.
					n, ok := notify.GSM7Length(sms.Text)
					assert.True(t, ok, "%s SMS is not GSM-7: %q", typ, sms.Text)
					assert.LessOrEqual(t, n, notify.SMSSegmentSeptets, "%s SMS does not fit one segment: %q", typ, sms.Text)
					if attrs != nil && strings.Contains(sms.Text, "1234") {
						assert.Contains(t, sms.Text, "**** 1234", "masks survive GSM-7 folding")
					}
				}
			}
		}
	}
}

func TestTemplatesEscapeAndMask(t *testing.T) {
	tpl, err := notify.NewTemplates(notify.TemplatesConfig{})
	require.NoError(t, err)
	e := sampleEvent(notify.SignInNewDevice, map[string]string{
		"device":   `<script>alert("x")</script>`,
		"location": "call +15551234567 or mail bob@example.com",
	})
	c, err := tpl.Render(e, notify.ChannelEmail, false)
	require.NoError(t, err)
	assert.NotContains(t, c.HTML, "<script>")
	assert.Contains(t, c.HTML, "&lt;script&gt;")
	for _, s := range []string{c.Subject, c.Text, c.HTML} {
		assert.NotContains(t, s, "15551234567", "an unmasked number in an attribute is masked")
		assert.NotContains(t, s, "bob@example.com")
	}
	assert.Contains(t, c.Text, "•••• 4567")
	assert.Contains(t, c.Text, "b•••@example.com")

	// Unknown request channels are shown bounded and masked; system events say so.
	e = sampleEvent(notify.Lockout, nil)
	e.Channel = "ivr-line-+15551234567-extra-long-name"
	e.Actor = notify.Actor{Kind: notify.ActorSystem}
	c, err = tpl.Render(e, notify.ChannelEmail, false)
	require.NoError(t, err)
	assert.NotContains(t, c.Text, "15551234567")
	assert.Contains(t, c.Text, "our systems, automatically")

	_, err = tpl.Render(sampleEvent(notify.DeliveryFailed, nil), notify.ChannelEmail, false)
	assert.ErrorIs(t, err, notify.ErrUnknownType)
	_, err = tpl.Render(sampleEvent(notify.Lockout, nil), "fax", false)
	assert.Error(t, err)
}

func TestTemplateOverrides(t *testing.T) {
	overrides := fstest.MapFS{
		"sim_swap.requested.tmpl": {Data: []byte(`{{define "subject"}}SIM swap on {{.Attr.line}}{{end}}` +
			`{{define "summary"}}Custom summary.{{end}}{{define "short"}}swap{{end}}`)},
	}
	tpl, err := notify.NewTemplates(notify.TemplatesConfig{Overrides: overrides, Brand: "Acme", Location: time.FixedZone("EST", -5*3600)})
	require.NoError(t, err)
	c, err := tpl.Render(sampleEvent(notify.SIMSwapRequested, notify.SampleAttributes()), notify.ChannelEmail, false)
	require.NoError(t, err)
	assert.Equal(t, "SIM swap on •••• 1234", c.Subject)
	assert.Contains(t, c.Text, "Custom summary.")
	assert.Contains(t, c.Text, "04:30 EST")
	assert.Contains(t, c.Text, "Acme")
	// Other types keep the defaults.
	c, err = tpl.Render(sampleEvent(notify.PortOutRequested, nil), notify.ChannelSMS, false)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(c.Text, "Acme: port-out requested"), c.Text)

	// DefaultTemplates is a usable starting point for overrides.
	b, err := os.ReadFile(filepath.Join("templates", "layout.tmpl"))
	require.NoError(t, err)
	d, err := notify.DefaultTemplates().Open("layout.tmpl")
	require.NoError(t, err)
	st, _ := d.Stat()
	assert.Equal(t, int64(len(b)), st.Size())
}

func TestBrokenTemplatesFailAtConstruction(t *testing.T) {
	tests := []struct {
		name string
		fs   fstest.MapFS
	}{
		{"does not parse", fstest.MapFS{"email.changed.tmpl": {Data: []byte(`{{define "subject"}}{{.Attr.email{{end}}`)}}},
		{"unknown field", fstest.MapFS{"email.changed.tmpl": {Data: []byte(`{{define "summary"}}{{.Password}}{{end}}`)}}},
		{"missing block", fstest.MapFS{"layout.tmpl": {Data: []byte(`{{define "email.text"}}{{template "nope" .}}{{end}}`)}}},
		{"renders empty", fstest.MapFS{"lockout.tmpl": {Data: []byte(``)}, "security.lockout.tmpl": {Data: []byte(`{{define "subject"}} {{end}}`)}}},
		{"bad html", fstest.MapFS{"layout.html.tmpl": {Data: []byte(`{{define "email.html"}}<a href="{{.Brand}}{{end}}`)}}},
		{"unreadable", fstest.MapFS{"password.changed.tmpl": {Mode: os.ModeDir}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := notify.NewTemplates(notify.TemplatesConfig{Overrides: tt.fs})
			assert.ErrorIs(t, err, notify.ErrTemplate)
		})
	}
	_, err := notify.NewTemplates(notify.TemplatesConfig{Brand: strings.Repeat("x", 25)})
	assert.ErrorIs(t, err, validate.ErrInvalidConfig)
	_, err = notify.NewTemplates(notify.TemplatesConfig{SupportURL: "not a url"})
	assert.ErrorIs(t, err, validate.ErrInvalidConfig)
}

// TestGolden pins a few rendered messages; run with -update after an intended change.
func TestGolden(t *testing.T) {
	tpl, err := notify.NewTemplates(notify.TemplatesConfig{SupportPhone: "611", SupportURL: "https://carrier.example/help"})
	require.NoError(t, err)
	cases := []struct {
		typ    notify.Type
		former bool
	}{
		{notify.SIMSwapRequested, false},
		{notify.EmailChanged, true},
		{notify.PasswordRotationDue, false},
	}
	for _, c := range cases {
		e := sampleEvent(c.typ, notify.SampleAttributes())
		email, err := tpl.Render(e, notify.ChannelEmail, c.former)
		require.NoError(t, err)
		sms, err := tpl.Render(e, notify.ChannelSMS, c.former)
		require.NoError(t, err)
		push, err := tpl.Render(e, notify.ChannelPush, c.former)
		require.NoError(t, err)
		got := map[string]string{
			"email.txt":  "Subject: " + email.Subject + "\n\n" + email.Text,
			"email.html": email.HTML,
			"sms.txt":    sms.Text + "\n",
			"push.txt":   push.Subject + "\n" + push.Text + "\n",
		}
		for part, s := range got {
			path := filepath.Join("testdata", "golden", string(c.typ)+"."+part)
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, []byte(s), 0o644))
				continue
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "missing golden file; run go test ./notify -run TestGolden -update")
			assert.Equal(t, string(want), s, path)
		}
	}
}

func TestGSM7Length(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		gsm7 bool
	}{
		{"", 0, true},
		{"Hello @ £5", 10, true},
		{"a{b}", 6, true},
		{"€", 2, true},
		{"•••• 1234", 0, false},
		{"émile Ñ", 7, true},
		{"ç", 0, false}, // only capital Ç is in the basic set
		{"日本", 0, false},
	}
	for _, tt := range tests {
		n, ok := notify.GSM7Length(tt.in)
		assert.Equal(t, tt.gsm7, ok, tt.in)
		assert.Equal(t, tt.n, n, tt.in)
	}
}
