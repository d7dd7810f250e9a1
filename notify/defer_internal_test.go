package notify

import (
	"strings"
	"testing"
	"time"
	"unicode"
)

// FuzzDeferredRender: what a deferred message stores (the channel and attributes, masked
// by renderChannel and maskAttributes) renders exactly like the event it was taken from,
// on every channel; rendering masks again, so masking must be idempotent for this to hold.
func FuzzDeferredRender(f *testing.F) {
	tpl, err := NewTemplates(TemplatesConfig{})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range [][2]string{
		{"+15551234567", "app"}, {"alice@example.com", "ivr +1 555 123 4567"}, {"•••• 1234", ""},
		{"x•alice@example.com", "system"}, {"call 555-123-4567 now", "kiosk  #12\n345678"},
		{"<b>a</b>@x.org", "téléphone 0612345678 bureau"},
	} {
		f.Add(s[0], s[1])
	}
	at := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, value, channel string) {
		e := Event{ID: "e", Type: SIMSwapRequested, Subscriber: "s", Time: at, Channel: channel,
			Actor: Actor{Kind: ActorSubscriber}, Attributes: map[string]string{"line": value, "detail": value}}
		rd := RenderData{Time: e.Time, Channel: renderChannel(e.Channel), Actor: e.Actor.Kind, Attributes: maskAttributes(e.Attributes)}
		for _, ch := range Channels() {
			want, werr := tpl.Render(e, ch, false)
			got, gerr := tpl.Render(rd.event(e.Type), ch, false)
			if (werr == nil) != (gerr == nil) || want != got {
				t.Fatalf("%s: rendered at publish %q (%v), at delivery %q (%v)", ch, want, werr, got, gerr)
			}
		}
	})
}

func TestDescribeUnknownChannel(t *testing.T) {
	tests := map[string]string{
		" app\n":                "app",             // a known name, however spaced
		"  ":                    "",                // nothing: a system event
		"kiosk 7":               "kiosk 7",         // unknown, shown
		"ivr +15551234567":      "ivr •••• 4567",   // masked
		"0000000000000000A":     "•••• 0000",       // cutting the letter off exposed 16 digits
		"abcdefghijklmno pqrst": "abcdefghijklmno", // cut, not before a space
	}
	for in, want := range tests {
		_, short := describeChannel(in)
		if short != want {
			t.Errorf("describeChannel(%q) short = %q, want %q", in, short, want)
		}
		if _, again := describeChannel(short); again != short {
			t.Errorf("describeChannel(%q) = %q, but that describes as %q", in, short, again)
		}
	}
}

// FuzzSecretName: secretName agrees with the plain word-splitting definition below
// (secretNameWords) on every name.
func FuzzSecretName(f *testing.F) {
	for _, s := range []string{"line", "otp_code", "transferPIN", "OTPCode", "postcode", "pins", "s", "a.Token",
		"x2FA", "ABCdef", "thisIsAVeryLongAttributeNameWithoutSeparatorsAtAll", "pïn", "Passwords", "CVVs",
		"PİN", "ÀBCode", "passphrasesX", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaPINCode"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if got, want := secretName(name), secretNameWords(name); got != want {
			t.Fatalf("secretName(%q) = %v, secretNameWords = %v", name, got, want)
		}
	})
}

// secretNameWords is the definition secretName implements without allocating: split the
// name into words (attributeWords) and look each up, also in the plural.
func secretNameWords(name string) bool {
	for _, w := range attributeWords(name) {
		if secretWords[w] || secretWords[strings.TrimSuffix(w, "s")] {
			return true
		}
	}
	return false
}

// attributeWords splits an attribute name into lower-case words.
func attributeWords(name string) []string {
	var words []string
	var cur []rune
	prevLower := false
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for _, r := range name {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			n := len(cur)
			switch {
			case unicode.IsUpper(r) && prevLower: // "transferPIN" -> transfer | PIN
				flush()
			case unicode.IsLower(r) && n >= 2 && unicode.IsUpper(cur[n-1]) && unicode.IsUpper(cur[n-2]):
				// "OTPCode" -> OTP | Code: the last upper-case letter starts the next word.
				last := cur[n-1]
				cur = cur[:n-1]
				flush()
				cur = append(cur, last)
			}
			cur = append(cur, r)
			prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
		default:
			flush()
			prevLower = false
		}
	}
	flush()
	return words
}

// TestMaxSecretWord: every secret word, in the plural too, fits in what secretName keeps
// of a word.
func TestMaxSecretWord(t *testing.T) {
	for w := range secretWords {
		if len(w)+1 > maxSecretWord {
			t.Errorf("secret word %q (plural) is longer than maxSecretWord %d", w, maxSecretWord)
		}
	}
}

func TestSecretNameDoesNotAllocate(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() {
		for _, name := range []string{"line", "event_id", "transferPIN", "OTPCode", "new_contact", "nouveau_numéro", "PİN"} {
			_ = secretName(name)
		}
	}); n != 0 {
		t.Errorf("secretName allocates %v times for usual names", n)
	}
}
