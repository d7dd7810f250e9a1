package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// BenchmarkSIMSwapDecision measures the SIM-swap decision endpoint in-process, through
// the whole handler chain (request ID, headers, routing, bearer-session validation,
// strict JSON decoding, the email-verification gate, risk scoring, the protection
// decision, the FCC history records and the notifications): a signed-in subscriber
// under Never SIM Swap asks for a SIM swap and is denied. Rate limits are off (one
// client would hit them).
//
// What it measures is the request path, as a client sees it: each request routes its
// notifications and durably stores one message per recipient and channel in the
// (memory) outbox before it answers, exactly as in production. Rendering them is not
// on that path (the server publishes with notify.Config.DeferRendering, so the
// dispatcher renders when it sends), and the dispatcher is not running here: its
// rendering and sending, done by its own workers, are measured by notify's
// BenchmarkDispatch and BenchmarkDispatchDeferred. Deferring moves that CPU off the
// request; it does not remove it: a server that dispatches in-process spends it in its
// dispatcher workers, at the pace the senders allow. The history and the outbox grow for
// the whole run.
func BenchmarkSIMSwapDecision(b *testing.B) {
	srv, tok := benchServer(b)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		simSwapOnce(b, srv, ctx, tok)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkSIMSwapDecisionParallel is the same request from as many goroutines as
// GOMAXPROCS, for the throughput of the whole machine.
func BenchmarkSIMSwapDecisionParallel(b *testing.B) {
	srv, tok := benchServer(b)
	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			simSwapOnce(b, srv, ctx, tok)
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

func simSwapOnce(b *testing.B, srv *Server, ctx context.Context, tok string) {
	req, _ := http.NewRequestWithContext(ctx, "POST", "/v1/sim-swap", strings.NewReader(`{}`))
	req.RemoteAddr = "192.0.2.1:1234"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set(deviceHeader, "bench-device")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	// Check the body without copying it to a string: the harness's allocations are not
	// the endpoint's.
	if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"outcome":"deny"`)) {
		b.Errorf("%d %s", rec.Code, rec.Body.String())
	}
}

// benchServer is a production-mode server (no dev mailbox) with the demo subscriber
// signed in and Never SIM Swap on.
func benchServer(b *testing.B) (*Server, string) {
	srv, err := New(Options{Demo: false, IPRate: -1, SubscriberRate: -1})
	if err != nil {
		b.Fatal(err)
	}
	d, err := srv.createDemo(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/v1/signin", strings.NewReader(`{"email":"`+d.Email+`","password":"`+d.Password+`"}`))
	req.RemoteAddr = "192.0.2.1:1234"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(deviceHeader, "bench-device")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatal(rec.Body.String())
	}
	tok := tokenInBody(b, rec.Body.String())
	req = httptest.NewRequest("PUT", "/v1/protection/flags/never_sim_swap", nil)
	req.RemoteAddr = "192.0.2.1:1234"
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set(deviceHeader, "bench-device")
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatal(rec.Body.String())
	}
	return srv, tok
}

func tokenInBody(b *testing.B, body string) string {
	i := strings.Index(body, `"token":"`)
	if i < 0 {
		b.Fatal("no token in " + body)
	}
	return body[i+9 : i+9+43]
}
