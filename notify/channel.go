package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Channel is a way of reaching a subscriber.
type Channel string

// Delivery channels.
const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
	ChannelPush  Channel = "push"
)

// Channels returns every delivery channel.
func Channels() []Channel { return []Channel{ChannelEmail, ChannelSMS, ChannelPush} }

func (c Channel) valid() bool {
	return c == ChannelEmail || c == ChannelSMS || c == ChannelPush
}

// Recipient is one address on one channel: an email address, an E.164 phone number for
// SMS, or a push device token (or the gateway's installation ID) for push.
type Recipient struct {
	Channel Channel
	Address string
}

// Masked returns the recipient's address masked for display: a•••@example.com,
// •••• 1234, or the last four characters of a push token.
func (r Recipient) Masked() string {
	switch r.Channel {
	case ChannelEmail:
		return MaskEmail(r.Address)
	default:
		return MaskPhone(r.Address)
	}
}

// Content is a rendered message. Email uses all three fields; SMS uses Text; push uses
// Subject as the title and Text as the body.
type Content struct {
	Subject string
	Text    string
	HTML    string
}

// MessageID returns the idempotency key of the message for event eventID to r: the first
// 128 bits of SHA-256 over the three values, in hex. It is stable across retries,
// restarts and republishing, and reveals nothing readable about the address.
func MessageID(eventID string, r Recipient) string {
	// One buffer and Sum256 rather than a hash.Hash: on the stack for the usual sizes,
	// which matters because every message of every event is named here.
	b := make([]byte, 0, 128)
	b = append(b, eventID...)
	b = append(b, 0)
	b = append(b, r.Channel...)
	b = append(b, 0)
	b = append(b, r.Address...)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

const bullets = "••••"

// MaskEmail masks an email address for display, keeping the first character of the
// local part and the domain: alice@example.com → a•••@example.com. Anything that is not
// an address is masked completely.
func MaskEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "•••"
	}
	first, _ := utf8.DecodeRuneInString(addr)
	if first == utf8.RuneError || !unicode.IsPrint(first) {
		return "•••" + addr[at:]
	}
	return string(first) + "•••" + addr[at:]
}

// MaskPhone masks a phone number (or any other identifier) for display, keeping only the
// last four letters or digits: +15551234567 → •••• 4567. Identifiers of four such
// characters or fewer are masked completely; masking a masked ID changes nothing.
func MaskPhone(id string) string {
	var tail []rune
	for _, r := range id {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			tail = append(tail, r)
		}
	}
	if len(tail) < 4 || (len(tail) == 4 && !strings.HasPrefix(id, bullets)) {
		return bullets // too short to show any of it (an already masked ID is kept)
	}
	return bullets + " " + string(tail[len(tail)-4:])
}

// maskValue masks every whitespace-separated word of an attribute value that looks like
// a full email address or phone number, as a second line of defence: publishers are
// required to mask, and values that are already masked pass through unchanged.
func maskValue(v string) string {
	if !strings.ContainsAny(v, "@0123456789") {
		return v
	}
	if strings.IndexFunc(v, unicode.IsSpace) < 0 {
		return maskWord(v) // one word: what splitting and joining would give
	}
	fields := strings.Fields(v)
	changed := false
	for i, f := range fields {
		if m := maskWord(f); m != f {
			fields[i], changed = m, true
		}
	}
	if !changed {
		return v
	}
	return strings.Join(fields, " ")
}

func maskWord(w string) string {
	if at := strings.LastIndexByte(w, '@'); at >= 0 {
		if strings.Trim(w[:at], "•") == "" {
			return w // already masked completely
		}
		// A masked address (a•••@example.com) masks to itself; anything else with a
		// bullet in it, such as "x•alice@example.com", is still an address to mask.
		return MaskEmail(strings.Trim(w, "<>()[],;:.\"'"))
	}
	// Phone numbers, and long IDs such as IMEI or ICCID: every maximal run of digits and
	// ( ) . - (optionally led by +) that is not glued to a letter or digit on either side,
	// so "+1-555-123-4567" and "to=+15551234567," are masked but a hex ID is not.
	var b strings.Builder
	last := 0
	for i := 0; i < len(w); {
		if !phoneStart(w[i]) {
			i++
			continue
		}
		j, digits := i, 0
		if w[j] == '+' {
			j++
		}
		for j < len(w) && phoneChar(w[j]) {
			if w[j] >= '0' && w[j] <= '9' {
				digits++
			}
			j++
		}
		glued := i > 0 && alnumBefore(w[:i]) || alnumAfter(w[j:])
		if (w[i] == '+' && digits >= 7 || digits >= 10) && !glued {
			b.WriteString(w[last:i])
			b.WriteString(MaskPhone(w[i:j]))
			last = j
		}
		i = max(j, i+1)
	}
	if last == 0 {
		return w
	}
	b.WriteString(w[last:])
	return b.String()
}

func phoneChar(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '(' || c == ')' || c == '.'
}

func phoneStart(c byte) bool { return c == '+' || phoneChar(c) }

func alnumBefore(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func alnumAfter(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return n > 0 && (unicode.IsLetter(r) || unicode.IsDigit(r))
}
