package protection

import (
	"context"
	"errors"
	"fmt"

	"github.com/carrierguard/carrierguard/notify"
)

// ApplyDueHolds re-decides the held SIM changes and port-outs whose hold has ended, up
// to limit of them (zero means 100), and returns those the policy still permits, for
// the carrier to carry out: call CompleteSIMChange for each (which decides once more,
// atomically with the completion) and carry it out if that returns nil. A due hold the
// policy no longer permits (a flag on, a higher risk, a contact's SIM changed) is
// denied, recorded and announced now, so the subscriber hears of it when it comes due
// rather than when someone tries to complete it; one past its expiry is recorded as
// expired. Run it every few minutes.
//
// It needs a HistoryStore that implements DueHolds; otherwise it returns an error
// wrapping errors.ErrUnsupported (holds are still re-decided by CompleteSIMChange).
func (s *Service) ApplyDueHolds(ctx context.Context, limit int) ([]SIMChange, error) {
	lister, ok := s.history.(DueHolds)
	if !ok {
		return nil, fmt.Errorf("protection: the history store cannot list due holds: %w", errors.ErrUnsupported)
	}
	if limit <= 0 {
		limit = 100
	}
	due, err := lister.DueHolds(ctx, s.now(), limit)
	if err != nil {
		return nil, fmt.Errorf("protection: listing due holds: %w", err)
	}
	system := notify.Actor{Kind: notify.ActorSystem, ID: "protection"}
	var ready []SIMChange
	var errs []error
	for _, rec := range due {
		if now := s.now(); rec.ExpiresAt.IsZero() || !now.Before(rec.ExpiresAt) {
			s.expire(ctx, rec, now)
			continue
		}
		d, now, err := s.redecide(ctx, rec)
		if err == nil && permitsAt(d, now) {
			ready = append(ready, rec)
			continue
		}
		_, fault := s.redecidedDenied(ctx, rec, d, system) // finished meanwhile is no error
		errs = append(errs, err, fault)
	}
	return ready, errors.Join(errs...)
}
