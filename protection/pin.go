package protection

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/carrierguard/carrierguard/internal/cleanup"
	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/notify"
)

// maxPINInput bounds the PIN input that is hashed.
const maxPINInput = 64

// pinHash is the keyed hash a transfer PIN is stored as, bound to its subscriber.
func (s *Service) pinHash(subscriber, pin string) []byte {
	m := hmac.New(sha256.New, s.pinKey)
	m.Write(keyring.AssociatedData("carrierguard/protection/transfer-pin/v1", subscriber, pin))
	return m.Sum(nil)
}

// newPIN returns PINDigits uniformly random decimal digits. crypto/rand.Int rejects
// out-of-range draws instead of reducing modulo 10^n, so there is no bias.
func (s *Service) newPIN() (string, error) {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(s.pinDigits)), nil)
	n, err := rand.Int(s.rand, limit)
	if err != nil {
		return "", fmt.Errorf("protection: generating a transfer PIN: %w", err)
	}
	return fmt.Sprintf("%0*d", s.pinDigits, n), nil
}

// IssueTransferPIN issues a transfer PIN, the one-time secret a port-out needs, after the
// policy permits ActionIssueTransferPIN (req.Action is set for you). It returns the PIN
// to show once to the subscriber; only its keyed hash is stored. The PIN replaces any
// earlier one, is valid for PINTTL (7 days) and for one port-out. It publishes
// notify.TransferPINIssued; if that fails, the new PIN is revoked and the request
// denied with ReasonFault. If the policy does not allow it now (step-up, hold or deny),
// the PIN is empty and the decision says why.
//
// Issuing never resets the failure count (GUIDE 4): the new PIN inherits it, and with it
// any lockout. So a subscriber whose PIN was locked by wrong guesses can, after passing
// the policy again, get a new PIN at once, but it works only when the lockout ends
// (PINLockout, 1 hour by default; the event then carries "usable_from"), and the next
// PINMaxFailures wrong guesses lock again. Each lock destroys the live PIN, so a guesser
// gets at most PINMaxFailures tries per PIN, and only the subscriber, authenticated and
// notified each time, can issue another.
func (s *Service) IssueTransferPIN(ctx context.Context, subscriber string, req Request, actor notify.Actor) (string, Decision, error) {
	req.Action = ActionIssueTransferPIN
	d, err := s.Decide(ctx, subscriber, req)
	if err != nil || d.Outcome != Allow {
		return "", d, err
	}
	pin, err := s.newPIN()
	if err != nil {
		return "", faultDecision(req.Action, req.Channel, ReasonFault), err
	}
	now := s.now()
	stored, err := s.pins.PutPIN(ctx, TransferPIN{Subscriber: subscriber, Hash: s.pinHash(subscriber, pin), IssuedAt: now, ExpiresAt: now.Add(s.pinTTL)})
	if err != nil {
		return "", faultDecision(req.Action, req.Channel, ReasonStoreFault), fmt.Errorf("protection: storing transfer PIN: %w", err)
	}
	attrs := map[string]string{"expires_at": stored.ExpiresAt.UTC().Format(time.RFC3339)}
	if now.Before(stored.LockedUntil) {
		attrs["usable_from"] = stored.LockedUntil.UTC().Format(time.RFC3339)
	}
	if err := s.publish(ctx, s.event(notify.TransferPINIssued, subscriber, actor, req.Channel, attrs)); err != nil {
		// The PIN is never shown, but it is live and a guess could still match it: a PIN
		// the subscriber was not told of must not stay usable, so revoke it (best effort;
		// the failure count and any lockout are kept). A PIN issued concurrently would be
		// revoked too; the subscriber can issue another.
		cctx, cancel := cleanup.Context(ctx)
		defer cancel()
		if _, rerr := s.pins.RevokePIN(cctx, subscriber, now); rerr != nil {
			s.log.Error("protection: could not revoke a transfer PIN whose issue was not announced", "error", rerr)
			err = errors.Join(err, fmt.Errorf("protection: revoking the unannounced transfer PIN: %w", rerr))
		}
		return "", faultDecision(req.Action, req.Channel, ReasonFault), err
	}
	return pin, d, nil
}

// RevokeTransferPIN destroys the subscriber's live transfer PIN, for example when the
// subscriber no longer wants to port out or the carrier suspects the PIN leaked. Like
// turning a flag on, it only tightens, so the caller needs only the authenticated
// channel it already has; the failure count and any lockout are kept. It returns
// ErrNotFound if there was no live PIN.
//
// It publishes no event: a revocation can only stop a port-out, never enable one, so
// it is not something a subscriber must be warned about; notify has no type for it and
// none of the existing ones would describe it truthfully; and the subscriber who needs a
// PIN again gets one through IssueTransferPIN, which is announced.
func (s *Service) RevokeTransferPIN(ctx context.Context, subscriber string) error {
	if subscriber == "" {
		return fmt.Errorf("%w: subscriber is empty", ErrInvalidRequest)
	}
	live, err := s.pins.RevokePIN(ctx, subscriber, s.now())
	if err != nil {
		return fmt.Errorf("protection: revoking transfer PIN: %w", err)
	}
	if !live {
		return fmt.Errorf("protection: revoking transfer PIN: %w", ErrNotFound)
	}
	return nil
}

// VerifyTransferPIN checks a transfer PIN and consumes it: it works once. On success it
// returns the evidence to add to the port-out request. It returns ErrPINMismatch for a
// wrong PIN (counted), ErrPINLocked while the subscriber's PINs are locked, and
// ErrNotFound if the subscriber has no live PIN. The wrong guess that starts a lockout
// returns an error matching both ErrPINMismatch and ErrPINLocked, and publishes
// notify.Lockout (attribute "locked" = "transfer_pin", and "until"): someone may be
// trying to port the number out. The PIN never appears in errors or events.
func (s *Service) VerifyTransferPIN(ctx context.Context, subscriber, pin string) (Evidence, error) {
	if subscriber == "" {
		return Evidence{}, fmt.Errorf("%w: subscriber is empty", ErrInvalidRequest)
	}
	now := s.now()
	st, err := s.pins.ConsumePIN(ctx, subscriber, s.pinHash(subscriber, capPIN(pin)), now, PINLimits{MaxFailures: s.pinFailures, Lockout: s.pinLockout})
	if errors.Is(err, ErrPINMismatch) && s.announceLockout(ctx, subscriber, st, now) {
		// This guess started the lockout.
		return Evidence{}, fmt.Errorf("protection: transfer PIN: %w; %w", err, ErrPINLocked)
	}
	if err != nil {
		return Evidence{}, fmt.Errorf("protection: transfer PIN: %w", err)
	}
	return Evidence{Kind: EvidenceTransferPIN, ObtainedAt: now}, nil
}
