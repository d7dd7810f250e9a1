package questions

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/carrierguard/carrierguard/internal/cleanup"
	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/twofactor"
)

// MinMatchThreshold is the lowest Config.MatchThreshold accepted: half of an answer
// scores 0.6, and must never match.
const MinMatchThreshold = 0.7

// Defaults for zero Config fields.
const (
	DefaultMaxFailures   = 3
	DefaultFailureWindow = 24 * time.Hour
	DefaultProofMaxAge   = 10 * time.Minute
)

// Config configures a [Service]. The zero value is ready to use.
type Config struct {
	// MaxFailures is how many failed verifications (no match or close) within
	// FailureWindow lock verification for a subscriber. Zero means DefaultMaxFailures (3).
	MaxFailures int `validate:"gte=0,lte=100"`
	// FailureWindow is the sliding window failures are counted in; the lock lifts when
	// enough failures age out of it. Zero means DefaultFailureWindow (24 hours).
	FailureWindow time.Duration `validate:"gte=0"`
	// MatchThreshold is the score at or above which an answer matches. Zero means
	// DefaultMatchThreshold (0.82); it may not be below MinMatchThreshold (0.7).
	MatchThreshold float64 `validate:"gte=0,lte=1"`
	// CloseThreshold is the score at or above which a non-matching answer is reported as
	// close. Zero means DefaultCloseThreshold (0.6). It must be below MatchThreshold.
	CloseThreshold float64 `validate:"gte=0,lte=1"`
	// ProofMaxAge is how old a second-factor proof may be when questions are changed.
	// Zero means DefaultProofMaxAge (10 minutes).
	ProofMaxAge time.Duration `validate:"gte=0"`
	// ProofMethods lists the second-factor methods a proof for Change may use:
	// ProofAuthenticator, ProofSMS, ProofEmail or ProofRecoveryCode. Empty means an
	// authenticator code or a code sent to a trusted contact (SMS or email): every
	// method but a recovery code.
	//
	// A recovery code alone is left out by default. It is a fallback written down for the
	// day a factor is lost, lives for months, and is stolen with a notebook or a
	// screenshot; security questions are what support agents check before a SIM swap,
	// so replacing them deserves a factor the subscriber holds now. A subscriber left
	// with only recovery codes signs in with one, sets up a contact or authenticator
	// again, and then changes their questions. An SMS code is accepted because package
	// twofactor refuses to send one to a number swapped or ported recently. List
	// ProofRecoveryCode here to accept recovery codes too.
	ProofMethods []string
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Rand supplies custom question IDs. Nil means crypto/rand.Reader.
	Rand io.Reader
}

// Service enrolls, changes and verifies security questions. It is safe for concurrent
// use.
type Service struct {
	cfg      Config
	answers  AnswerStore
	attempts AttemptStore
	keys     keyring.Keyring
	events   notify.Publisher
	proofs   ProofVerifier
}

// New validates cfg, fills in defaults and returns a Service. Every dependency is
// required.
//
// proofs checks the second-factor proofs Change is given: pass the *twofactor.Service
// that issues them.
func New(cfg Config, answers AnswerStore, attempts AttemptStore, keys keyring.Keyring, events notify.Publisher, proofs ProofVerifier) (*Service, error) {
	if err := validate.Struct("questions", cfg); err != nil {
		return nil, err
	}
	switch {
	case answers == nil:
		return nil, validate.Errorf("questions", "the AnswerStore is nil: pass a store such as memory.NewQuestionAnswers")
	case attempts == nil:
		return nil, validate.Errorf("questions", "the AttemptStore is nil: pass a store such as memory.NewQuestionAttempts")
	case keys == nil:
		return nil, validate.Errorf("questions", "the keyring is nil: answers are sealed with it")
	case events == nil:
		return nil, validate.Errorf("questions", "the notify.Publisher is nil: every change and verification publishes an event")
	case proofs == nil:
		return nil, validate.Errorf("questions", "the ProofVerifier is nil: pass the *twofactor.Service that issues second-factor proofs, so Change can check that a proof is genuine")
	}
	for _, m := range cfg.ProofMethods {
		if !slices.Contains(knownProofMethods, m) {
			return nil, validate.Errorf("questions", "Config.ProofMethods holds %q: use ProofAuthenticator, ProofSMS, ProofEmail or ProofRecoveryCode, or leave it empty for the default", m)
		}
	}
	if len(cfg.ProofMethods) == 0 {
		cfg.ProofMethods = defaultProofMethods
	}
	cfg.ProofMethods = slices.Clone(cfg.ProofMethods)
	if cfg.MaxFailures == 0 {
		cfg.MaxFailures = DefaultMaxFailures
	}
	if cfg.FailureWindow == 0 {
		cfg.FailureWindow = DefaultFailureWindow
	}
	if cfg.MatchThreshold == 0 {
		cfg.MatchThreshold = DefaultMatchThreshold
	}
	if cfg.CloseThreshold == 0 {
		cfg.CloseThreshold = DefaultCloseThreshold
	}
	if cfg.MatchThreshold < MinMatchThreshold {
		return nil, validate.Errorf("questions", "Config.MatchThreshold %.2f is below %.2f: half of an answer (\"Sherlock\" for \"Sherlock Holmes\") scores 0.6 and would match; leave it zero for the default %.2f", cfg.MatchThreshold, MinMatchThreshold, DefaultMatchThreshold)
	}
	if cfg.CloseThreshold >= cfg.MatchThreshold {
		return nil, validate.Errorf("questions", "Config.CloseThreshold %.2f must be below Config.MatchThreshold %.2f", cfg.CloseThreshold, cfg.MatchThreshold)
	}
	if cfg.ProofMaxAge == 0 {
		cfg.ProofMaxAge = DefaultProofMaxAge
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Service{cfg: cfg, answers: answers, attempts: attempts, keys: keys, events: events, proofs: proofs}, nil
}

// answerAD is the associated data of a sealed answer: it binds the ciphertext to its
// subscriber, question and record version, so a copy in any other place fails to open.
func answerAD(subscriber, questionID string, version uint64) []byte {
	return keyring.AssociatedData("carrierguard/questions/answer", subscriber, questionID, strconv.FormatUint(version, 10))
}

// sealedFormat is the first byte of every sealed plaintext, so the layout can change.
const sealedFormat = 1

// Enroll sets a subscriber's first security questions and publishes
// notify.SecurityQuestionsSet. A subscriber who already has questions gets
// ErrAlreadyEnrolled: use Change. It returns the chosen questions (never answers).
//
// The event is published only once the questions are stored, so a failed write is
// never announced; if publishing then fails, the write is undone and Enroll returns an
// error wrapping ErrUnavailable, so questions are never set unannounced. (Change does
// the same.) If publishing works but a later step fails, the questions are returned
// with the error.
func (s *Service) Enroll(ctx context.Context, e Enrollment) ([]Question, error) {
	return s.set(ctx, e, "")
}

// Change replaces a subscriber's security questions. It needs a fresh second-factor
// proof for the same subscriber, from a completed [twofactor.Service.Complete]: genuine
// (checked with the [ProofVerifier] given to New), by one of Config.ProofMethods, and
// no older than Config.ProofMaxAge. Anything else gets an error wrapping
// ErrProofRequired and changes nothing. A change publishes
// notify.SecurityQuestionsChanged and clears past verification failures, lifting a
// lock.
func (s *Service) Change(ctx context.Context, e Enrollment, proof twofactor.Proof) ([]Question, error) {
	if err := s.checkProof(proof, e.Subscriber, s.cfg.Now()); err != nil {
		return nil, err
	}
	return s.set(ctx, e, proof.ProofMethod())
}

// set stores e as the subscriber's questions: a first enrollment when proofMethod is
// empty, otherwise a change proved by that method.
func (s *Service) set(ctx context.Context, e Enrollment, proofMethod string) ([]Question, error) {
	change := proofMethod != ""
	choices, err := s.validateEnrollment(e, s.cfg.Rand)
	if err != nil {
		return nil, err
	}
	version := uint64(1)
	prev, err := s.answers.Get(ctx, e.Subscriber)
	switch {
	case errors.Is(err, ErrNotFound):
		if change {
			return nil, fmt.Errorf("%w: use Enroll", ErrNotEnrolled)
		}
	case err != nil:
		return nil, fmt.Errorf("%w: reading questions: %w", ErrUnavailable, err)
	case !change:
		return nil, ErrAlreadyEnrolled
	default:
		version = prev.Version + 1
	}
	now := s.cfg.Now()
	rec := Record{Subscriber: e.Subscriber, Version: version, UpdatedAt: now, Answers: make([]SealedAnswer, 0, len(choices))}
	ids := make([]string, 0, len(choices))
	for _, c := range choices {
		pt := make([]byte, 0, 1+len(c.answer))
		pt = append(append(pt, sealedFormat), c.answer...)
		sealed, err := s.keys.Seal(ctx, pt, answerAD(e.Subscriber, c.q.ID, version))
		clear(pt)
		if err != nil {
			return nil, fmt.Errorf("%w: sealing an answer: %w", ErrUnavailable, err)
		}
		rec.Answers = append(rec.Answers, SealedAnswer{QuestionID: c.q.ID, Question: c.q.Text, Custom: c.q.Custom, Sealed: sealed})
		ids = append(ids, c.q.ID)
	}
	if err := s.answers.Put(ctx, rec); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, fmt.Errorf("%w (the questions were set at the same time elsewhere; reload them and try again)", err)
		}
		return nil, fmt.Errorf("%w: storing questions: %w", ErrUnavailable, err)
	}

	// The event announces what was stored, so it goes out only after the write: a
	// subscriber is never told of a change that did not happen. Nor does a change happen
	// unheard: if the event cannot be published, the write is undone. Once it is
	// published the change stands; a failure below is reported with the questions.
	ev := notify.Event{
		ID: notify.NewID(), Type: notify.SecurityQuestionsSet, Subscriber: e.Subscriber, Time: now,
		Actor: notify.Actor{Kind: notify.ActorSubscriber}, Channel: e.Channel,
		Attributes: map[string]string{"question_ids": strings.Join(ids, ",")},
	}
	if change {
		ev.Type = notify.SecurityQuestionsChanged
		ev.Attributes["proof_method"] = proofMethod
	}
	if err := s.events.Publish(ctx, ev); err != nil {
		err = fmt.Errorf("%w: event %s not published: %w", ErrUnavailable, ev.Type, err)
		switch uerr := s.withdraw(ctx, rec, prev, change); {
		case errors.Is(uerr, ErrConflict):
			// Another write got there first: what stands is its doing, not this one's.
			return nil, errors.Join(err, fmt.Errorf("undoing the write conflicted with a change made meanwhile elsewhere; reload the questions: %w", uerr))
		case uerr != nil:
			return nil, errors.Join(err, fmt.Errorf("%w: undoing the write failed, so the questions stand unannounced: %w", ErrUnavailable, uerr))
		}
		return nil, fmt.Errorf("%w; nothing was changed", err)
	}
	var errs []error
	if change {
		if err := s.attempts.Clear(ctx, e.Subscriber); err != nil {
			errs = append(errs, fmt.Errorf("%w: questions changed, but clearing past failures failed: %w", ErrUnavailable, err))
		}
	}
	return questionsOf(rec), errors.Join(errs...)
}

// withdraw undoes the write of rec, which replaced prev (a change) or nothing (a first
// enrollment), after its event could not be published. It runs on a clean-up context:
// the request's own may be what failed. A first enrollment is deleted. A change is
// undone by storing prev's answers again as the next version, re-sealed for it (a
// sealed answer is bound to its version); so the record's history only moves forward,
// and a change made meanwhile elsewhere is never overwritten (Put reports a conflict).
func (s *Service) withdraw(ctx context.Context, rec, prev Record, change bool) error {
	ctx, cancel := cleanup.Context(ctx)
	defer cancel()
	if !change {
		return s.answers.Delete(ctx, rec.Subscriber, rec.Version)
	}
	back := Record{Subscriber: prev.Subscriber, Version: rec.Version + 1, UpdatedAt: prev.UpdatedAt,
		Answers: make([]SealedAnswer, 0, len(prev.Answers))}
	for _, a := range prev.Answers {
		pt, err := s.keys.Open(ctx, a.Sealed, answerAD(prev.Subscriber, a.QuestionID, prev.Version))
		if err != nil {
			return fmt.Errorf("opening a previous answer: %w", err)
		}
		sealed, err := s.keys.Seal(ctx, pt, answerAD(back.Subscriber, a.QuestionID, back.Version))
		clear(pt)
		if err != nil {
			return fmt.Errorf("re-sealing a previous answer: %w", err)
		}
		a.Sealed = sealed
		back.Answers = append(back.Answers, a)
	}
	return s.answers.Put(ctx, back)
}

func questionsOf(rec Record) []Question {
	out := make([]Question, len(rec.Answers))
	for i, a := range rec.Answers {
		out[i] = Question{ID: a.QuestionID, Text: a.Question, Custom: a.Custom}
	}
	return out
}

// Questions returns the subscriber's chosen questions, for a customer-facing app or an
// agent to pick one to ask. Answers are never returned, not even masked. A subscriber
// without questions gets ErrNotEnrolled.
func (s *Service) Questions(ctx context.Context, subscriber string) ([]Question, error) {
	rec, err := s.get(ctx, subscriber)
	if err != nil {
		return nil, err
	}
	return questionsOf(rec), nil
}

func (s *Service) get(ctx context.Context, subscriber string) (Record, error) {
	if subscriber == "" {
		return Record{}, fmt.Errorf("%w: Subscriber is empty", ErrInvalidRequest)
	}
	rec, err := s.answers.Get(ctx, subscriber)
	switch {
	case errors.Is(err, ErrNotFound):
		return Record{}, ErrNotEnrolled
	case err != nil:
		return Record{}, fmt.Errorf("%w: reading questions: %w", ErrUnavailable, err)
	}
	return rec, nil
}

// Verification is an agent checking a subscriber's spoken answer.
type Verification struct {
	Subscriber string
	// QuestionID is the question the agent asked, one of Questions(subscriber).
	QuestionID string
	// Spoken is what the subscriber said, as the agent typed it (at most MaxAnswerLen
	// characters).
	Spoken string
	// AgentID identifies the support agent; it is recorded in the audit event.
	AgentID string
	// Channel is where the subscriber is, such as "phone", "chat" or "store".
	Channel string
}

// Result is the verdict on a spoken answer. It never contains the stored answer, nor
// the score behind the verdict: a score on a wrong answer would tell a guesser how
// much of the answer each guess covered, and let him climb towards it word by word.
// All he learns is the verdict (and Close already costs a failure for that reason).
type Result struct {
	Verdict Verdict
	// FailuresLeft is how many more failures the subscriber has before verification is
	// locked.
	FailuresLeft int
}

// Verify judges a spoken answer against the stored one and publishes an audit event
// (notify.SecurityQuestionsVerified or notify.SecurityQuestionsVerificationFailed) with
// the agent and channel. Neither the Result nor a failure event carries the score;
// only the match event records it, for tuning the thresholds. Close and no-match verdicts count as failures; the failure
// that reaches Config.MaxFailures also publishes notify.SuspiciousActivity and
// notify.SecurityQuestionsLocked, and later calls get a [*LockedError] until failures age
// out of the window.
//
// Verify fails closed: on any error the verdict is NoMatch. A keyring or store failure
// is returned wrapping ErrUnavailable and does not count against the subscriber.
func (s *Service) Verify(ctx context.Context, v Verification) (Result, error) {
	fail := Result{Verdict: NoMatch}
	switch {
	case v.Subscriber == "":
		return fail, fmt.Errorf("%w: Subscriber is empty", ErrInvalidRequest)
	case v.QuestionID == "":
		return fail, fmt.Errorf("%w: QuestionID is empty", ErrInvalidRequest)
	case v.AgentID == "":
		return fail, fmt.Errorf("%w: AgentID is empty (every verification is attributed to an agent)", ErrInvalidRequest)
	case v.Channel == "":
		return fail, fmt.Errorf("%w: Channel is empty (such as \"phone\" or \"chat\")", ErrInvalidRequest)
	case strings.TrimSpace(v.Spoken) == "":
		return fail, fmt.Errorf("%w: the spoken answer is empty", ErrInvalidRequest)
	case utf8.RuneCountInString(v.Spoken) > MaxAnswerLen:
		return fail, fmt.Errorf("%w: the spoken answer is longer than %d characters", ErrInvalidRequest, MaxAnswerLen)
	}
	rec, err := s.get(ctx, v.Subscriber)
	if err != nil {
		return fail, err
	}
	idx := -1
	for i, a := range rec.Answers {
		if a.QuestionID == v.QuestionID {
			idx = i
			break
		}
	}
	if idx < 0 {
		return fail, fmt.Errorf("%w: %q; ask one of the subscriber's questions", ErrQuestionNotChosen, v.QuestionID)
	}

	now := s.cfg.Now()
	n, ok, err := s.attempts.Charge(ctx, v.Subscriber, now, s.cfg.FailureWindow, s.cfg.MaxFailures)
	if err != nil {
		return fail, fmt.Errorf("%w: counting attempts: %w", ErrUnavailable, err)
	}
	if !ok {
		if err := s.publishVerification(ctx, v, now, notify.SecurityQuestionsVerificationFailed, "locked", "", n); err != nil {
			return fail, err
		}
		return fail, &LockedError{Failures: n}
	}

	sc, err := s.judge(ctx, v, rec.Version, rec.Answers[idx])
	if err != nil {
		// Not the subscriber's doing: give the attempt back, but never say "match".
		refundErr := s.attempts.Refund(ctx, v.Subscriber, now)
		failures := n - 1
		if refundErr != nil {
			failures = n
		}
		_ = s.publishVerification(ctx, v, now, notify.SecurityQuestionsVerificationFailed, "error", "", failures)
		return fail, errors.Join(err, refundErr)
	}
	sc = math.Round(sc*100) / 100
	verdict := verdictFor(sc, s.cfg.MatchThreshold, s.cfg.CloseThreshold)

	if verdict == Match {
		if err := s.attempts.Refund(ctx, v.Subscriber, now); err != nil {
			return fail, fmt.Errorf("%w: recording the attempt: %w", ErrUnavailable, err)
		}
		if err := s.publishVerification(ctx, v, now, notify.SecurityQuestionsVerified, string(verdict), strconv.FormatFloat(sc, 'f', 2, 64), n-1); err != nil {
			return fail, err
		}
		return Result{Verdict: Match, FailuresLeft: s.cfg.MaxFailures - (n - 1)}, nil
	}

	// A failure carries the verdict only: no score in the result or the event.
	res := Result{Verdict: verdict, FailuresLeft: s.cfg.MaxFailures - n}
	if err := s.publishVerification(ctx, v, now, notify.SecurityQuestionsVerificationFailed, string(verdict), "", n); err != nil {
		return res, err
	}
	if n >= s.cfg.MaxFailures {
		if err := s.publishLock(ctx, v, now, n); err != nil {
			return res, err
		}
	}
	return res, nil
}

// judge opens the stored answer, scores the spoken one against it and wipes the
// plaintext. It is the only place a stored answer is ever opened, and it returns only
// the score.
func (s *Service) judge(ctx context.Context, v Verification, version uint64, a SealedAnswer) (float64, error) {
	pt, err := s.keys.Open(ctx, a.Sealed, answerAD(v.Subscriber, a.QuestionID, version))
	if err != nil {
		return 0, fmt.Errorf("%w: opening the stored answer: %w", ErrUnavailable, err)
	}
	defer clear(pt)
	if len(pt) < 2 || pt[0] != sealedFormat {
		return 0, fmt.Errorf("%w: the stored answer has an unknown format", ErrUnavailable)
	}
	var b1, b2 [32]term
	stored := prepare(b1[:0], normalizeTokens(string(pt[1:])))
	spoken := prepare(b2[:0], normalizeTokens(v.Spoken))
	return scoreTerms(stored, spoken), nil
}

// publishVerification publishes the audit event of a verification. score is set only
// for a match: a failure's score would grade a guess for whoever reads the audit trail.
func (s *Service) publishVerification(ctx context.Context, v Verification, now time.Time, typ notify.Type, result, score string, failures int) error {
	ev := notify.Event{
		ID: notify.NewID(), Type: typ, Subscriber: v.Subscriber, Time: now,
		Actor: notify.Actor{Kind: notify.ActorAgent, ID: v.AgentID}, Channel: v.Channel,
		Attributes: map[string]string{
			"question_id": v.QuestionID,
			"result":      result,
			"failures":    strconv.Itoa(failures),
		},
	}
	if score != "" {
		ev.Attributes["score"] = score
	}
	if err := s.events.Publish(ctx, ev); err != nil {
		return fmt.Errorf("%w: publishing %s: %w", ErrUnavailable, typ, err)
	}
	return nil
}

func (s *Service) publishLock(ctx context.Context, v Verification, now time.Time, failures int) error {
	attrs := map[string]string{
		"reason":   "security_question_failures",
		"failures": strconv.Itoa(failures),
		"window":   s.cfg.FailureWindow.String(),
	}
	for _, typ := range []notify.Type{notify.SuspiciousActivity, notify.SecurityQuestionsLocked} {
		ev := notify.Event{
			ID: notify.NewID(), Type: typ, Subscriber: v.Subscriber, Time: now,
			Actor: notify.Actor{Kind: notify.ActorAgent, ID: v.AgentID}, Channel: v.Channel,
			Attributes: attrs,
		}
		if err := s.events.Publish(ctx, ev); err != nil {
			return fmt.Errorf("%w: publishing %s: %w", ErrUnavailable, typ, err)
		}
	}
	return nil
}
