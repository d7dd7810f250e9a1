package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/carrierguard/carrierguard/session"
)

// jsonEndpoints are every endpoint that reads a JSON body, with the credentials it
// needs: "s" a subscriber session, "a" the agent token, "p" the partner token.
var jsonEndpoints = []struct{ method, path, auth string }{
	{"POST", "/v1/signup", ""},
	{"POST", "/v1/email/verify", ""},
	{"POST", "/v1/signin", ""},
	{"POST", "/v1/signin/challenge", ""},
	{"POST", "/v1/signin/complete", ""},
	{"POST", "/v1/2fa/contacts", "s"},
	{"POST", "/v1/2fa/contacts/x/verify", "s"},
	{"POST", "/v1/2fa/challenge", "s"},
	{"POST", "/v1/2fa/verify", "s"},
	{"POST", "/v1/2fa/authenticator/confirm", "s"},
	{"POST", "/v1/reauth", "s"},
	{"POST", "/v1/sessions/revoke-all", "s"},
	{"POST", "/v1/password/change", "s"},
	{"PUT", "/v1/questions", "s"},
	{"POST", "/v1/sim-swap", "s"},
	{"POST", "/v1/esim-transfer", "s"},
	{"POST", "/v1/port-out", "s"},
	{"POST", "/v1/line/verify", "s"},
	{"POST", "/partner/v1/port-out", "p"},
	{"POST", "/agent/v1/cases", "a"},
	{"POST", "/agent/v1/cases/{case}/verify/questions", "a"},
	{"POST", "/agent/v1/cases/{case}/verify/code/send", "a"},
	{"POST", "/agent/v1/cases/{case}/verify/code", "a"},
	{"POST", "/agent/v1/cases/{case}/verify/id", "a"},
	{"POST", "/agent/v1/cases/{case}/sim-swap", "a"},
	{"POST", "/agent/v1/cases/{case}/port-out", "a"},
}

// FuzzJSONEndpoints posts arbitrary bodies to every JSON endpoint, authenticated, and
// checks the property the issue asks for: bad input never gets a 5xx, and every
// error is a JSON {code, message}.
func FuzzJSONEndpoints(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"email":"a@example.com","password":"correct horse battery staple zebra","name":"A","phone":"+14155550109"}`,
		`{"email":1}`, `{"token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`, `{"number":"+14155550102","transfer_pin":"123456"}`,
		`{"phone":"+14155550102","channel":"phone"}`, `{"question_id":"poem-line","spoken":"x"}`, `{"choices":[{"question_id":"poem-line","answer":"a"}]}`,
		`{"keep_current":true}`, `{"kind":"email","value":"b@example.org"}`, `{"signin_id":"x","method":"recovery_code","code":"ABCDE-FGHJK"}`,
		`{"challenge_id":"x","code":"123456"}`, `{"contact_id":"x","purpose":"sim_swap"}`, `{"current":"a","new":"b"}`, `{"request_id":"\u0000"}`, `{"a":` + strings.Repeat("[", 1000),
		"\xff\xfe", `{"email":"a@example.com","password":"` + strings.Repeat("p", 2000) + `"}`,
	} {
		// Every seed goes to every endpoint, so that a plain `go test` (which runs only
		// the seeds) covers them all, not just the first.
		for i := range jsonEndpoints {
			f.Add(seed, uint8(i))
		}
	}
	h := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, body string, pick uint8) {
		ep := jsonEndpoints[int(pick)%len(jsonEndpoints)]
		path := strings.Replace(ep.path, "{case}", h.caseID, 1)
		req := httptest.NewRequest(ep.method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(deviceHeader, "fuzz-device")
		req.RemoteAddr = "192.0.2.9:5555"
		switch ep.auth {
		case "s":
			req.Header.Set("Authorization", "Bearer "+h.token(t))
		case "a":
			req.Header.Set("Authorization", "Bearer "+testAgentToken)
		case "p":
			req.Header.Set("Authorization", "Bearer "+testPartnerToken)
		}
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s with %q: %d %s", ep.method, ep.path, body, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 && !strings.Contains(rec.Body.String(), `"code":"`) {
			t.Fatalf("%s %s: error without a code: %s", ep.method, ep.path, rec.Body.String())
		}
	})
}

type fuzzServer struct {
	srv    *Server
	sub    string
	caseID string
}

func newFuzzServer(f *testing.F) *fuzzServer {
	srv, err := New(Options{Demo: true, Agents: testAgents(), PartnerToken: testPartnerToken, IPRate: -1, SubscriberRate: -1})
	if err != nil {
		f.Fatal(err)
	}
	d, err := srv.createDemo(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/agent/v1/cases", strings.NewReader(`{"phone":"`+d.Phone+`","channel":"phone"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testAgentToken)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		f.Fatal(rec.Body.String())
	}
	i := strings.Index(rec.Body.String(), `"case_id":"`)
	return &fuzzServer{srv: srv, sub: d.ID, caseID: rec.Body.String()[i+11 : i+11+5+32]}
}

// token starts a fresh session (the body may have signed the last one out), directly
// through the session service: no password hash per iteration.
func (h *fuzzServer) token(t *testing.T) string {
	tok, _, err := h.srv.sessions.Create(context.Background(), h.sub,
		session.Client{Device: "fuzz-device", UserAgent: "Go-http-client/1.1", IP: netip.MustParseAddr("192.0.2.9")},
		session.ProofPassword)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
