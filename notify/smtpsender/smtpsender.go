// Package smtpsender delivers notify email over SMTP, with STARTTLS or implicit TLS and
// SMTP AUTH, using github.com/wneessen/go-mail.
//
// It is a separate package so that the packages importing notify for its event vocabulary
// do not pull in an SMTP client.
//
//	email, err := smtpsender.New(smtpsender.Config{
//		Host: "smtp.example.net", Username: "alerts", Password: pw,
//		From: "alerts@carrier.example", FromName: "Carrier Security",
//	})
//	d, err := notify.NewDispatcher(notify.DispatcherConfig{
//		Senders: map[notify.Channel]notify.Sender{notify.ChannelEmail: email},
//	}, outbox)
//
// Each message is multipart/alternative (plain text and HTML), marked Auto-Submitted, and
// carries the notify idempotency key in its Message-ID, so a retry after a crash has the
// same Message-ID and receiving systems that deduplicate on it show it once. A recipient
// the server rejects permanently (5xx at RCPT TO) is a permanent failure; everything else
// is retried by the dispatcher.
package smtpsender

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/notify"
)

// Security is how the connection to the server is protected.
type Security string

// Connection security modes.
const (
	// StartTLS connects in plain text and upgrades with STARTTLS, which is required:
	// a server that does not offer it is an error. The default; port 587.
	StartTLS Security = "starttls"
	// ImplicitTLS speaks TLS from the first byte ("SMTPS"); port 465.
	ImplicitTLS Security = "tls"
	// Plaintext uses no encryption at all. Only for a relay on localhost or in tests:
	// New refuses it for any host but a loopback one (127.0.0.1, ::1, localhost), and
	// with a username. Port 25.
	Plaintext Security = "none"
)

// Config configures a Sender. Host and From are required.
type Config struct {
	// Host is the SMTP server's host name or IP address.
	Host string `validate:"required,hostname_rfc1123|ip"`
	// Port defaults to 587 (StartTLS), 465 (ImplicitTLS) or 25 (Plaintext).
	Port int `validate:"gte=0,lte=65535"`
	// Security defaults to StartTLS.
	Security Security `validate:"omitempty,oneof=starttls tls none"`
	// Username and Password enable SMTP AUTH with Mechanism. Empty Username means no AUTH.
	Username string
	Password string
	// Mechanism is the SASL mechanism: PLAIN (default), LOGIN, CRAM-MD5 or SCRAM-SHA-256.
	Mechanism string `validate:"omitempty,oneof=PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256"`
	// From is the sender address; FromName its display name.
	From     string `validate:"required,email"`
	FromName string
	// TLSConfig configures TLS (for example RootCAs for a private CA). Nil means the
	// system roots and TLS 1.2 or later. ServerName defaults to Host.
	TLSConfig *tls.Config
	// Timeout bounds connecting and each SMTP command. Default 30s. The dispatcher's
	// SendTimeout bounds the whole send too.
	Timeout time.Duration `validate:"gte=0"`
	// HELO is the name sent in EHLO. Default: the local host name.
	HELO string
	// Now stamps the Date header. Nil means time.Now.
	Now func() time.Time
}

// Sender is a notify.Sender for the email channel. It opens one connection per message
// and is safe for concurrent use.
type Sender struct {
	cfg  Config
	opts []mail.Option
	// domain is the From address's domain, used in Message-IDs.
	domain string
}

var _ notify.Sender = (*Sender)(nil)

// New validates cfg and returns a Sender. It does not connect.
func New(cfg Config) (*Sender, error) {
	if err := validate.Struct("smtpsender", cfg); err != nil {
		return nil, err
	}
	if cfg.Security == "" {
		cfg.Security = StartTLS
	}
	if cfg.Security == Plaintext && cfg.Username != "" {
		return nil, validate.Errorf("smtpsender", "Config.Username is set with Security %q: credentials would be sent in the clear; use StartTLS or ImplicitTLS", Plaintext)
	}
	if cfg.Security == Plaintext && !loopback(cfg.Host) {
		return nil, validate.Errorf("smtpsender", "Config.Security %q is only allowed for a loopback host, not %q: messages and addresses would cross the network in the clear; use StartTLS or ImplicitTLS", Plaintext, cfg.Host)
	}
	if cfg.Port == 0 {
		cfg.Port = map[Security]int{StartTLS: 587, ImplicitTLS: 465, Plaintext: 25}[cfg.Security]
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	opts := []mail.Option{
		mail.WithPort(cfg.Port), mail.WithTimeout(cfg.Timeout), mail.WithTLSConfig(tc),
	}
	switch cfg.Security {
	case StartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case ImplicitTLS:
		opts = append(opts, mail.WithSSL())
	case Plaintext:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if cfg.Username != "" {
		mech := mail.SMTPAuthType(cfg.Mechanism)
		if mech == "" {
			mech = mail.SMTPAuthPlain
		}
		opts = append(opts, mail.WithSMTPAuth(mech), mail.WithUsername(cfg.Username), mail.WithPassword(cfg.Password))
	}
	if cfg.HELO != "" {
		opts = append(opts, mail.WithHELO(cfg.HELO))
	}
	// Fail now, not at the first send, if go-mail rejects the options.
	if _, err := mail.NewClient(cfg.Host, opts...); err != nil {
		return nil, validate.Errorf("smtpsender", "%v", err)
	}
	return &Sender{cfg: cfg, opts: opts, domain: cfg.From[strings.LastIndexByte(cfg.From, '@')+1:]}, nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send delivers d by email. d.Recipient.Channel must be notify.ChannelEmail.
func (s *Sender) Send(ctx context.Context, d notify.Delivery) error {
	if d.Recipient.Channel != notify.ChannelEmail {
		return notify.Permanent(fmt.Errorf("smtpsender: channel %q is not email", d.Recipient.Channel))
	}
	m := mail.NewMsg()
	if err := m.FromFormat(s.cfg.FromName, s.cfg.From); err != nil {
		return notify.Permanent(fmt.Errorf("smtpsender: From: %w", err))
	}
	if err := m.To(d.Recipient.Address); err != nil {
		return notify.Permanent(fmt.Errorf("smtpsender: invalid recipient %s", d.Recipient.Masked()))
	}
	m.Subject(d.Content.Subject)
	m.SetMessageIDWithValue(d.IdempotencyKey + "@" + s.domain)
	m.SetDateWithValue(s.cfg.Now())
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetBodyString(mail.TypeTextPlain, d.Content.Text)
	if d.Content.HTML != "" {
		m.AddAlternativeString(mail.TypeTextHTML, d.Content.HTML)
	}
	c, err := mail.NewClient(s.cfg.Host, s.opts...)
	if err != nil {
		return fmt.Errorf("smtpsender: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		// go-mail's SendError text lists the recipients in full, so it is summarised
		// rather than wrapped: errors are stored and logged.
		var se *mail.SendError
		if errors.As(err, &se) {
			err = fmt.Errorf("smtpsender: sending to %s: %s (SMTP %d %s)", d.Recipient.Masked(), se.Reason, se.ErrorCode(), se.EnhancedStatusCode())
			if se.Reason == mail.ErrSMTPRcptTo && !se.IsTemp() {
				return notify.Permanent(err)
			}
			return err
		}
		return fmt.Errorf("smtpsender: sending to %s: %w", d.Recipient.Masked(), err)
	}
	return nil
}
