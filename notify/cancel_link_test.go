package notify_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/notify"
)

// An approved SIM swap or port-out notice links to the cancel page with its token as a
// fragment, says until when the change can be carried out, and keeps the token as it
// is (a masked token is a dead link), on every channel but push.
func TestCancelLinkInApprovedNotice(t *testing.T) {
	tpl, err := notify.NewTemplates(notify.TemplatesConfig{CancelURL: "https://carrier.example/cancel"})
	require.NoError(t, err)
	// A token whose secret part has a run of ten digits: anywhere else it would be
	// masked as a phone number.
	tok := "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6.Xy_0123456789_abcdefghijklmnopqrstuvwxyzABCD"
	link := "https://carrier.example/cancel#" + tok
	for _, typ := range []notify.Type{notify.SIMSwapApproved, notify.PortOutApproved} {
		e := sampleEvent(typ, map[string]string{"line": "•••• 0102", "expires_at": "2026-11-22T10:30:00Z", notify.AttrCancel: tok})
		email, err := tpl.Render(e, notify.ChannelEmail, false)
		require.NoError(t, err)
		assert.Contains(t, email.Text, link, typ)
		assert.Contains(t, email.Text, "until Sunday 22 November 2026, 10:30 UTC", typ)
		assert.Contains(t, email.HTML, link, typ)
		sms, err := tpl.Render(e, notify.ChannelSMS, false)
		require.NoError(t, err)
		assert.Contains(t, sms.Text, "Stop it: "+link, typ)
		push, err := tpl.Render(e, notify.ChannelPush, false)
		require.NoError(t, err)
		assert.NotContains(t, push.Text, tok, "a push notice opens the app, which lists pending changes")
	}
}

// No link without a cancel page, and none for a token a link cannot carry as it is (it
// could break out of the URL); the notice still renders.
func TestCancelLinkOnlyForWellFormedTokens(t *testing.T) {
	with, err := notify.NewTemplates(notify.TemplatesConfig{CancelURL: "https://carrier.example/cancel"})
	require.NoError(t, err)
	without, err := notify.NewTemplates(notify.TemplatesConfig{})
	require.NoError(t, err)
	good := "abc.def"
	for _, c := range []struct {
		name string
		tpl  *notify.Templates
		tok  string
		link bool
	}{
		{"no cancel page", without, good, false},
		{"well-formed", with, good, true},
		{"space", with, "abc def", false},
		{"quote", with, `abc"><script>`, false},
		{"newline", with, "abc\nSubject: x", false},
		{"too long", with, strings.Repeat("a", 129), false},
		{"none", with, "", false},
	} {
		e := sampleEvent(notify.SIMSwapApproved, map[string]string{notify.AttrCancel: c.tok})
		for _, ch := range notify.Channels() {
			m, err := c.tpl.Render(e, ch, false)
			require.NoError(t, err, c.name)
			all := m.Subject + m.Text + m.HTML
			assert.Equal(t, c.link && ch != notify.ChannelPush, strings.Contains(all, "carrier.example/cancel#"), "%s on %s: %s", c.name, ch, all)
		}
	}
	// Other event types never show a link, even with the attribute.
	e := sampleEvent(notify.SIMSwapRequested, map[string]string{notify.AttrCancel: good})
	m, err := with.Render(e, notify.ChannelEmail, false)
	require.NoError(t, err)
	assert.NotContains(t, m.Text, "cancel#")
}

func ExampleTemplatesConfig_cancelURL() {
	tpl, _ := notify.NewTemplates(notify.TemplatesConfig{CancelURL: "https://carrier.example/cancel"})
	// Package protection publishes this event (with a real token) when it approves a swap.
	e := notify.Event{ID: "e1", Type: notify.SIMSwapApproved, Subscriber: "sub-1", Time: t0,
		Actor: notify.Actor{Kind: notify.ActorSubscriber}, Channel: "app",
		Attributes: map[string]string{"line": "•••• 0102", "expires_at": "2026-11-22T10:30:00Z", notify.AttrCancel: "req1.secret"}}
	sms, _ := tpl.Render(e, notify.ChannelSMS, false)
	fmt.Println(sms.Text)
	// Output:
	// Account Security: SIM swap approved for line **** 0102 at 22 Nov 09:30 UTC via app. Not you? Contact support now. Stop it: https://carrier.example/cancel#req1.secret
}

// Whatever the token, rendering never fails, and a link appears exactly when the token
// is URL-safe and short enough, carrying it verbatim.
func FuzzCancelLink(f *testing.F) {
	tpl, err := notify.NewTemplates(notify.TemplatesConfig{CancelURL: "https://carrier.example/cancel"})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"abc.def", "", "a b", `"><script>`, "0123456789abcdef.Xy_0123456789_-", strings.Repeat("a", 129), "ünï.code"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		safe := tok != "" && len(tok) <= 128 && strings.Trim(tok, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == ""
		e := sampleEvent(notify.PortOutApproved, map[string]string{notify.AttrCancel: tok})
		m, err := tpl.Render(e, notify.ChannelEmail, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(m.Text, "https://carrier.example/cancel#"); got != safe {
			t.Fatalf("token %q: link %v, want %v", tok, got, safe)
		}
		if safe && !strings.Contains(m.Text, "https://carrier.example/cancel#"+tok) {
			t.Fatalf("token %q not carried verbatim: %s", tok, m.Text)
		}
	})
}
