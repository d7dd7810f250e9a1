package status

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/carrierguard/carrierguard/internal/token"
	"github.com/carrierguard/carrierguard/notify"
)

// LinkToken is a freshly issued verification link. Put Token in the link you email to
// Email (for example https://carrier.example/verify?t=TOKEN) and nowhere else: not in
// logs, not in analytics. It is returned only here; the store keeps its hash.
type LinkToken struct {
	Token     string
	Email     string
	ExpiresAt time.Time
}

// Verified is the outcome of Verify. With ErrLinkExpired it still names the subscriber
// and address, so the caller can offer "send a new link".
type Verified struct {
	Subscriber string
	Email      string
	VerifiedAt time.Time
}

// By says who made a change, for the event. The zero value is the subscriber.
type By struct {
	Actor notify.Actor
	// Channel is where the request came from ("app", "web", "chat", ...).
	Channel string
}

func (b By) actor() (notify.Actor, error) {
	switch {
	case b.Actor.Kind == "":
		return notify.Actor{Kind: notify.ActorSubscriber}, nil
	case b.Actor.Kind == notify.ActorAgent && b.Actor.ID == "":
		return notify.Actor{}, errors.New("status: By.Actor is an agent without an ID; set the agent's ID")
	}
	return b.Actor, nil
}

// SendLink issues a verification link for email and makes it the subscriber's only
// pending link: an earlier, unused link stops working. Use it for the first link and
// for "resend". It returns ErrInvalidEmail for a malformed address,
// ErrAlreadyVerified if email is already the subscriber's verified address, and
// ErrOtherAddressVerified if another address is: a verified address changes only
// through ChangeEmail, which tells the subscriber (notify.EmailChanged). Delivering the
// link is the caller's job.
//
// The first link sets the subscriber's address of record; after that, links go only
// to the address of record, which ChangeEmail changes. A link for any other address
// gets ErrAddressChanged and is not stored: that is what happens to a resend that read
// the old address just before an email change, so no link to the old address
// survives the change (and one that somehow did would not verify). Such a refusal
// still counts towards the resend limits.
//
// Links are throttled per subscriber, in the store, so the limits hold across
// restarts and racing requests: at most one per Config.MinResendInterval (60 s) and
// Config.HourlyLimit (5) in any sliding hour, counting the links ChangeEmail sends. A
// refused request gets a *ThrottleError (errors.Is ErrThrottled) with RetryAfter, and
// changes nothing: the pending link still works and nothing is counted.
func (s *Service) SendLink(ctx context.Context, subscriber, email string) (LinkToken, error) {
	if subscriber == "" {
		return LinkToken{}, errors.New("status: subscriber is empty")
	}
	email, err := NormalizeEmail(email)
	if err != nil {
		return LinkToken{}, err
	}
	v, verified, err := s.verification(ctx, subscriber)
	if err != nil {
		return LinkToken{}, err
	}
	switch {
	case verified && v.Email == email:
		return LinkToken{}, ErrAlreadyVerified
	case verified:
		return LinkToken{}, ErrOtherAddressVerified
	}
	return s.issue(ctx, subscriber, email)
}

// issue reserves a place under the resend limits, then stores a new link. A refusal is
// returned as the store's *ThrottleError, unwrapped.
func (s *Service) issue(ctx context.Context, subscriber, email string) (LinkToken, error) {
	tok, hash, err := token.New(s.rand)
	if err != nil {
		return LinkToken{}, fmt.Errorf("status: reading random link token: %w", err)
	}
	if err := s.store.ReserveLink(ctx, subscriber, s.limits); err != nil {
		if errors.Is(err, ErrThrottled) {
			return LinkToken{}, err
		}
		return LinkToken{}, fmt.Errorf("status: checking resend limits: %w", err)
	}
	now := s.now()
	l := Link{Subscriber: subscriber, Email: email, Hash: hash, CreatedAt: now, ExpiresAt: now.Add(s.ttl)}
	switch err := s.store.PutLink(ctx, l); {
	case errors.Is(err, ErrAddressChanged):
		return LinkToken{}, fmt.Errorf("%w: the address changed meanwhile; send the link to the current address (ChangeEmail changes it)", ErrAddressChanged)
	case err != nil:
		return LinkToken{}, fmt.Errorf("status: storing verification link: %w", err)
	}
	return LinkToken{Token: tok, Email: email, ExpiresAt: l.ExpiresAt}, nil
}

// ChangeEmail tells the service that the subscriber's address of record changed to
// email: verification starts over. The previous verification and any pending link are
// dropped (so Account Verification is no longer done and the trust gate closes), a new
// link for the new address is issued, and notify.EmailChanged is published with both
// addresses masked. Publish no EmailChanged of your own for the same change.
//
// The link obeys and counts towards the same resend limits as SendLink. Changing the
// address is a different act from asking for a resend, but it mails a link all the
// same: if it were exempt, a client with a session could mail-bomb any address by
// "changing" to it over and over, and if it cleared the history, alternating the two
// calls would lift the limit. So when the limits refuse the link, the change still
// happens (the old verification must not outlive the address it was for, and the
// subscriber is told), and ChangeEmail returns a zero LinkToken with the
// *ThrottleError: send the link with SendLink after RetryAfter. Likewise, when another
// ChangeEmail overtakes this one before its link is stored, this change is still told
// and ChangeEmail returns a zero LinkToken with ErrAddressChanged: the later address is
// the one of record, and only its link verifies.
func (s *Service) ChangeEmail(ctx context.Context, subscriber, email string, by By) (LinkToken, error) {
	if subscriber == "" {
		return LinkToken{}, errors.New("status: subscriber is empty")
	}
	email, err := NormalizeEmail(email)
	if err != nil {
		return LinkToken{}, err
	}
	actor, err := by.actor()
	if err != nil {
		return LinkToken{}, err
	}
	prev, verified, err := s.verification(ctx, subscriber)
	if err != nil {
		return LinkToken{}, err
	}
	if err := s.store.ResetAddress(ctx, subscriber, email); err != nil {
		return LinkToken{}, fmt.Errorf("status: resetting email verification: %w", err)
	}
	link, issueErr := s.issue(ctx, subscriber, email)
	// Throttled or overtaken by a later change, the change itself stands and is told.
	if issueErr != nil && !errors.Is(issueErr, ErrThrottled) && !errors.Is(issueErr, ErrAddressChanged) {
		return LinkToken{}, issueErr
	}
	attrs := map[string]string{"email": MaskEmail(email)}
	if verified {
		attrs["previous_email"] = MaskEmail(prev.Email)
	}
	ev := notify.Event{
		ID: notify.NewID(), Type: notify.EmailChanged, Subscriber: subscriber, Time: s.now(),
		Actor: actor, Channel: by.Channel, Attributes: attrs,
	}
	if err := s.pub.Publish(ctx, ev); err != nil {
		// The reset stands (it only ever makes the account less trusted).
		return LinkToken{}, fmt.Errorf("status: email verification reset but event not published: %w", err)
	}
	return link, issueErr
}

// Verify consumes a verification link token: the address it was sent to becomes the
// subscriber's verified address and notify.EmailVerified is published. A token verifies
// once. Malformed, unknown, used and replaced tokens get ErrInvalidLink; an expired one
// gets ErrLinkExpired together with the subscriber and address to resend to.
func (s *Service) Verify(ctx context.Context, tok string) (Verified, error) {
	hash, ok := token.Parse(tok)
	if !ok {
		return Verified{}, ErrInvalidLink
	}
	now := s.now()
	l, err := s.store.ConsumeLink(ctx, hash, now)
	switch {
	case errors.Is(err, ErrNotFound):
		return Verified{}, ErrInvalidLink
	case errors.Is(err, ErrExpired):
		return Verified{Subscriber: l.Subscriber, Email: l.Email}, ErrLinkExpired
	case err != nil:
		return Verified{}, fmt.Errorf("status: consuming verification link: %w", err)
	}
	ev := notify.Event{
		ID: notify.NewID(), Type: notify.EmailVerified, Subscriber: l.Subscriber, Time: now,
		Actor: notify.Actor{Kind: notify.ActorSubscriber}, Channel: "email",
		Attributes: map[string]string{"email": MaskEmail(l.Email)},
	}
	res := Verified{Subscriber: l.Subscriber, Email: l.Email, VerifiedAt: now}
	if err := s.pub.Publish(ctx, ev); err != nil {
		return res, fmt.Errorf("status: email verified but event not published: %w", err)
	}
	return res, nil
}
