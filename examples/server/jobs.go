package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/protection"
)

// defaultHoldPoll is how often Run looks for held SIM changes and port-outs that have
// come due, unless Options.HoldPoll says otherwise. It must be well under protection's
// approval lifetime (Config.ApprovalTTL, one hour by default): a held approval not
// completed within it after its hold ends expires.
const defaultHoldPoll = time.Minute

// holdJob is the actor the hold job completes changes as.
var holdJob = notify.Actor{Kind: notify.ActorSystem, ID: "hold-job"}

// Run delivers notifications from the outbox and carries out held SIM changes and
// port-outs as their holds come due, until ctx is done. Requests only enqueue
// notifications, so a failing sender never fails a request: the dispatcher retries it.
// Run returns when both have stopped.
func (s *Server) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { s.runHolds(ctx) })
	err := s.dispatcher.Run(ctx)
	wg.Wait()
	return err
}

// runHolds calls applyDueHolds every Options.HoldPoll until ctx is done.
func (s *Server) runHolds(ctx context.Context) {
	every := s.opts.HoldPoll
	if every <= 0 {
		every = defaultHoldPoll
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.applyDueHolds(ctx)
		}
	}
}

// applyDueHolds carries out the held SIM changes and port-outs whose hold has ended and
// that the policy still permits, and returns how many it carried out.
// protection.ApplyDueHolds re-decides each due hold (denying and announcing those a flag,
// a risk or a contact's SIM change now forbids; expiring stale ones); each it returns
// is completed with CompleteSIMChange, which decides once more, atomically with the
// completion (a cancel or a flag turned on in between wins), and only then carried out:
// a SIM swap recorded in the CRM, a port-out's line released. Several replicas may run it
// at once: the completion's compare-and-set lets exactly one carry each change out.
//
// Its decisions are assessed on the account facts only (holdJobContext): there is no
// client, and a credential changed during the hold must be seen.
func (s *Server) applyDueHolds(ctx context.Context) int {
	ctx = holdJobContext(ctx)
	ready, err := s.protect.ApplyDueHolds(ctx, 0)
	if err != nil {
		s.log.WarnContext(ctx, "due holds", "error", err.Error())
	}
	done := 0
	for _, rec := range ready {
		err := s.carryOut(ctx, rec.RequestID, rec.Subscriber, rec.Number, rec.Kind, holdJob)
		switch {
		case errors.Is(err, protection.ErrNotApproved), errors.Is(err, protection.ErrHeld),
			errors.Is(err, protection.ErrNoLongerPermitted), errors.Is(err, protection.ErrApprovalExpired):
			// Cancelled, completed by another replica, re-held, denied or expired meanwhile:
			// recorded and announced by protection; nothing to carry out.
			continue
		case err != nil:
			s.log.ErrorContext(ctx, "completing a due hold", "request", rec.RequestID, "error", err.Error())
			continue
		}
		done++
	}
	return done
}
