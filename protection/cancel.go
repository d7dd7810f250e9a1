package protection

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/notify"
)

// cancelSecretLen is the length of a cancel token's random part, in bytes.
const cancelSecretLen = 32

// maxCancelToken bounds the token input that is parsed and hashed.
const maxCancelToken = 128

// cancelHash is the keyed hash a cancel token is stored as, bound to its request.
func (s *Service) cancelHash(requestID string, secret []byte) []byte {
	m := hmac.New(sha256.New, s.pinKey)
	m.Write(keyring.AssociatedData("carrierguard/protection/cancel-token/v1", requestID, string(secret)))
	return m.Sum(nil)
}

// newCancelToken returns a cancel token for the request and its keyed hash. The token
// is "<request ID>.<base64url secret>": URL-safe, so a notice template can put it in a
// link as it is.
func (s *Service) newCancelToken(requestID string) (string, []byte, error) {
	secret := make([]byte, cancelSecretLen)
	if _, err := io.ReadFull(s.rand, secret); err != nil {
		return "", nil, fmt.Errorf("protection: generating a cancel token: %w", err)
	}
	return requestID + "." + base64.RawURLEncoding.EncodeToString(secret), s.cancelHash(requestID, secret), nil
}

// CancelSIMChange cancels an approved SIM change or port-out (held or not) that is not
// completed yet, for the subscriber who asked for it. Cancelling only ever stops a
// change, so it needs no evidence beyond the caller's authenticated channel: the
// subscriber from any signed-in session (ChannelApp or ChannelWeb, actor the
// subscriber), or a support agent (ChannelChat, ChannelPhone or ChannelStore, actor an
// agent with its ID). A partner cannot cancel.
//
// It records the cancellation in the SIM-change history (StatusCancelled, a
// compare-and-set: a completion racing with it fails) and publishes the denied event of
// the kind with attribute "reason" = "cancelled". It returns ErrNotFound if the
// subscriber has no such request (another subscriber's request is not found either),
// and ErrNotApproved if it is not open (denied, completed, expired or cancelled
// already). A request being completed concurrently is cancelled if its completion has
// not been recorded yet, and the completion then fails.
func (s *Service) CancelSIMChange(ctx context.Context, subscriber, requestID string, ch Channel, actor notify.Actor) error {
	switch {
	case subscriber == "" || requestID == "":
		return fmt.Errorf("%w: subscriber and request ID are required", ErrInvalidRequest)
	case ch.SelfService() && (actor.Kind == "" || actor.Kind == notify.ActorSubscriber):
	case (ch == ChannelChat || ch == ChannelPhone || ch == ChannelStore) && actor.Kind == notify.ActorAgent && actor.ID != "":
	default:
		return fmt.Errorf("%w: a cancel comes from the subscriber in a signed-in session or from an agent with an ID on chat, phone or in a store", ErrInvalidRequest)
	}
	prev, err := s.history.LatestForRequest(ctx, requestID)
	if errors.Is(err, ErrNotFound) || err == nil && prev.Subscriber != subscriber {
		return fmt.Errorf("protection: cancelling SIM change: %w", ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("protection: reading SIM-change request: %w", err)
	}
	return s.cancel(ctx, prev, ch, actor, 0)
}

// CancelSIMChangeByToken cancels an approved SIM change or port-out with the token its
// approved event carried (attribute "cancel"), for a link in the notice: whoever holds
// the notice can stop the change without signing in. The token works once (the request
// is then cancelled), only while the approval is open (it expires with it), and is
// compared in constant time with its stored keyed hash. A malformed, unknown or wrong
// token returns ErrNotFound, all alike; a used one ErrNotApproved, and one whose
// approval has expired (it can no longer be completed either) ErrApprovalExpired.
func (s *Service) CancelSIMChangeByToken(ctx context.Context, token string) error {
	notFound := fmt.Errorf("protection: cancel token: %w", ErrNotFound)
	if len(token) > maxCancelToken {
		return notFound
	}
	id, enc, ok := strings.Cut(token, ".")
	// The decoder skips CR and LF even in strict mode: a token is one exact string.
	if strings.ContainsAny(enc, "\r\n") {
		return notFound
	}
	secret, err := base64.RawURLEncoding.Strict().DecodeString(enc)
	if !ok || id == "" || err != nil || len(secret) != cancelSecretLen {
		return notFound
	}
	prev, err := s.history.LatestForRequest(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return notFound
	}
	if err != nil {
		return fmt.Errorf("protection: reading SIM-change request: %w", err)
	}
	if len(prev.CancelHash) == 0 || !hmac.Equal(prev.CancelHash, s.cancelHash(id, secret)) {
		return notFound
	}
	if prev.Status.Open() && !s.now().Before(prev.ExpiresAt) {
		return fmt.Errorf("protection: cancel token: %w", ErrApprovalExpired)
	}
	return s.cancel(ctx, prev, 0, notify.Actor{Kind: notify.ActorSubscriber, ID: "cancel-link"}, 0)
}

// cancelForbidden cancels the subscriber's open approvals of the kinds flag forbids:
// Never SIM Swap forbids SIM swaps and eSIM transfers, No Port Out port-outs, Account
// Lockdown all of them. It tries every one and returns the errors joined; whatever it
// could not cancel is still re-decided, with the flag on, when completed.
func (s *Service) cancelForbidden(ctx context.Context, subscriber string, flag Flags) error {
	open, err := s.history.OpenSIMChanges(ctx, subscriber)
	if err != nil {
		return fmt.Errorf("protection: listing open SIM changes: %w", err)
	}
	var errs []error
	for _, rec := range open {
		r, forbidden := flagForbids(flag, rec.Kind)
		if !forbidden {
			continue
		}
		err := s.cancel(ctx, rec, 0, notify.Actor{Kind: notify.ActorSystem, ID: "protection"}, reasons(r))
		if err != nil && !errors.Is(err, ErrNotApproved) { // finished meanwhile: nothing to cancel
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// flagForbids reports whether flag forbids changes of kind k, with the reason to record.
func flagForbids(flag Flags, k ChangeKind) (Reason, bool) {
	switch {
	case flag == AccountLockdown:
		return ReasonFlagAccountLockdown, true
	case flag == NeverSIMSwap && (k == ChangeSIMSwap || k == ChangeESIMTransfer):
		return ReasonFlagNeverSIMSwap, true
	case flag == NoPortOut && k == ChangePortOut:
		return ReasonFlagNoPortOut, true
	}
	return 0, false
}

// cancel appends the cancelled record after prev (approved → cancelled) and announces it.
func (s *Service) cancel(ctx context.Context, prev SIMChange, ch Channel, actor notify.Actor, rs ReasonSet) error {
	if !prev.Status.Open() {
		return fmt.Errorf("%w (it is %s)", ErrNotApproved, prev.Status)
	}
	rec := prev
	rec.Status, rec.Time, rec.Actor, rec.Outcome, rec.Reasons = StatusCancelled, s.now(), actorName(actor), Deny, rs
	switch err := s.history.AppendSIMChange(ctx, rec, StatusApproved); {
	case errors.Is(err, ErrConflict):
		return fmt.Errorf("%w (completed or changed by a concurrent call)", ErrNotApproved)
	case err != nil:
		return fmt.Errorf("protection: recording SIM-change cancellation: %w", err)
	}
	_, _, denied, _ := changeEvents(prev.Kind)
	attrs := changeAttrs(prev.Kind, prev.Number)
	attrs["request"], attrs["decision"], attrs["reason"] = prev.RequestID, Deny.String(), "cancelled"
	if rs != 0 {
		attrs["reasons"] = rs.String()
	}
	return s.publish(ctx, s.event(denied, prev.Subscriber, actor, ch, attrs))
}
