package httpsender_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/notify/httpsender"
)

var (
	key   = []byte("0123456789abcdef0123456789abcdef")
	fixed = time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
)

func sms() notify.Delivery {
	return notify.Delivery{
		IdempotencyKey: "idem-1", Type: notify.PortOutRequested,
		Recipient: notify.Recipient{Channel: notify.ChannelSMS, Address: "+15551234567"},
		Content:   notify.Content{Text: `Account Security: port-out requested for line **** 4567 "now".`},
		Attempt:   1,
	}
}

type captured struct {
	method, contentType, idem, sig, auth string
	body                                 []byte
}

func gateway(t *testing.T, status int) (*httptest.Server, func() []captured) {
	t.Helper()
	var (
		mu  sync.Mutex
		got []captured
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, captured{r.Method, r.Header.Get("Content-Type"), r.Header.Get("Idempotency-Key"),
			r.Header.Get("X-Carrierguard-Signature"), r.Header.Get("Authorization"), b})
		mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"echo":"+15551234567"}`))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []captured { mu.Lock(); defer mu.Unlock(); return append([]captured(nil), got...) }
}

func TestSendSignedJSON(t *testing.T) {
	srv, got := gateway(t, http.StatusAccepted)
	s, err := httpsender.New(httpsender.Config{
		URL: srv.URL, SigningKey: key, Now: func() time.Time { return fixed },
		Header: http.Header{"Authorization": {"Bearer gw-key"}},
	})
	require.NoError(t, err)
	require.NoError(t, s.Send(context.Background(), sms()))

	reqs := got()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodPost, r.method)
	assert.Equal(t, "application/json", r.contentType)
	assert.Equal(t, "idem-1", r.idem)
	assert.Equal(t, "Bearer gw-key", r.auth)
	var body map[string]string
	require.NoError(t, json.Unmarshal(r.body, &body))
	assert.Equal(t, map[string]string{
		"to": "+15551234567", "channel": "sms", "type": "port_out.requested", "title": "",
		"text": sms().Content.Text, "idempotency_key": "idem-1",
	}, body)

	require.NoError(t, httpsender.Verify(key, r.sig, r.body, fixed.Add(time.Minute), 5*time.Minute))
	assert.ErrorIs(t, httpsender.Verify(key, r.sig, append(r.body, ' '), fixed, 5*time.Minute), httpsender.ErrBadSignature, "tampered body")
	assert.ErrorIs(t, httpsender.Verify([]byte("another key, 32 bytes long......"), r.sig, r.body, fixed, 5*time.Minute), httpsender.ErrBadSignature, "wrong key")
	assert.ErrorIs(t, httpsender.Verify(key, r.sig, r.body, fixed.Add(10*time.Minute), 5*time.Minute), httpsender.ErrBadSignature, "replayed later")
	assert.ErrorIs(t, httpsender.Verify(key, "", r.body, fixed, 5*time.Minute), httpsender.ErrBadSignature, "missing")
}

func TestSendStatusPolicy(t *testing.T) {
	tests := []struct {
		status    int
		ok, retry bool
	}{
		{200, true, false}, {201, true, false}, {202, true, false}, {204, true, false}, {299, true, false},
		{302, false, false},
		{400, false, false}, {401, false, false}, {403, false, false}, {404, false, false}, {422, false, false},
		{408, false, true}, {425, false, true}, {429, false, true},
		{500, false, true}, {502, false, true}, {503, false, true}, {504, false, true},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			srv, _ := gateway(t, tt.status)
			s, err := httpsender.New(httpsender.Config{URL: srv.URL})
			require.NoError(t, err)
			err = s.Send(context.Background(), sms())
			switch {
			case tt.ok:
				assert.NoError(t, err)
			case tt.retry:
				require.Error(t, err)
				assert.NotErrorIs(t, err, notify.ErrPermanent)
			default:
				assert.ErrorIs(t, err, notify.ErrPermanent)
			}
			if err != nil {
				assert.NotContains(t, err.Error(), "+15551234567", "errors carry masked numbers only")
				assert.Contains(t, err.Error(), "•••• 4567")
			}
		})
	}
}

func TestSendTimeoutIsRetried(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	t.Cleanup(func() { close(release); srv.Close() })
	s, err := httpsender.New(httpsender.Config{URL: srv.URL + "/send?api_key=shh", Timeout: 50 * time.Millisecond})
	require.NoError(t, err)
	err = s.Send(context.Background(), sms())
	require.Error(t, err)
	assert.NotErrorIs(t, err, notify.ErrPermanent)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotContains(t, err.Error(), "shh", "the URL (and any key in it) is not in the error")
}

func TestCustomFormBodyPushAndTLS(t *testing.T) {
	var form url.Values
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		form = r.PostForm
		assert.Equal(t, http.MethodPut, r.Method)
		assert.Equal(t, "k-push", r.Header.Get("X-Request-Id"))
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	s, err := httpsender.New(httpsender.Config{
		URL: srv.URL, Method: http.MethodPut, Client: srv.Client(),
		ContentType:       "application/x-www-form-urlencoded",
		Body:              `token={{urlquery .To}}&title={{urlquery .Subject}}&body={{urlquery .Text}}`,
		IdempotencyHeader: "X-Request-Id",
	})
	require.NoError(t, err)
	d := notify.Delivery{IdempotencyKey: "k-push", Type: notify.SignInNewDevice,
		Recipient: notify.Recipient{Channel: notify.ChannelPush, Address: "device-token-abc"},
		Content:   notify.Content{Subject: "New sign-in", Text: "A new device & more"}}
	require.NoError(t, s.Send(context.Background(), d))
	assert.Equal(t, "device-token-abc", form.Get("token"))
	assert.Equal(t, "New sign-in", form.Get("title"))
	assert.Equal(t, "A new device & more", form.Get("body"))

	d.Recipient.Channel = notify.ChannelEmail
	assert.ErrorIs(t, s.Send(context.Background(), d), notify.ErrPermanent)
}

func TestNewValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  httpsender.Config
		want string
	}{
		{"no url", httpsender.Config{}, "Config.URL is required"},
		{"not a url", httpsender.Config{URL: "gateway"}, "Config.URL must be an absolute URL"},
		{"plain http to a remote host", httpsender.Config{URL: "http://sms.example/send"}, "https"},
		{"bad method", httpsender.Config{URL: "https://sms.example", Method: "DELETE"}, "Config.Method must be one of"},
		{"short key", httpsender.Config{URL: "https://sms.example", SigningKey: []byte("short")}, "Config.SigningKey must be at least 16"},
		{"body does not parse", httpsender.Config{URL: "https://sms.example", Body: "{{.To"}, "does not parse"},
		{"body does not render", httpsender.Config{URL: "https://sms.example", Body: "{{.Nope}}"}, "does not render"},
		{"body not json", httpsender.Config{URL: "https://sms.example", Body: `{"to": {{.Text}}}`}, "valid JSON"},
		{"signed body without the idempotency key", httpsender.Config{URL: "https://sms.example", SigningKey: key,
			Body: `{"to":{{json .To}},"text":{{json .Text}}}`}, "must include .IdempotencyKey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := httpsender.New(tt.cfg)
			require.ErrorIs(t, err, validate.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	for _, u := range []string{"https://sms.example/v1", "http://127.0.0.1:8080/x", "http://localhost/x", "http://[::1]/x"} {
		_, err := httpsender.New(httpsender.Config{URL: u})
		assert.NoError(t, err, u)
	}
	_, err := httpsender.New(httpsender.Config{URL: "https://sms.example", SigningKey: key,
		Body: `to={{urlquery .To}}&text={{urlquery .Text}}&ref={{urlquery .IdempotencyKey}}`, ContentType: "application/x-www-form-urlencoded"})
	assert.NoError(t, err, "a signed form body that carries the key")
}

func FuzzVerify(f *testing.F) {
	f.Add([]byte("body"), "t=1,v1=00", int64(1))
	f.Add([]byte(`{"to":"+1"}`), httpsender.Sign(key, fixed, []byte(`{"to":"+1"}`)), fixed.Unix())
	f.Add([]byte(""), "v1=zz,t=-5,,=", int64(0))
	f.Fuzz(func(t *testing.T, body []byte, header string, sec int64) {
		now := time.Unix(sec%(1<<40), 0)
		// Any header: no panic. Verify's answer on arbitrary input is checked below
		// through the round-trip properties.
		_ = httpsender.Verify(key, header, body, now, time.Minute)
		// Round trip: what Sign makes, Verify accepts; one flipped body byte is rejected.
		sig := httpsender.Sign(key, now, body)
		if err := httpsender.Verify(key, sig, body, now, time.Minute); err != nil {
			t.Fatalf("round trip failed: %v", err)
		}
		if len(body) > 0 {
			bad := append([]byte(nil), body...)
			bad[0] ^= 1
			if httpsender.Verify(key, sig, bad, now, time.Minute) == nil {
				t.Fatal("a modified body verified")
			}
		}
	})
}
