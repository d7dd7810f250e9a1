// Package redacttest renders a value every way an integrator might print, log or
// encode it, for tests that check a secret it carries never shows.
package redacttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
)

// verbs are the fmt verbs Renderings prints with.
var verbs = [...]string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"}

// Renderings returns v printed by fmt with each of the common verbs (%v, %+v, %#v, %s,
// %q, %x, %X, %d, %T), encoded by encoding/json, and logged as an attribute through
// log/slog's text and JSON handlers. An encoding error fails the test.
func Renderings(t testing.TB, v any) []string {
	t.Helper()
	out := make([]string, 0, len(verbs)+3)
	for _, verb := range verbs {
		out = append(out, fmt.Sprintf(verb, v))
	}
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal(%T): %v", v, err)
	}
	out = append(out, string(js))
	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("request", "req", v)
		out = append(out, buf.String())
	}
	return out
}
