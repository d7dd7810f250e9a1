package notify

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"
)

//go:embed templates/*.tmpl
var defaultTemplates embed.FS

// DefaultTemplates returns the embedded default English templates: layout.tmpl (shared
// text blocks), layout.html.tmpl (the HTML email) and one <type>.tmpl per event type.
// Copy a file, change it and pass the directory as TemplatesConfig.Overrides.
func DefaultTemplates() fs.FS {
	sub, _ := fs.Sub(defaultTemplates, "templates") // cannot fail: the path is a constant
	return sub
}

// ErrTemplate is wrapped by every template parse or render error.
var ErrTemplate = errors.New("notify: template")

// Default template settings.
const (
	DefaultBrand = "Account Security"
)

// TemplatesConfig configures NewTemplates. The zero value uses the embedded defaults.
type TemplatesConfig struct {
	// Overrides replaces embedded template files by name: a file here named
	// "sim_swap.requested.tmpl" or "layout.tmpl" is used instead of the default. Nil
	// means the defaults only.
	Overrides fs.FS
	// Brand signs messages and prefixes SMS ("Account Security: ..."). Keep it short:
	// SMS must fit one segment. Default DefaultBrand.
	Brand string `validate:"max=24"`
	// SupportPhone and SupportURL are where a subscriber who did not make a change
	// should turn. Empty means generic advice ("the number on your bill").
	SupportPhone string `validate:"max=20"`
	SupportURL   string `validate:"omitempty,url"`
	// CancelURL is the page where a subscriber stops an approved SIM swap or port-out
	// from its notice, such as "https://carrier.example/cancel". An event with a cancel
	// token (attribute AttrCancel, which package protection puts on its approved events)
	// links to it as CancelURL + "#" + token: a URL fragment is never sent in a request,
	// so the token stays out of every server, proxy and Referer log; the page reads it
	// and posts it. Empty means no link (the notice still says until when the change can
	// be carried out).
	CancelURL string `validate:"omitempty,url"`
	// Location is the time zone times are shown in. Nil means UTC.
	Location *time.Location
}

// Templates renders events into message content. It is immutable and safe for
// concurrent use.
type Templates struct {
	cfg  TemplatesConfig
	sets map[Type]templateSet
}

type templateSet struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// TemplateData is what templates see as ".".
type TemplateData struct {
	Type Type
	// Security is true for security events.
	Security bool
	// Former is true when the message goes to an address that was recently removed or
	// replaced.
	Former bool
	// When is the full time of the event ("Sunday 22 November 2026, 09:30 UTC"), Short a
	// compact form for SMS ("22 Nov 09:30 UTC").
	When, Short string
	// Via says where the request came from ("in the mobile app"), ViaShort in one word
	// ("app"); ViaShort is empty for system events.
	Via, ViaShort string
	// Actor says who made it ("someone signed in to your account", "a support agent").
	Actor string
	// Attr holds the event's attributes, with anything that looks like an unmasked email
	// address or phone number masked.
	Attr map[string]string
	// Brand, SupportPhone and SupportURL come from TemplatesConfig.
	Brand, SupportPhone, SupportURL string
	// CancelLink is the link that stops the change (TemplatesConfig.CancelURL, "#", the
	// event's AttrCancel token), or empty. The layout's SMS shows it after the notice;
	// the approved SIM-swap and port-out templates show it in their advice.
	CancelLink string
	// Expires is until when an approved change can be carried out (attribute
	// "expires_at", RFC 3339), formatted like When; empty without one.
	Expires string
}

// AttrCancel is the attribute that carries a single-use token to cancel the change the
// event announces (package protection sets it on approved SIM swaps and port-outs). It
// is a capability, not a secret that proves anything: it can only stop a change, once.
// It is kept as it is (never masked), and shown only inside CancelLink.
const AttrCancel = "cancel"

// maxCancelToken bounds a token put into a link; longer ones get no link.
const maxCancelToken = 128

// cancelToken returns the event's cancel token if it is one a link can carry as it is
// (1 to maxCancelToken URL-safe characters: letters, digits, '-', '_', '.'), else "".
func cancelToken(attrs map[string]string) string {
	tok := attrs[AttrCancel]
	if tok == "" || len(tok) > maxCancelToken {
		return ""
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return ""
		}
	}
	return tok
}

var templateFuncs = texttemplate.FuncMap{"mask": maskValue}

// NewTemplates parses the default templates, with any overrides, for every subscriber
// event type and renders each on every channel with sample data, so a template that does
// not parse or does not render is an error here rather than at delivery time.
func NewTemplates(cfg TemplatesConfig) (*Templates, error) {
	if err := validateStruct(cfg); err != nil {
		return nil, err
	}
	if cfg.Brand == "" {
		cfg.Brand = DefaultBrand
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	read := func(name string) (string, error) {
		if cfg.Overrides != nil {
			b, err := fs.ReadFile(cfg.Overrides, name)
			if err == nil {
				return string(b), nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("%w: reading override %s: %v", ErrTemplate, name, err)
			}
		}
		b, err := fs.ReadFile(defaultTemplates, "templates/"+name)
		if err != nil {
			return "", fmt.Errorf("%w: no template %s: %v", ErrTemplate, name, err)
		}
		return string(b), nil
	}
	layout, err := read("layout.tmpl")
	if err != nil {
		return nil, err
	}
	layoutHTML, err := read("layout.html.tmpl")
	if err != nil {
		return nil, err
	}
	t := &Templates{cfg: cfg, sets: make(map[Type]templateSet)}
	for _, typ := range Types() {
		if typ.Operator() {
			continue
		}
		name := string(typ) + ".tmpl"
		body, err := read(name)
		if err != nil {
			return nil, err
		}
		text, err := texttemplate.New(name).Funcs(templateFuncs).Option("missingkey=zero").Parse(layout)
		if err == nil {
			_, err = text.Parse(body)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrTemplate, name, err)
		}
		html, err := htmltemplate.New(name).Funcs(htmltemplate.FuncMap(templateFuncs)).Option("missingkey=zero").Parse(layout)
		if err == nil {
			_, err = html.Parse(layoutHTML)
		}
		if err == nil {
			_, err = html.Parse(body)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s (HTML): %v", ErrTemplate, name, err)
		}
		t.sets[typ] = templateSet{text: text, html: html}
	}
	// Render everything once with sample data, with and without attributes.
	for typ := range t.sets {
		for _, attrs := range []map[string]string{SampleAttributes(), nil} {
			e := Event{ID: "sample", Type: typ, Subscriber: "sample", Time: sampleTime,
				Actor: Actor{Kind: ActorAgent, ID: "agent-1"}, Channel: "phone", Attributes: attrs}
			for _, ch := range Channels() {
				for _, former := range []bool{false, true} {
					if _, err := t.Render(e, ch, former); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	return t, nil
}

var sampleTime = time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)

// SampleAttributes returns the attribute names the default templates read, with sample
// masked values. Publishers that set these names get them shown; any other attributes are
// kept for audit and custom templates.
func SampleAttributes() map[string]string {
	return map[string]string{
		"line":       "•••• 1234",
		"contact":    "•••• 5678",
		"email":      "a•••@example.com",
		"flag":       "Never SIM Swap",
		"device":     "Pixel 9",
		"location":   "Miami, FL",
		"reason":     "failed verification",
		"activity":   "many failed sign-ins",
		"action":     "sign in",
		"until":      "22 Nov 10:30 UTC",
		"due":        "1 Dec 2026",
		"effective":  "in 24 hours",
		"remaining":  "7",
		"detail":     "shipping address",
		"expires_at": "2026-11-22T10:30:00Z",
		AttrCancel:   "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6.c2FtcGxlIGNhbmNlbCB0b2tlbiwgbm90IHJlYWw",
	}
}

// Render renders event e for one channel. former marks a message to an address that was
// recently removed or replaced. Operator and unknown types are errors.
func (t *Templates) Render(e Event, ch Channel, former bool) (Content, error) {
	set, ok := t.sets[e.Type]
	if !ok {
		return Content{}, fmt.Errorf("%w %q: no templates", ErrUnknownType, e.Type)
	}
	d := t.data(e, former)
	exec := func(name string) (string, error) {
		var b bytes.Buffer
		if err := set.text.ExecuteTemplate(&b, name, d); err != nil {
			return "", fmt.Errorf("%w: %s %s: %v", ErrTemplate, e.Type, name, err)
		}
		return b.String(), nil
	}
	var c Content
	var err error
	switch ch {
	case ChannelEmail:
		if c.Subject, err = exec("email.subject"); err != nil {
			return Content{}, err
		}
		if c.Text, err = exec("email.text"); err != nil {
			return Content{}, err
		}
		var b bytes.Buffer
		if err := set.html.ExecuteTemplate(&b, "email.html", d); err != nil {
			return Content{}, fmt.Errorf("%w: %s email.html: %v", ErrTemplate, e.Type, err)
		}
		c.HTML = b.String()
	case ChannelSMS:
		if c.Text, err = exec("sms"); err != nil {
			return Content{}, err
		}
		c.Text = foldGSM7(oneLine(c.Text))
	case ChannelPush:
		if c.Subject, err = exec("push.title"); err != nil {
			return Content{}, err
		}
		if c.Text, err = exec("push.body"); err != nil {
			return Content{}, err
		}
		c.Text = oneLine(c.Text)
	default:
		return Content{}, fmt.Errorf("%w: unknown channel %q", ErrInvalidEvent, ch)
	}
	c.Subject = oneLine(c.Subject) // never a header break
	if c.Text == "" || (ch != ChannelSMS && c.Subject == "") {
		return Content{}, fmt.Errorf("%w: %s on %s renders empty", ErrTemplate, e.Type, ch)
	}
	if strings.Contains(c.Subject+c.Text+c.HTML, "<no value>") {
		return Content{}, fmt.Errorf("%w: %s on %s renders <no value>", ErrTemplate, e.Type, ch)
	}
	return c, nil
}

// oneLine collapses all white space, line breaks included, to single spaces.
func oneLine(s string) string {
	if isOneLine(s) {
		return s // what splitting and joining would give, without allocating
	}
	return strings.Join(strings.Fields(s), " ")
}

// isOneLine reports whether oneLine(s) == s: s has no white space but single spaces
// between words.
func isOneLine(s string) bool {
	prevSpace := true // no space at the start
	for _, r := range s {
		if !unicode.IsSpace(r) {
			prevSpace = false
			continue
		}
		if r != ' ' || prevSpace {
			return false
		}
		prevSpace = true
	}
	return !prevSpace || s == ""
}

func (t *Templates) data(e Event, former bool) TemplateData {
	at := e.Time.In(t.cfg.Location)
	d := TemplateData{
		Type: e.Type, Security: e.Type.Security(), Former: former,
		When:  at.Format("Monday 2 January 2006, 15:04 MST"),
		Short: at.Format("2 Jan 15:04 MST"),
		Brand: t.cfg.Brand, SupportPhone: t.cfg.SupportPhone, SupportURL: t.cfg.SupportURL,
		Attr: make(map[string]string, len(e.Attributes)),
	}
	d.Via, d.ViaShort = describeChannel(e.Channel)
	switch e.Actor.Kind {
	case ActorAgent:
		d.Actor = "a support agent"
	case ActorSystem:
		d.Actor = "our systems, automatically"
	default:
		d.Actor = "someone signed in to your account"
	}
	for k, v := range e.Attributes {
		if k != AttrCancel {
			v = maskValue(v)
		}
		d.Attr[k] = v
	}
	if tok := cancelToken(e.Attributes); tok != "" && t.cfg.CancelURL != "" {
		d.CancelLink = t.cfg.CancelURL + "#" + tok
	}
	if exp, err := time.Parse(time.RFC3339, e.Attributes["expires_at"]); err == nil {
		d.Expires = exp.In(t.cfg.Location).Format("Monday 2 January 2006, 15:04 MST")
	}
	return d
}

// has reports whether t renders events of type typ.
func (t *Templates) has(typ Type) bool {
	_, ok := t.sets[typ]
	return ok
}

// renderChannel returns what a deferred message stores of the event's channel: a
// known name as it is, anything else only in the masked, bounded form templates show.
func renderChannel(ch string) string {
	if long, short := describeChannel(ch); long == "via "+short {
		return short
	}
	return oneLine(ch)
}

// maskAttributes returns a copy of attrs masked as rendering masks them (nil for none).
func maskAttributes(attrs map[string]string) map[string]string {
	if len(attrs) == 0 {
		return nil
	}
	m := make(map[string]string, len(attrs))
	for k, v := range attrs {
		if k != AttrCancel { // a link must carry the token as it is (Templates.data)
			v = maskValue(v)
		}
		m[k] = v
	}
	return m
}

func describeChannel(ch string) (long, short string) {
	ch = oneLine(ch)
	switch ch {
	case "app":
		return "in the mobile app", "app"
	case "web":
		return "on the website", "web"
	case "chat":
		return "in a chat with support", "chat"
	case "phone":
		return "on a phone call with support", "phone"
	case "store":
		return "in a store", "store"
	case "partner":
		return "through a partner", "partner"
	case "system", "":
		return "automatically", ""
	}
	// Unknown channel names are shown, but bounded and masked. Cutting can expose an
	// identifier that masking let through ("1234567890123456A" cut to 16 characters is
	// all digits), so mask and cut until neither changes anything: the result describes
	// to itself, which lets deferred messages store it (renderChannel).
	s := ch
	for range 8 {
		next := maskValue(s)
		if r := []rune(next); len(r) > 16 {
			next = strings.TrimSpace(string(r[:16])) // not cut before a space
		}
		if next == s {
			return "via " + s, s
		}
		s = next
	}
	return "via •••", "•••" // never reached in practice; fail closed
}
