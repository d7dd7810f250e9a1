package smtpsender_test

import (
	"context"
	"crypto/tls"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/notify/smtpsender"
)

func delivery() notify.Delivery {
	return notify.Delivery{
		IdempotencyKey: "0123456789abcdef0123456789abcdef",
		Type:           notify.SIMSwapRequested,
		Recipient:      notify.Recipient{Channel: notify.ChannelEmail, Address: "alice@example.com"},
		Content: notify.Content{
			Subject: "SIM swap requested for your line",
			Text:    "A SIM swap was requested for your line •••• 1234.",
			HTML:    "<p>A SIM swap was requested for your line •••• 1234.</p>",
		},
		Attempt: 1,
	}
}

var fixed = func() time.Time { return time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC) }

func TestSendEndToEnd(t *testing.T) {
	tests := []struct {
		name string
		mode serverMode
		sec  smtpsender.Security
		auth bool
	}{
		{"starttls with auth", serverMode{tls: true, auth: true}, smtpsender.StartTLS, true},
		{"implicit tls with auth", serverMode{implicit: true, auth: true}, smtpsender.ImplicitTLS, true},
		{"plaintext local relay", serverMode{}, smtpsender.Plaintext, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, tt.mode)
			cfg := smtpsender.Config{
				Host: srv.Host, Port: srv.Port, Security: tt.sec,
				From: "alerts@carrier.example", FromName: "Carrier Security",
				Timeout: 5 * time.Second, Now: fixed,
			}
			if srv.CAs != nil {
				cfg.TLSConfig = &tls.Config{RootCAs: srv.CAs, MinVersion: tls.VersionTLS12}
			}
			if tt.auth {
				cfg.Username, cfg.Password = testUser, testPass
			}
			s, err := smtpsender.New(cfg)
			require.NoError(t, err)
			require.NoError(t, s.Send(context.Background(), delivery()))

			msgs := srv.Messages()
			require.Len(t, msgs, 1)
			got := msgs[0]
			assert.Equal(t, "alerts@carrier.example", got.From)
			assert.Equal(t, []string{"alice@example.com"}, got.To)
			if tt.auth {
				assert.Equal(t, testUser, got.Auth)
			}
			checkMessage(t, got.Data)
		})
	}
}

func checkMessage(t *testing.T, data string) {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(data))
	require.NoError(t, err)
	dec := new(mime.WordDecoder)
	subj, err := dec.DecodeHeader(m.Header.Get("Subject"))
	require.NoError(t, err)
	assert.Equal(t, "SIM swap requested for your line", subj)
	assert.Equal(t, "<0123456789abcdef0123456789abcdef@carrier.example>", m.Header.Get("Message-ID"), "idempotency key in Message-ID")
	assert.Equal(t, "auto-generated", m.Header.Get("Auto-Submitted"))
	assert.Contains(t, m.Header.Get("From"), "alerts@carrier.example")
	date, err := m.Header.Date()
	require.NoError(t, err)
	assert.True(t, date.Equal(fixed()))

	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mt)
	mr := multipart.NewReader(m.Body, params["boundary"])
	bodies := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		b, err := io.ReadAll(p) // multipart decodes quoted-printable
		require.NoError(t, err)
		bodies[ct] = string(b)
	}
	assert.Contains(t, bodies["text/plain"], "line •••• 1234")
	assert.Contains(t, bodies["text/html"], "<p>A SIM swap was requested")
}

func TestSendFailures(t *testing.T) {
	ctx := context.Background()
	base := func(srv *mailServer) smtpsender.Config {
		return smtpsender.Config{Host: srv.Host, Port: srv.Port, From: "alerts@carrier.example", Timeout: 5 * time.Second,
			TLSConfig: &tls.Config{RootCAs: srv.CAs, MinVersion: tls.VersionTLS12}}
	}
	t.Run("wrong password is retried, not permanent", func(t *testing.T) {
		srv := startServer(t, serverMode{tls: true, auth: true})
		cfg := base(srv)
		cfg.Username, cfg.Password = testUser, "wrong"
		s, err := smtpsender.New(cfg)
		require.NoError(t, err)
		err = s.Send(ctx, delivery())
		require.Error(t, err)
		assert.NotErrorIs(t, err, notify.ErrPermanent)
		assert.NotContains(t, err.Error(), "wrong", "password must not leak into errors")
		assert.Empty(t, srv.Messages())
	})
	t.Run("STARTTLS is mandatory", func(t *testing.T) {
		srv := startServer(t, serverMode{})
		s, err := smtpsender.New(base(srv))
		require.NoError(t, err)
		require.Error(t, s.Send(ctx, delivery()))
		assert.Empty(t, srv.Messages())
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		srv := startServer(t, serverMode{implicit: true})
		cfg := base(srv)
		cfg.Security, cfg.TLSConfig = smtpsender.ImplicitTLS, nil
		s, err := smtpsender.New(cfg)
		require.NoError(t, err)
		require.Error(t, s.Send(ctx, delivery()))
		assert.Empty(t, srv.Messages())
	})
	t.Run("recipient rejected permanently", func(t *testing.T) {
		srv := startServer(t, serverMode{tls: true})
		srv.rejectRcpt = errRejected
		s, err := smtpsender.New(base(srv))
		require.NoError(t, err)
		err = s.Send(ctx, delivery())
		require.ErrorIs(t, err, notify.ErrPermanent)
		assert.NotContains(t, err.Error(), "alice@example.com", "errors carry masked addresses only")
		assert.Contains(t, err.Error(), "a•••@example.com")
	})
	t.Run("recipient deferred is retried", func(t *testing.T) {
		srv := startServer(t, serverMode{tls: true})
		srv.rejectRcpt = errBusy
		s, err := smtpsender.New(base(srv))
		require.NoError(t, err)
		err = s.Send(ctx, delivery())
		require.Error(t, err)
		assert.NotErrorIs(t, err, notify.ErrPermanent)
		assert.NotContains(t, err.Error(), "alice@example.com")
	})
	t.Run("server down", func(t *testing.T) {
		s, err := smtpsender.New(smtpsender.Config{Host: "127.0.0.1", Port: 1, From: "a@b.example", Timeout: time.Second})
		require.NoError(t, err)
		err = s.Send(ctx, delivery())
		require.Error(t, err)
		assert.NotErrorIs(t, err, notify.ErrPermanent)
	})
	t.Run("wrong channel or address", func(t *testing.T) {
		s, err := smtpsender.New(smtpsender.Config{Host: "127.0.0.1", From: "a@b.example"})
		require.NoError(t, err)
		d := delivery()
		d.Recipient.Channel = notify.ChannelSMS
		assert.ErrorIs(t, s.Send(ctx, d), notify.ErrPermanent)
		d = delivery()
		d.Recipient.Address = "not an address"
		assert.ErrorIs(t, s.Send(ctx, d), notify.ErrPermanent)
	})
}

func TestNewValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  smtpsender.Config
		want string
	}{
		{"no host", smtpsender.Config{From: "a@b.example"}, "Config.Host is required"},
		{"no from", smtpsender.Config{Host: "smtp.example"}, "Config.From is required"},
		{"bad from", smtpsender.Config{Host: "smtp.example", From: "nope"}, "Config.From must be an email"},
		{"bad security", smtpsender.Config{Host: "smtp.example", From: "a@b.example", Security: "ssl3"}, "Config.Security must be one of"},
		{"bad mechanism", smtpsender.Config{Host: "smtp.example", From: "a@b.example", Mechanism: "ANONYMOUS"}, "Config.Mechanism must be one of"},
		{"auth in clear", smtpsender.Config{Host: "localhost", From: "a@b.example", Security: smtpsender.Plaintext, Username: "u"}, "in the clear"},
		{"plaintext to a remote host", smtpsender.Config{Host: "smtp.example", From: "a@b.example", Security: smtpsender.Plaintext}, "only allowed for a loopback host"},
		{"plaintext to a private address", smtpsender.Config{Host: "10.0.0.25", From: "a@b.example", Security: smtpsender.Plaintext}, "only allowed for a loopback host"},
		{"bad port", smtpsender.Config{Host: "smtp.example", From: "a@b.example", Port: 70000}, "Config.Port must be <= 65535"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := smtpsender.New(tt.cfg)
			require.ErrorIs(t, err, validate.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	_, err := smtpsender.New(smtpsender.Config{Host: "smtp.example", From: "a@b.example", Username: "u", Password: "p"})
	assert.NoError(t, err)
	for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
		_, err = smtpsender.New(smtpsender.Config{Host: host, From: "a@b.example", Security: smtpsender.Plaintext})
		assert.NoError(t, err, "plaintext to a local relay on %s", host)
	}
}
