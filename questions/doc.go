// Package questions runs security questions the way carriers use them: as a verbal
// check by support agents, over the phone or in chat, against answers that nobody —
// not the agent, not an insider with the database — can read.
//
// A subscriber picks three questions, from the built-in [Catalog] or written
// themselves, and answers them in the app. Each answer is sealed with a
// [github.com/carrierguard/carrierguard/keyring.Keyring] at once. When the subscriber
// calls support, the agent asks one of the questions, types what the subscriber says,
// and [Service.Verify] returns a [Verdict] — match, close (ask another question) or no
// match — and nothing more: no score, which would tell a guesser how much of the
// answer a wrong guess covered. No method returns a stored answer: the only code that
// opens one scores it and wipes it.
//
// # Getting started
//
//	svc, err := questions.New(questions.Config{},
//		memory.NewQuestionAnswers(memory.Options{}), memory.NewQuestionAttempts(memory.Options{}),
//		keys, outbox, tf) // a keyring.Keyring, a notify.Publisher and the *twofactor.Service
//
//	// In the app (signed in):
//	qs, err := svc.Enroll(ctx, questions.Enrollment{
//		Subscriber: "sub-42", Channel: "app",
//		Choices: []questions.Choice{
//			{QuestionID: "poem-line", Answer: "Hope is the thing with feathers"},
//			{QuestionID: "robot-name", Answer: "Mister Clanky"},
//			{Custom: "What did we call the broken lawnmower?", Answer: "The Grumbler"},
//		},
//		Facts: questions.Facts{Name: name, Email: email, Phone: phone, ZIP: zip, DateOfBirth: dob},
//	})
//
//	// In the agent console:
//	res, err := svc.Verify(ctx, questions.Verification{
//		Subscriber: "sub-42", QuestionID: "poem-line", Spoken: "hope is the thing with feathers",
//		AgentID: "agent-7", Channel: "phone",
//	})
//	if err == nil && res.Verdict == questions.Match { ... }
//
// # The catalog
//
// The built-in questions ask about memories, tastes and inventions ("What is your
// favorite line from a poem?", "What would you name a robot butler?") rather than facts
// that are on a licence, a social profile or a credit report. FCC rules (47 CFR
// 64.2010) forbid authenticating with readily available biographical information, so
// custom questions about such topics (maiden names, birthplaces, schools, streets, pets'
// names, phone numbers…) are refused, and so are answers equal to the subscriber's name,
// email address, phone number, ZIP code or date of birth. Question IDs are stable and
// never reused.
//
// # Enrollment rules
//
// Exactly [QuestionsPerSubscriber] distinct questions; each answer has at least
// [MinAnswerLen] letters or digits and at most [MaxAnswerLen] characters, is not a single
// common word ("yes", "nothing", "1234"), does not merely repeat words of its question,
// is not one of the subscriber's [Facts], and does not match another of their answers.
// A broken rule returns an [*EnrollmentError] naming the choice and wrapping a sentinel
// such as [ErrAnswerPersonalFact]; nothing is stored and no event is published.
// Changing questions later needs a fresh second-factor proof ([Service.Change]).
//
// # Changing questions
//
// [Service.Change] takes a [github.com/carrierguard/carrierguard/twofactor.Proof] from a
// second factor the subscriber has just completed. A Proof is plain data that anyone can
// fill in, so Change trusts none until the [ProofVerifier] given to [New] — the
// *twofactor.Service that issues the proofs — has checked its tag and that it is for the
// subscriber being changed. The proof must also be by one of [Config.ProofMethods] —
// by default an authenticator code or a code sent to a trusted contact, but not a
// recovery code alone (the field's doc says why) — and no older than
// [Config.ProofMaxAge] (10 minutes). The change publishes
// notify.SecurityQuestionsChanged, naming the method, and lifts a verification lock.
//
// Enroll and Change publish their event only after the questions are stored, so a
// write that fails is never announced, and a write whose event cannot be published is
// undone (a first enrollment deleted, a change reverted to the previous answers), so
// questions never change unheard: the subscriber is the one who notices a hostile
// change. The error wraps [ErrUnavailable]; in the rare case that the undo fails too,
// it says that the questions stand unannounced.
//
// # Storage
//
// The [AnswerStore] holds one [Record] per subscriber: question IDs, question texts and
// sealed answers. Each answer is sealed under associated data binding it to the
// subscriber, the question ID and the record version, so a row copied to another
// subscriber, answers swapped between questions, or old answers replayed into a newer
// version all fail to open — and failing to open is never a match. Only the sealed
// answer is stored: normalisation happens at verification time, so there is no
// normalised form, hash or token list at rest to brute-force.
//
// The request types that carry an answer in plaintext ([Choice], [Enrollment],
// [Verification]) print, log (log/slog) and encode (encoding/json) with the answer
// replaced by "[redacted]", so logging a request cannot leak one.
//
// # Matching
//
// Both answers are normalised: Unicode compatibility decomposition with diacritics
// removed and case folded (golang.org/x/text), punctuation and spacing dropped, spoken
// fillers ("um", "uh") removed, a few spoken and abbreviated forms unified ("gonna",
// "Mr", "mum"), and numbers written as words turned into digits ("seven hundred" is
// "700", "nineteen sixty nine" is "1969").
//
// Words are then weighed by informativeness: function words count for nothing, frequent
// words such as "thing" or "made" for little, names, nouns and inventions in full. Two
// words agree if they are equal, share a Snowball English stem ("sleeps"/"sleeping"), or
// differ by a typo — one edit from four letters, two from eight. Numbers must be equal.
// Order does not matter.
//
// The score is an F-measure of two coverages: how much of the stored answer's weight the
// spoken answer covers, and how much of the spoken answer's weight is in the stored one,
// with the first counting twice as much (beta squared = 2). A subscriber may add words,
// but must say what they stored; two guesses in one breath score only close, and a list
// of guesses scores low. A score of at least
// [DefaultMatchThreshold] (0.82) is a match: it admits a paraphrase missing one
// informative word in five and refuses one that substitutes one word in five. At least
// [DefaultCloseThreshold] (0.6) is close. Both are configurable.
//
// The set in testdata/pairs.tsv (101 hand-labeled pairs: paraphrases, typos, format
// changes, near misses and unrelated answers, labeled before the matcher was written)
// checks this; the test fails if precision of "match" drops below 0.98 or recall below
// 0.90. The matcher is deliberately literal: it does not know that "tiny" means
// "little", or that "otter" answers "an otter, because they hold hands" — those score
// close, and the agent asks another question.
//
// # Limits and events
//
// Every verification publishes an audit event with the agent and channel:
// notify.SecurityQuestionsVerified (with the score, to tune the thresholds on real
// matches) or notify.SecurityQuestionsVerificationFailed (the verdict only, never a
// score: the audit trail must not grade guesses for an insider).
// Close and no-match verdicts are failures: a "close" is a hint to a guesser, so it must
// cost. [Config.MaxFailures] failures (default 3) within [Config.FailureWindow] (default
// 24 hours) lock verification for the subscriber and publish notify.SuspiciousActivity
// and notify.SecurityQuestionsLocked; the lock lifts as failures age out of the window,
// or when the subscriber changes their questions with a fresh second-factor proof.
// Attempts are charged in the [AttemptStore] before the answer is judged and refunded
// on a match, so concurrent attempts cannot exceed the limit, and a match does not wipe
// earlier failures. A store, keyring or publisher failure returns [ErrUnavailable] with
// verdict NoMatch and does not count against the subscriber.
//
// # Policy
//
// NIST SP 800-63B does not accept knowledge-based questions as an authenticator;
// carriers use them anyway, as one piece of evidence for support channels. This package
// follows the carriers and takes the precautions above. Security questions alone must
// never authorise a SIM swap or port-out: package protection treats a match as
// supplemental evidence only.
package questions
