package protection_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/protection"
)

// partnerFixture is a fixture whose service has the probe store.
func partnerFixture(t *testing.T, mutate ...func(*protection.Config)) *fixture {
	t.Helper()
	f := newFixture(t, mutate...)
	cfg := protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: f.clock.Now}
	for _, m := range mutate {
		m(&cfg)
	}
	svc, err := protection.New(cfg, protection.Stores{Flags: f.store, History: f.store, PINs: f.store, Probes: f.store}, f.rec)
	require.NoError(t, err)
	f.svc = svc
	return f
}

func (f *fixture) issuePIN(t *testing.T, sub string) string {
	t.Helper()
	pin, d, err := f.svc.IssueTransferPIN(context.Background(), sub, f.strongApp(), notify.Actor{})
	require.NoError(t, err)
	require.Equal(t, protection.Allow, d.Outcome)
	return pin
}

func partnerReq(sub, number, pin string) protection.PartnerRequest {
	return protection.PartnerRequest{Partner: "acme-mobile", Subscriber: sub, Number: number, PIN: pin, Risk: protection.RiskLow}
}

// portOutEvents counts the port-out events published (none may follow a probe).
func portOutEvents(r *notify.Recorder) int {
	return countType(r, notify.PortOutRequested) + countType(r, notify.PortOutDenied) + countType(r, notify.PortOutApproved)
}

// Attack: a partner probing numbers to learn which are customers, and what protects
// them. Every request that is not accepted gets the same answer and no error, whether
// the number is a customer's or not, with or without flags, with no PIN or a wrong one;
// a probe without a PIN notifies no one; and each is audited in the history.
func TestAttackPartnerProbeLearnsNothing(t *testing.T) {
	ctx := context.Background()
	f := partnerFixture(t)
	f.issuePIN(t, "alice")
	f.issuePIN(t, "bob")
	require.NoError(t, f.svc.EnableFlag(ctx, "bob", protection.NoPortOut, protection.ChannelApp, notify.Actor{}))
	f.rec.Reset()

	probes := []struct {
		name string
		req  protection.PartnerRequest
		why  protection.Rejection
	}{
		{"customer, no PIN", partnerReq("alice", "+15550100001", ""), protection.RejectNoPIN},
		{"customer with No Port Out, no PIN", partnerReq("bob", "+15550100002", ""), protection.RejectNoPIN},
		{"not a customer, no PIN", partnerReq("", "+15550109999", ""), protection.RejectNotCustomer},
		{"customer, wrong PIN", partnerReq("alice", "+15550100001", "000000"), protection.RejectWrongPIN},
		{"customer with No Port Out, wrong PIN", partnerReq("bob", "+15550100002", "000000"), protection.RejectWrongPIN},
		{"not a customer, a PIN", partnerReq("", "+15550109999", "123456"), protection.RejectNotCustomer},
		{"customer without a live PIN", partnerReq("carol", "+15550100003", "123456"), protection.RejectNoLivePIN},
	}
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			ans, err := f.svc.PartnerPortOut(ctx, p.req)
			require.NoError(t, err)
			assert.Equal(t, protection.PartnerAnswer{}, ans, "every rejection is the zero answer")
			recs, err := f.svc.SIMChangeHistory(ctx, p.req.Number, time.Time{})
			require.NoError(t, err)
			require.NotEmpty(t, recs, "audited")
			last := recs[len(recs)-1]
			assert.Equal(t, protection.StatusRejected, last.Status)
			assert.Equal(t, p.why, last.Rejection)
			assert.Equal(t, protection.ChannelPartner, last.Channel)
			assert.Equal(t, "system:partner:acme-mobile", last.Actor)
		})
	}
	assert.Empty(t, f.rec.Types(), "no probe notifies anyone")
}

// Attack: a transfer PIN spent by a port-out the policy denies. With No Port Out on, a
// partner alone cannot port the number even with the right PIN: the subscriber hears
// of the attempt (the PIN was right), the partner gets the same rejection as for a
// wrong PIN, and the PIN still works afterwards.
func TestAttackPINSpentByDeniedPortOut(t *testing.T) {
	ctx := context.Background()
	f := partnerFixture(t)
	pin := f.issuePIN(t, "alice")
	require.NoError(t, f.svc.EnableFlag(ctx, "alice", protection.NoPortOut, protection.ChannelApp, notify.Actor{}))
	f.rec.Reset()

	ans, err := f.svc.PartnerPortOut(ctx, partnerReq("alice", "+15550100001", pin))
	require.NoError(t, err)
	assert.Equal(t, protection.PartnerAnswer{}, ans)
	assert.Equal(t, []notify.Type{notify.PortOutRequested, notify.PortOutDenied}, f.rec.Types(), "a request with the right PIN is real: the subscriber is told")
	e, _ := f.rec.Last(notify.PortOutDenied)
	assert.Contains(t, e.Attributes["reasons"], "flag_no_port_out")

	_, err = f.svc.VerifyTransferPIN(ctx, "alice", pin)
	assert.NoError(t, err, "the PIN was not spent by the denied port-out")
}

// The right PIN on a port-out the policy permits is accepted, spent once, and can be
// completed with the reference; the same PIN again is rejected like any other.
func TestPartnerPortOutAccepted(t *testing.T) {
	ctx := context.Background()
	f := partnerFixture(t)
	pin := f.issuePIN(t, "alice")
	f.rec.Reset()

	ans, err := f.svc.PartnerPortOut(ctx, partnerReq("alice", "+1 555 010 0001", pin))
	require.NoError(t, err)
	require.True(t, ans.Accepted)
	require.NotEmpty(t, ans.Reference)
	assert.Equal(t, []notify.Type{notify.PortOutRequested, notify.PortOutApproved}, f.rec.Types())

	again, err := f.svc.PartnerPortOut(ctx, partnerReq("alice", "+15550100001", pin))
	require.NoError(t, err)
	assert.Equal(t, protection.PartnerAnswer{}, again, "spent")

	require.NoError(t, f.svc.CompleteSIMChange(ctx, ans.Reference, notify.Actor{Kind: notify.ActorSystem, ID: "npac"}))
	last, err := f.svc.LastSIMChange(ctx, "+15550100001")
	require.NoError(t, err)
	assert.Equal(t, t0, last)
}

// Of storetest.Contenders partners racing with the same right PIN, exactly one is accepted.
func TestPartnerPortOutPINOnce(t *testing.T) {
	ctx := context.Background()
	f := partnerFixture(t, func(c *protection.Config) { c.PartnerLimit = 1000 })
	pin := f.issuePIN(t, "alice")
	results := make(chan protection.PartnerAnswer, 64)
	errs := make(chan error, 64)
	start := make(chan struct{})
	for range 64 {
		go func() {
			<-start
			ans, err := f.svc.PartnerPortOut(ctx, partnerReq("alice", "+15550100001", pin))
			results <- ans
			errs <- err
		}()
	}
	close(start)
	accepted := 0
	for range 64 {
		if (<-results).Accepted {
			accepted++
		}
		<-errs // a loser that passed the check but lost the PIN gets an error and a rejection
	}
	assert.Equal(t, 1, accepted)
	assert.Equal(t, 1, countType(f.rec, notify.PortOutApproved))
}

// Probes are limited per partner: PartnerLimit rejections per PartnerWindow, then
// ErrPartnerLimited without checking anything; accepted requests do not count; other
// partners are not affected; the window slides.
func TestPartnerProbesRateLimited(t *testing.T) {
	ctx := context.Background()
	f := partnerFixture(t, func(c *protection.Config) { c.PartnerLimit = 5; c.PartnerWindow = time.Hour })
	for i := range 5 {
		_, err := f.svc.PartnerPortOut(ctx, partnerReq("", fmt.Sprintf("+1555010%04d", i), ""))
		require.NoError(t, err, "probe %d", i)
	}
	pin := f.issuePIN(t, "alice")
	_, err := f.svc.PartnerPortOut(ctx, partnerReq("alice", "+15550100001", pin))
	assert.ErrorIs(t, err, protection.ErrPartnerLimited, "the limit applies before any check")
	other := partnerReq("", "+15550109999", "")
	other.Partner = "other-carrier"
	_, err = f.svc.PartnerPortOut(ctx, other)
	assert.NoError(t, err, "another partner has its own limit")

	f.clock.Advance(time.Hour + time.Second)
	f.issuePIN(t, "alice")
	pin = f.issuePIN(t, "alice")
	for range 3 {
		ans, err := f.svc.PartnerPortOut(ctx, partnerReq("alice", "+15550100001", pin))
		require.NoError(t, err)
		if ans.Accepted {
			pin = f.issuePIN(t, "alice") // accepted: not counted
		}
	}
	for i := range 5 {
		_, err := f.svc.PartnerPortOut(ctx, partnerReq("", fmt.Sprintf("+1555020%04d", i), ""))
		require.NoError(t, err, "after the window and three accepted requests, probe %d", i)
	}
	_, err = f.svc.PartnerPortOut(ctx, partnerReq("", "+15550309999", ""))
	assert.ErrorIs(t, err, protection.ErrPartnerLimited)
}

// Wrong PINs notify the subscriber once, when they lock the PIN, however many follow.
func TestPartnerWrongPINsDoNotFloodTheSubscriber(t *testing.T) {
	ctx := context.Background()
	f := partnerFixture(t, func(c *protection.Config) { c.PartnerLimit = 100 })
	f.issuePIN(t, "alice")
	f.rec.Reset()
	for i := range 50 {
		ans, err := f.svc.PartnerPortOut(ctx, partnerReq("alice", "+15550100001", fmt.Sprintf("%06d", 900000+i)))
		require.NoError(t, err)
		assert.False(t, ans.Accepted)
	}
	assert.Equal(t, []notify.Type{notify.Lockout}, f.rec.Types())
	assert.Zero(t, portOutEvents(f.rec))
}

func TestPartnerPortOutRefuses(t *testing.T) {
	ctx := context.Background()
	f := partnerFixture(t)
	for name, req := range map[string]protection.PartnerRequest{
		"no partner": {Subscriber: "alice", Number: "+15550100001", Risk: protection.RiskLow},
		"bad number": {Partner: "p", Number: "555", Risk: protection.RiskLow},
		"no risk":    {Partner: "p", Number: "+15550100001"},
		"no risk, ≠": {Partner: "p", Subscriber: "alice", Number: "+15550100001"},
	} {
		_, err := f.svc.PartnerPortOut(ctx, req)
		assert.ErrorIs(t, err, protection.ErrInvalidRequest, name)
	}
	noProbes := newFixture(t)
	_, err := noProbes.svc.PartnerPortOut(ctx, partnerReq("", "+15550100001", ""))
	assert.Error(t, err, "without a probe store there is no limit, so no partner API")
}
