package smtpsender_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// mailServer is a real SMTP server (github.com/emersion/go-smtp) running in the test
// process, recording what it receives.
type mailServer struct {
	Host string
	Port int
	// CAs trusts the server's self-signed certificate.
	CAs *x509.CertPool

	mu   sync.Mutex
	msgs []received
	// rejectRcpt, if set, is returned for every RCPT TO.
	rejectRcpt error
}

type received struct {
	From string
	To   []string
	Data string
	Auth string // the authenticated username
}

type serverMode struct {
	tls      bool // advertise STARTTLS
	implicit bool // TLS from the first byte
	auth     bool // require AUTH PLAIN user/secret
}

const (
	testUser = "alerts"
	testPass = "correct horse"
)

func startServer(t testing.TB, mode serverMode) *mailServer {
	t.Helper()
	ms, stop, err := newMailServer(mode)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return ms
}

// newMailServer starts a server on a free loopback port; stop shuts it down.
func newMailServer(mode serverMode) (ms *mailServer, stop func(), err error) {
	ms = &mailServer{}
	be := smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{ms: ms, mode: mode}, nil })
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.AllowInsecureAuth = !mode.tls && !mode.implicit
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	if mode.tls || mode.implicit {
		cert, pool, err := selfSigned()
		if err != nil {
			return nil, nil, err
		}
		ms.CAs = pool
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if mode.implicit {
			l = tls.NewListener(l, srv.TLSConfig)
		}
	}
	go func() { _ = srv.Serve(l) }()
	host, port, _ := net.SplitHostPort(l.Addr().String())
	ms.Host = host
	ms.Port, _ = strconv.Atoi(port)
	return ms, func() { _ = srv.Close() }, nil
}

func (ms *mailServer) Messages() []received {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]received(nil), ms.msgs...)
}

type session struct {
	ms   *mailServer
	mode serverMode
	user string
	cur  received
}

func (s *session) AuthMechanisms() []string {
	if !s.mode.auth {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != testUser || password != testPass {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.mode.auth && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.cur = received{From: from, Auth: s.user}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.ms.mu.Lock()
	reject := s.ms.rejectRcpt
	s.ms.mu.Unlock()
	if reject != nil {
		return reject
	}
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = strings.ReplaceAll(string(b), "\r\n", "\n")
	s.ms.mu.Lock()
	s.ms.msgs = append(s.ms.msgs, s.cur)
	s.ms.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.cur = received{} }
func (s *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost, and a pool trusting it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "carrierguard test SMTP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}

var errRejected = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
var errBusy = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
