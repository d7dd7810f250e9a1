package stepup_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/session"
	"github.com/carrierguard/carrierguard/stepup"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/twofactor"
)

// tags is a stand-in for twofactor's HMAC: a proof is genuine if its tag is the one
// sign gives it.
type tags struct{}

func sign(p twofactor.Proof) twofactor.Proof {
	p.Tag = []byte(p.Subscriber + "|" + string(p.Method) + "|" + string(p.Purpose) + "|" + p.At.Format(time.RFC3339Nano))
	return p
}

func (tags) VerifyProof(subscriber string, p twofactor.Proof) error {
	switch {
	case string(sign(p).Tag) != string(p.Tag):
		return errors.New("not genuine")
	case p.Subscriber != subscriber:
		return errors.New("another subscriber's")
	}
	return nil
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	now   time.Time
	store *memory.StepUp
	svc   *stepup.Service
	alice session.Session
	bob   session.Session
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{now: t0, store: memory.NewStepUp(memory.Options{}),
		alice: session.Session{ID: "sa", Subscriber: "alice"}, bob: session.Session{ID: "sb", Subscriber: "bob"}}
	var err error
	f.svc, err = stepup.New(stepup.Config{Now: func() time.Time { return f.now }}, f.store, tags{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func proof(sub string, m twofactor.Method, purpose otp.Purpose, at time.Time) twofactor.Proof {
	return sign(twofactor.Proof{Subscriber: sub, Method: m, Purpose: purpose, At: at})
}

func TestNewValidates(t *testing.T) {
	st := memory.NewStepUp(memory.Options{})
	for name, tc := range map[string]struct {
		cfg stepup.Config
		st  stepup.Store
		v   stepup.Verifier
	}{
		"negative keep": {cfg: stepup.Config{Keep: -1}, st: st, v: tags{}},
		"negative max":  {cfg: stepup.Config{MaxPerSession: -1}, st: st, v: tags{}},
		"no store":      {v: tags{}},
		"no verifier":   {st: st},
	} {
		if _, err := stepup.New(tc.cfg, tc.st, tc.v); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

// A proof counts only for the purpose it was given for: a code read out "for account
// change" is never handed out for a SIM swap.
func TestLatestMatchesPurposeOnly(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	ac := proof("alice", twofactor.MethodContactCode, otp.PurposeAccountChange, t0)
	if err := f.svc.Remember(ctx, f.alice, ac); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := f.svc.Latest(ctx, f.alice, otp.PurposeSIMSwap); ok || err != nil {
		t.Fatalf("an account-change proof came back for a SIM swap (ok=%v, err=%v)", ok, err)
	}
	got, ok, err := f.svc.Latest(ctx, f.alice, otp.PurposeAccountChange)
	if !ok || err != nil || !got.At.Equal(t0) {
		t.Fatalf("Latest(account_change) = %v, %v, %v", got, ok, err)
	}
	// The newest of a purpose wins, whatever its method.
	f.now = t0.Add(time.Minute)
	app := proof("alice", twofactor.MethodAuthenticator, otp.PurposeAccountChange, f.now)
	if err := f.svc.Remember(ctx, f.alice, app); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := f.svc.Latest(ctx, f.alice, otp.PurposeAccountChange); got.Method != twofactor.MethodAuthenticator {
		t.Errorf("Latest = %v, want the newer app proof", got)
	}
	if ps, _ := f.svc.Proofs(ctx, f.alice, otp.PurposeAccountChange); len(ps) != 2 || ps[0].Method != twofactor.MethodAuthenticator {
		t.Errorf("Proofs = %v, want both, newest first", ps)
	}
}

// A session holds only its own subscriber's genuine proofs.
func TestRememberRefusesForeignAndForged(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	bobs := proof("bob", twofactor.MethodAuthenticator, otp.PurposeSIMSwap, t0)
	if err := f.svc.Remember(ctx, f.alice, bobs); !errors.Is(err, stepup.ErrInvalidProof) {
		t.Errorf("Remember of bob's proof in alice's session: %v", err)
	}
	forged := proof("alice", twofactor.MethodAuthenticator, otp.PurposeAccountChange, t0)
	forged.Purpose = otp.PurposeSIMSwap // altered after it was tagged
	if err := f.svc.Remember(ctx, f.alice, forged); !errors.Is(err, stepup.ErrInvalidProof) {
		t.Errorf("Remember of an altered proof: %v", err)
	}
	if err := f.svc.Remember(ctx, session.Session{}, bobs); !errors.Is(err, stepup.ErrInvalidSession) {
		t.Errorf("Remember without a session: %v", err)
	}
	if _, ok, _ := f.svc.Latest(ctx, f.alice, otp.PurposeSIMSwap); ok {
		t.Error("a refused proof was kept")
	}
}

// A record altered or moved in the store counts for nothing: Latest checks it again.
func TestLatestChecksStoredProofs(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := proof("bob", twofactor.MethodAuthenticator, otp.PurposeSIMSwap, t0)
	// Bob's proof written straight into alice's session, and an altered one.
	if err := f.store.PutProof(ctx, stepup.Record{Session: "sa", Slot: stepup.Slot(p), Proof: p, ExpiresAt: t0.Add(time.Hour)}, 16, t0); err != nil {
		t.Fatal(err)
	}
	q := proof("alice", twofactor.MethodRecoveryCode, otp.PurposeAccountChange, t0)
	q.Purpose = otp.PurposeSIMSwap
	if err := f.store.PutProof(ctx, stepup.Record{Session: "sa", Slot: stepup.Slot(q), Proof: q, ExpiresAt: t0.Add(time.Hour)}, 16, t0); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := f.svc.Latest(ctx, f.alice, otp.PurposeSIMSwap); ok {
		t.Errorf("Latest handed out %v", got)
	}
	// A proof remembered in bob's session is not alice's.
	if err := f.svc.Remember(ctx, f.bob, p); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := f.svc.Latest(ctx, session.Session{ID: "sb", Subscriber: "alice"}, otp.PurposeSIMSwap); ok {
		t.Error("bob's session's proof came back for alice")
	}
}

func TestKeepAndBound(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if err := f.svc.Remember(ctx, f.alice, proof("alice", twofactor.MethodAuthenticator, otp.PurposeSIMSwap, t0)); err != nil {
		t.Fatal(err)
	}
	f.now = t0.Add(stepup.DefaultKeep)
	if _, ok, _ := f.svc.Latest(ctx, f.alice, otp.PurposeSIMSwap); ok {
		t.Error("a proof older than Keep still counts")
	}
	// The session holds at most MaxPerSession proofs: made-up purposes cannot grow it.
	for i := range 40 {
		f.now = f.now.Add(time.Second)
		_ = f.svc.Remember(ctx, f.alice, proof("alice", twofactor.MethodAuthenticator, otp.Purpose("p"+string(rune('a'+i%26))+string(rune('a'+i/26))), f.now))
	}
	if rs, _ := f.store.Proofs(ctx, "sa"); len(rs) > stepup.DefaultMaxPerSession {
		t.Errorf("the session holds %d proofs, more than %d", len(rs), stepup.DefaultMaxPerSession)
	}
}

// A credential change forgets every proof given until then, in every session of the
// subscriber; another subscriber's stay.
func TestRevokeProofs(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	other := session.Session{ID: "sa2", Subscriber: "alice"}
	for _, s := range []session.Session{f.alice, other} {
		if err := f.svc.Remember(ctx, s, proof("alice", twofactor.MethodAuthenticator, otp.PurposeSIMSwap, t0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.svc.Remember(ctx, f.bob, proof("bob", twofactor.MethodAuthenticator, otp.PurposeSIMSwap, t0)); err != nil {
		t.Fatal(err)
	}
	var r session.ProofRevoker = f.svc
	if err := r.RevokeProofs(ctx, "alice", t0); err != nil {
		t.Fatal(err)
	}
	for _, s := range []session.Session{f.alice, other} {
		if _, ok, _ := f.svc.Latest(ctx, s, otp.PurposeSIMSwap); ok {
			t.Errorf("session %s kept a proof from before the change", s.ID)
		}
	}
	if _, ok, _ := f.svc.Latest(ctx, f.bob, otp.PurposeSIMSwap); !ok {
		t.Error("bob's proof went with alice's change")
	}
	if err := f.svc.Forget(ctx, f.bob.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := f.svc.Latest(ctx, f.bob, otp.PurposeSIMSwap); ok {
		t.Error("Forget kept the session's proof")
	}
}
