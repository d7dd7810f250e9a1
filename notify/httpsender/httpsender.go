// Package httpsender delivers notify SMS and push messages through an HTTP gateway: any
// SMS aggregator or push service that takes one request per message.
//
// The request is configurable (URL, method, static headers, and a text/template body that
// defaults to JSON); each request carries the idempotency key in a header and can be
// signed with HMAC-SHA-256 so the gateway can tell it came from you. Any 2xx response is
// success. 4xx responses other than 408, 425 and 429 are permanent failures (the
// dispatcher abandons the message at once); 5xx, 408, 425, 429, timeouts and network
// errors are retried by the dispatcher with backoff until its MaxAttempts.
//
//	sms, err := httpsender.New(httpsender.Config{
//		URL:        "https://sms-gateway.example/v1/messages",
//		Header:     http.Header{"Authorization": {"Bearer " + apiKey}},
//		SigningKey: signingKey,
//	})
//
// It is a separate package so that packages importing notify for its event vocabulary do
// not pull in HTTP client code.
package httpsender

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/notify"
)

// DefaultBody is the default request body template: a JSON object. The template sees a
// BodyData; the json function encodes a value as JSON.
const DefaultBody = `{"to":{{json .To}},"channel":{{json .Channel}},"type":{{json .Type}},` +
	`"title":{{json .Subject}},"text":{{json .Text}},"idempotency_key":{{json .IdempotencyKey}}}`

// Defaults.
const (
	DefaultSignatureHeader   = "X-Carrierguard-Signature"
	DefaultIdempotencyHeader = "Idempotency-Key"
	DefaultTimeout           = 10 * time.Second
)

// Config configures a Sender. Only URL is required.
type Config struct {
	// URL is the gateway endpoint. It must be https, except for a loopback host
	// (127.0.0.1, ::1, localhost), which may use http for a local relay or tests.
	URL string `validate:"required,url"`
	// Method is POST (default), PUT or PATCH.
	Method string `validate:"omitempty,oneof=POST PUT PATCH"`
	// Header holds static headers, such as Authorization. They are sent as given.
	Header http.Header
	// Body is a text/template for the request body, executed with a BodyData. Default
	// DefaultBody (JSON).
	Body string
	// ContentType defaults to application/json. When it is JSON, New checks that Body
	// renders valid JSON.
	ContentType string
	// SigningKey, if set, signs each request with HMAC-SHA-256 in SignatureHeader (see
	// Sign). Use at least 32 random bytes. The signature covers the body, so a custom
	// Body must then include .IdempotencyKey (the default does).
	SigningKey      []byte `validate:"omitempty,min=16"`
	SignatureHeader string
	// IdempotencyHeader carries the idempotency key. Default "Idempotency-Key".
	IdempotencyHeader string
	// Timeout bounds each request. Default 10s.
	Timeout time.Duration `validate:"gte=0"`
	// Client sends the requests. Nil means a client with Timeout and no redirects.
	Client *http.Client
	// Now stamps signatures. Nil means time.Now.
	Now func() time.Time
}

// BodyData is what the Body template sees.
type BodyData struct {
	// To is the phone number (SMS) or device token (push).
	To             string
	Channel        notify.Channel
	Type           notify.Type
	Subject        string // the push title; empty for SMS
	Text           string // the SMS text or push body
	IdempotencyKey string
}

// Sender is a notify.Sender for SMS or push over HTTP. It is safe for concurrent use.
type Sender struct {
	cfg  Config
	body *template.Template
}

var _ notify.Sender = (*Sender)(nil)

// New validates cfg, parses and test-renders the body template, and returns a Sender.
func New(cfg Config) (*Sender, error) {
	if err := validate.Struct("httpsender", cfg); err != nil {
		return nil, err
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
		return nil, validate.Errorf("httpsender", "Config.URL must be an https URL (http only for a loopback host)")
	}
	if cfg.Method == "" {
		cfg.Method = http.MethodPost
	}
	if cfg.Body == "" {
		cfg.Body = DefaultBody
	}
	if cfg.ContentType == "" {
		cfg.ContentType = "application/json"
	}
	if cfg.SignatureHeader == "" {
		cfg.SignatureHeader = DefaultSignatureHeader
	}
	if cfg.IdempotencyHeader == "" {
		cfg.IdempotencyHeader = DefaultIdempotencyHeader
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{
			Timeout:       cfg.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	cfg.Header = cfg.Header.Clone()
	body, err := template.New("body").Funcs(template.FuncMap{"json": jsonValue}).Option("missingkey=error").Parse(cfg.Body)
	if err != nil {
		return nil, validate.Errorf("httpsender", "Config.Body does not parse: %v", err)
	}
	s := &Sender{cfg: cfg, body: body}
	sd := BodyData{To: "+15550100", Channel: notify.ChannelSMS, Type: notify.SIMSwapRequested,
		Subject: `Title "quoted"`, Text: "Line 1\nLine 2 <&>", IdempotencyKey: "key"}
	sample, err := s.render(sd)
	if err != nil {
		return nil, validate.Errorf("httpsender", "Config.Body does not render: %v", err)
	}
	if strings.Contains(cfg.ContentType, "json") && !json.Valid(sample) {
		return nil, validate.Errorf("httpsender", "Config.Body does not render valid JSON; use the json function for values")
	}
	// The signature covers the body only (not the URL or headers). If the body did not
	// carry the idempotency key, whoever saw one signed request could replay it with a
	// fresh Idempotency-Key header, within the gateway's tolerance, and have it sent again.
	if len(cfg.SigningKey) > 0 {
		sd.IdempotencyKey = "another-key"
		other, err := s.render(sd)
		if err != nil || bytes.Equal(other, sample) {
			return nil, validate.Errorf("httpsender", "Config.Body must include .IdempotencyKey when SigningKey is set, so the signature covers it")
		}
	}
	return s, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func jsonValue(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func (s *Sender) render(d BodyData) ([]byte, error) {
	var b bytes.Buffer
	if err := s.body.Execute(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Send makes one request for d. d must be an SMS or push delivery.
func (s *Sender) Send(ctx context.Context, d notify.Delivery) error {
	if d.Recipient.Channel != notify.ChannelSMS && d.Recipient.Channel != notify.ChannelPush {
		return notify.Permanent(fmt.Errorf("httpsender: channel %q is not sms or push", d.Recipient.Channel))
	}
	body, err := s.render(BodyData{To: d.Recipient.Address, Channel: d.Recipient.Channel, Type: d.Type,
		Subject: d.Content.Subject, Text: d.Content.Text, IdempotencyKey: d.IdempotencyKey})
	if err != nil {
		return notify.Permanent(fmt.Errorf("httpsender: rendering body: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, s.cfg.Method, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return notify.Permanent(fmt.Errorf("httpsender: %w", err))
	}
	for k, vs := range s.cfg.Header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", s.cfg.ContentType)
	req.Header.Set(s.cfg.IdempotencyHeader, d.IdempotencyKey)
	if len(s.cfg.SigningKey) > 0 {
		req.Header.Set(s.cfg.SignatureHeader, Sign(s.cfg.SigningKey, s.cfg.Now(), body))
	}
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		// Drop the URL (it may carry an API key in its query) and keep the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("httpsender: request for %s failed: %w", d.Recipient.Masked(), err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // the body may echo the message
	_ = resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c == http.StatusRequestTimeout || c == http.StatusTooEarly || c == http.StatusTooManyRequests || c >= 500:
		return fmt.Errorf("httpsender: gateway returned %d for %s", c, d.Recipient.Masked())
	default:
		return notify.Permanent(fmt.Errorf("httpsender: gateway rejected the message to %s with %d", d.Recipient.Masked(), c))
	}
}

// Sign returns the signature header value for body sent at t: "t=<unix seconds>,
// v1=<hex HMAC-SHA-256 of "<unix seconds>.<body>" under key>". Binding the time into the
// MAC lets the gateway reject replays older than a few minutes. Only the timestamp and the
// body are signed, not the method, URL or headers: that is why New requires a signed
// Sender's body to carry the idempotency key, and a gateway should deduplicate on the key
// in the body (or check that the header matches it).
func Sign(key []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(key, ts, body))
}

func mac(key []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// ErrBadSignature is returned by Verify.
var ErrBadSignature = errors.New("httpsender: bad signature")

// Verify checks a signature header made by Sign, as a gateway (or a test) would: the MAC
// must match in constant time and t must be within tolerance of now.
func Verify(key []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, sig string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: no timestamp", ErrBadSignature)
	}
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(key, ts, body)) {
		return fmt.Errorf("%w: MAC mismatch", ErrBadSignature)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp outside tolerance", ErrBadSignature)
	}
	return nil
}
