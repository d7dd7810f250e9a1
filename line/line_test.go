package line_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/internal/testkey"
	"github.com/carrierguard/carrierguard/line"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/store/memory"
)

const (
	victimLine = "+12015550001"
	otherLine  = "+12015550002"
)

// phones records the SMS codes sent, by number: only the holder of a SIM reads its own.
type phones struct {
	mu   sync.Mutex
	last map[string]line.Message
	fail bool
	// after, if set, runs once the message is accepted, and its error is returned.
	after func(ctx context.Context) error
	sent  int
}

func (p *phones) SendLineCode(ctx context.Context, m line.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail {
		return errors.New("gateway down")
	}
	p.last[m.Number] = m
	p.sent++
	if p.after != nil {
		return p.after(ctx)
	}
	return nil
}

func (p *phones) code(number string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last[number].Code
}

type fixture struct {
	svc   *line.Service
	sms   *phones
	pub   *notify.Recorder
	prov  map[string]string // number -> subscriber, the carrier's records
	provE error
	// swapped are numbers with a recent SIM change; simE fails the history.
	swapped map[string]bool
	simE    error
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, otp.SMSBudgets{HomeRegions: []string{"US"}})
}

func newFixtureWith(t *testing.T, budgets otp.SMSBudgets) *fixture {
	t.Helper()
	clock := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	mo := memory.Options{Now: clock.Now}
	o := memory.NewOTP(mo)
	codes, err := otp.NewCodes(otp.CodeConfig{HashKey: testkey.New("line"), Now: clock.Now, Budgets: budgets}, o, o, notify.PublisherFunc(func(context.Context, notify.Event) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{sms: &phones{last: map[string]line.Message{}}, pub: &notify.Recorder{}, prov: map[string]string{}, swapped: map[string]bool{}}
	sims := simChangesFunc(func(_ context.Context, num string, d time.Duration) (bool, error) {
		if d != line.DefaultSIMChangeWindow {
			t.Errorf("SIM-change window %v, want the default", d)
		}
		return f.swapped[num], f.simE
	})
	f.svc, err = line.New(line.Config{Now: clock.Now}, line.Deps{Store: memory.NewLines(mo), Codes: codes, Sender: f.sms, Publisher: f.pub, SIMChanges: sims,
		Provisioning: line.ProvisioningFunc(func(_ context.Context, sub, num string) (bool, error) {
			return f.prov[num] == sub, f.provE
		})})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCheckProvisioning(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.prov[victimLine] = "victim"
	if _, err := f.svc.Check(ctx, "stranger", victimLine); !errors.Is(err, line.ErrUnproved) {
		t.Fatalf("Check(stranger) = %v, want ErrUnproved", err)
	}
	f.provE = errors.New("billing down")
	if _, err := f.svc.Check(ctx, "victim", victimLine); err == nil || errors.Is(err, line.ErrUnproved) {
		t.Fatalf("Check with provisioning down = %v, want its error", err)
	}
	if _, err := f.svc.Owner(ctx, victimLine); !errors.Is(err, line.ErrNotFound) {
		t.Fatalf("a provisioning failure bound the line: %v", err)
	}
	f.provE = nil
	b, err := f.svc.Check(ctx, "victim", "+1 201 555 0001")
	if err != nil || b.Subscriber != "victim" || b.Source != line.SourceProvisioning || b.Number != victimLine {
		t.Fatalf("Check(victim) = %+v, %v", b, err)
	}
	// Once bound, provisioning cannot hand it to someone else behind the binding's back.
	f.prov[victimLine] = "stranger"
	if _, err := f.svc.Check(ctx, "stranger", victimLine); !errors.Is(err, line.ErrUnproved) {
		t.Fatalf("Check(stranger) after binding = %v, want ErrUnproved", err)
	}
	if _, err := f.svc.Check(ctx, "victim", otherLine); !errors.Is(err, line.ErrUnproved) {
		t.Fatalf("Check(unprovisioned number) = %v, want ErrUnproved", err)
	}
	if _, err := f.svc.Check(ctx, "victim", "not a number"); !errors.Is(err, line.ErrInvalidRequest) {
		t.Fatalf("Check(malformed) = %v, want ErrInvalidRequest", err)
	}
}

func TestProveBySMS(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ch, err := f.svc.Begin(ctx, "alice", otherLine)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Masked != "•••• 0002" {
		t.Errorf("Masked = %q", ch.Masked)
	}
	if _, err := f.svc.Check(ctx, "alice", otherLine); !errors.Is(err, line.ErrUnproved) {
		t.Fatalf("a number was a line before its code was read back: %v", err)
	}
	code := f.sms.code(otherLine)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if _, err := f.svc.Complete(ctx, line.CompleteRequest{Subscriber: "alice", Number: otherLine, ChallengeID: ch.ID, Code: wrong}); !errors.Is(err, otp.ErrInvalidCode) {
		t.Fatalf("wrong code = %v, want otp.ErrInvalidCode", err)
	}
	// The right code for another subscriber or number proves nothing.
	if _, err := f.svc.Complete(ctx, line.CompleteRequest{Subscriber: "mallory", Number: otherLine, ChallengeID: ch.ID, Code: code}); err == nil {
		t.Fatal("another subscriber completed alice's challenge")
	}
	if _, err := f.svc.Complete(ctx, line.CompleteRequest{Subscriber: "alice", Number: victimLine, ChallengeID: ch.ID, Code: code}); err == nil {
		t.Fatal("the code proved another number")
	}
	b, err := f.svc.Complete(ctx, line.CompleteRequest{Subscriber: "alice", Number: otherLine, ChallengeID: ch.ID, Code: code})
	if err != nil || b.Source != line.SourceSMSCode || b.Subscriber != "alice" {
		t.Fatalf("Complete = %+v, %v", b, err)
	}
	if _, err := f.svc.Check(ctx, "alice", otherLine); err != nil {
		t.Fatalf("Check after proof = %v", err)
	}
	evs := f.pub.Events()
	if len(evs) != 1 || evs[0].Type != notify.AccountDetailsChanged || evs[0].Attributes["line"] != "•••• 0002" || evs[0].Subscriber != "alice" {
		t.Fatalf("events = %+v", evs)
	}
	if _, err := f.svc.Complete(ctx, line.CompleteRequest{Subscriber: "alice", Number: otherLine, ChallengeID: ch.ID, Code: code}); !errors.Is(err, otp.ErrReplay) {
		t.Fatalf("code replayed = %v, want otp.ErrReplay", err)
	}
	if err := f.svc.Release(ctx, "mallory", otherLine); !errors.Is(err, line.ErrNotFound) {
		t.Fatalf("Release by another subscriber = %v", err)
	}
	if err := f.svc.Release(ctx, "alice", otherLine); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Check(ctx, "alice", otherLine); !errors.Is(err, line.ErrUnproved) {
		t.Fatalf("Check after Release = %v", err)
	}
}

// TestAttackStrangerCannotProveVictimsLine: a stranger who registered the victim's
// number cannot make it his line, even with a code the victim was talked into reading
// out, once the victim's line is proved.
func TestAttackStrangerCannotProveVictimsLine(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.prov[victimLine] = "victim"
	if _, err := f.svc.Check(ctx, "victim", victimLine); err != nil {
		t.Fatal(err)
	}
	ch, err := f.svc.Begin(ctx, "stranger", victimLine) // the SMS goes to the victim's phone
	if err != nil {
		t.Fatalf("Begin = %v (Begin must not reveal that the number is a customer's)", err)
	}
	phished := f.sms.code(victimLine)
	if _, err := f.svc.Complete(ctx, line.CompleteRequest{Subscriber: "stranger", Number: victimLine, ChallengeID: ch.ID, Code: phished}); !errors.Is(err, line.ErrTaken) {
		t.Fatalf("Complete = %v, want ErrTaken", err)
	}
	if b, _ := f.svc.Owner(ctx, victimLine); b.Subscriber != "victim" {
		t.Fatalf("the line moved to %q", b.Subscriber)
	}
	if _, err := f.svc.Check(ctx, "stranger", victimLine); !errors.Is(err, line.ErrUnproved) {
		t.Fatalf("Check(stranger) = %v, want ErrUnproved", err)
	}
	if n := len(f.pub.Events()); n != 0 {
		t.Fatalf("%d line events for a refused proof", n)
	}
}

type simChangesFunc func(ctx context.Context, number string, d time.Duration) (bool, error)

func (f simChangesFunc) SIMChangedWithin(ctx context.Context, number string, d time.Duration) (bool, error) {
	return f(ctx, number, d)
}

// TestAttackSMSProofAfterSIMSwap: whoever swapped a SIM reads its SMS; a number with a
// recent SIM change is not proved by SMS, and a failing history refuses too.
func TestAttackSMSProofAfterSIMSwap(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.swapped[otherLine] = true
	if _, err := f.svc.Begin(ctx, "thief", otherLine); !errors.Is(err, line.ErrRecentSIMChange) {
		t.Fatalf("Begin after a SIM change = %v, want ErrRecentSIMChange", err)
	}
	if c := f.sms.code(otherLine); c != "" {
		t.Fatal("a code was sent to a freshly swapped number")
	}
	// Swapped between Begin and Complete.
	f.swapped[otherLine] = false
	ch, err := f.svc.Begin(ctx, "thief", otherLine)
	if err != nil {
		t.Fatal(err)
	}
	f.swapped[otherLine] = true
	if _, err := f.svc.Complete(ctx, line.CompleteRequest{Subscriber: "thief", Number: otherLine, ChallengeID: ch.ID, Code: f.sms.code(otherLine)}); !errors.Is(err, line.ErrRecentSIMChange) {
		t.Fatalf("Complete after a SIM change = %v, want ErrRecentSIMChange", err)
	}
	f.swapped[otherLine] = false
	f.simE = errors.New("history down")
	if _, err := f.svc.Begin(ctx, "thief", victimLine); err == nil || errors.Is(err, line.ErrRecentSIMChange) {
		t.Fatalf("Begin with the history down = %v, want its error", err)
	}
	if _, err := f.svc.Owner(ctx, otherLine); !errors.Is(err, line.ErrNotFound) {
		t.Fatalf("the line was bound: %v", err)
	}
}

func TestBeginSenderFails(t *testing.T) {
	f := newFixture(t)
	f.sms.fail = true
	if _, err := f.svc.Begin(context.Background(), "alice", otherLine); err == nil || !strings.Contains(err.Error(), "gateway down") {
		t.Fatalf("Begin = %v, want the sender's error", err)
	}
	f.sms.fail = false
	// The withdrawn code does not count toward the resend interval.
	if _, err := f.svc.Begin(context.Background(), "alice", otherLine); err != nil {
		t.Fatalf("Begin after the gateway came back = %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	st, pub := memory.NewLines(memory.Options{}), &notify.Recorder{}
	prov := line.ProvisioningFunc(func(context.Context, string, string) (bool, error) { return false, nil })
	for name, d := range map[string]line.Deps{
		"no store":          {Publisher: pub, Provisioning: prov},
		"no publisher":      {Store: st, Provisioning: prov},
		"no way to prove":   {Store: st, Publisher: pub},
		"codes, no sender":  {Store: st, Publisher: pub, Codes: &otp.Codes{}},
		"sender, no codes":  {Store: st, Publisher: pub, Sender: &phones{}},
		"codes, no history": {Store: st, Publisher: pub, Codes: &otp.Codes{}, Sender: &phones{}},
	} {
		if _, err := line.New(line.Config{}, d); !errors.Is(err, line.ErrInvalidRequest) {
			t.Errorf("%s: New = %v, want ErrInvalidRequest", name, err)
		}
	}
	svc, err := line.New(line.Config{}, line.Deps{Store: st, Publisher: pub, Provisioning: prov})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Begin(context.Background(), "alice", otherLine); !errors.Is(err, line.ErrInvalidRequest) {
		t.Fatalf("Begin without codes = %v", err)
	}
}

// Attack: SMS bombing by hanging up. The stranger asks for a line code and closes the
// connection while the gateway call is in flight: the gateway took the SMS, but the
// Sender returns the context's error. A send the caller abandoned may have gone out, so
// it is not refunded: the next request waits out the resend interval as after any sent
// code. A gateway that refuses outright still gets a refund (TestBeginSenderFails).
func TestAttackHangUpDoesNotRefundASentCode(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	f.sms.after = func(ctx context.Context) error {
		cancel() // the gateway accepted it, and then the client hung up
		return ctx.Err()
	}
	_, err := f.svc.Begin(ctx, "mallory", otherLine)
	if err == nil {
		t.Fatal("Begin succeeded with a cancelled context")
	}
	for range 5 {
		if _, err := f.svc.Begin(context.Background(), "mallory", otherLine); err == nil {
			t.Fatalf("another code went out at once after %d sent: the abandoned send was refunded", f.sms.sent)
		}
	}
	if f.sms.sent != 1 {
		t.Fatalf("%d codes sent, want 1", f.sms.sent)
	}
}

// A line proof a client asks for is an SMS like any other: BeginFrom spends the
// client's SMS budget, so one client cannot have codes sent to number after number by
// claiming a line on each new account (SMS pumping), while another client is not held
// up; an address that does not parse is refused, never "no limit".
func TestBeginFromSpendsTheClientsBudget(t *testing.T) {
	f := newFixtureWith(t, otp.SMSBudgets{HomeRegions: []string{"US"}, PerClient: 2})
	ctx := context.Background()
	const pump = "198.51.100.7"
	for i := range 2 {
		if _, err := f.svc.BeginFrom(ctx, fmt.Sprint("pump-", i), fmt.Sprintf("+1201555%04d", 100+i), pump); err != nil {
			t.Fatalf("BeginFrom %d: %v", i, err)
		}
	}
	_, err := f.svc.BeginFrom(ctx, "pump-2", "+12015550102", pump+":4711")
	var be *otp.BudgetError
	if !errors.As(err, &be) || be.Limit != otp.BudgetClient {
		t.Fatalf("third BeginFrom from one client = %v, want the client budget's refusal", err)
	}
	if _, err := f.svc.BeginFrom(ctx, "pump-2", "+12015550102", "203.0.113.9"); err != nil {
		t.Fatalf("BeginFrom another client = %v", err)
	}
	if _, err := f.svc.BeginFrom(ctx, "pump-3", "+12015550103", "not an address"); err == nil {
		t.Fatal("BeginFrom with a client address that does not parse succeeded")
	}
}
