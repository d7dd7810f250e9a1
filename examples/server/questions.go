package main

import (
	"errors"
	"net/http"
	"strings"

	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/questions"
)

type questionJSON struct {
	ID     string `json:"id"`
	Text   string `json:"text"`
	Custom bool   `json:"custom,omitempty"`
}

func questionViews(qs []questions.Question) []questionJSON {
	out := make([]questionJSON, 0, len(qs))
	for _, q := range qs {
		out = append(out, questionJSON{ID: q.ID, Text: q.Text, Custom: q.Custom})
	}
	return out
}

// handleCatalog lists the built-in questions: GET /v1/questions/catalog.
func (s *Server) handleCatalog(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"questions": questionViews(questions.Catalog()), "choose": questions.QuestionsPerSubscriber})
	return nil
}

// handleMyQuestions lists the caller's chosen questions, never the answers:
// GET /v1/questions.
func (s *Server) handleMyQuestions(w http.ResponseWriter, r *http.Request, c *caller) error {
	qs, err := s.questions.Questions(r.Context(), c.account.ID)
	if errors.Is(err, questions.ErrNotEnrolled) {
		return errorf(http.StatusNotFound, codeNotFound, "no security questions yet: PUT /v1/questions with three")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"questions": questionViews(qs)})
	return nil
}

type choiceJSON struct {
	QuestionID string `json:"question_id"`
	Custom     string `json:"custom"`
	Answer     string `json:"answer"`
}

type setQuestionsRequest struct {
	Choices []choiceJSON `json:"choices"`
}

// handleSetQuestions sets three security questions: PUT /v1/questions. Setting them
// is guarded as setting up a second factor is (setupGate: a fresh password while 2FA is
// off, a fresh second factor once it is on), so a stolen session cannot choose answers
// its thief knows and pass an agent's verbal check with them. Changing them is also a
// sensitive action protection decides (a fresh second factor).
func (s *Server) handleSetQuestions(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req setQuestionsRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if len(req.Choices) != questions.QuestionsPerSubscriber {
		return errorf(http.StatusBadRequest, codeInvalidField, "field \"choices\" must hold exactly %d questions", questions.QuestionsPerSubscriber)
	}
	if err := s.setupGate(r.Context(), c, otp.PurposeAccountChange); err != nil {
		return err
	}
	e := questions.Enrollment{Subscriber: c.account.ID, Channel: "app",
		Facts: questions.Facts{Name: c.account.Name, Email: c.account.Email, Phone: c.account.Phone}}
	for _, ch := range req.Choices {
		e.Choices = append(e.Choices, questions.Choice{QuestionID: ch.QuestionID, Custom: ch.Custom, Answer: ch.Answer})
	}
	qs, err := s.questions.Enroll(r.Context(), e)
	if errors.Is(err, questions.ErrAlreadyEnrolled) {
		dv, derr := s.decide(r.Context(), c, protection.ActionChangeSecurityQuestions)
		if derr != nil {
			return derr
		}
		proof, ok := s.secondFactorProof(c, stepUpPurpose(protection.ActionChangeSecurityQuestions))
		if !ok {
			return stepUpError(dv)
		}
		qs, err = s.questions.Change(r.Context(), e, proof)
	}
	if err != nil && qs != nil {
		// The questions were stored and announced; what failed came after (clearing past
		// failures). The change stands, so the answer is success: telling the subscriber
		// it failed would send them to retry into ErrAlreadyEnrolled.
		s.log.Error("security questions stored, but a follow-up step failed", "subscriber", c.account.ID, "error", err)
		err = nil
	}
	if errors.Is(err, questions.ErrUnavailable) {
		// A store or the outbox is down. If the event could not be published, the write
		// was undone, so questions do not change unannounced; in the rare case that the
		// undo failed too, the error (logged here) says the new questions stand.
		s.log.Error("security questions not set", "subscriber", c.account.ID, "error", err)
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "the security questions could not be set just now; try again shortly")
	}
	if err != nil {
		return questionsError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"questions": questionViews(qs)})
	return nil
}

func questionsError(err error) error {
	var ee *questions.EnrollmentError
	switch {
	case errors.As(err, &ee):
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "questions_rejected",
			Message: strings.TrimPrefix(ee.Error(), "questions: "),
			Details: map[string]any{"choice": ee.Index, "question_id": ee.QuestionID}}
	case errors.Is(err, questions.ErrInvalidEnrollment), errors.Is(err, questions.ErrInvalidRequest):
		return errorf(http.StatusUnprocessableEntity, "questions_rejected", "%s", strings.TrimPrefix(err.Error(), "questions: "))
	case errors.Is(err, questions.ErrProofRequired):
		return errorf(http.StatusForbidden, "step_up_required", "changing security questions needs a fresh second factor")
	case errors.Is(err, questions.ErrNotEnrolled):
		return errorf(http.StatusConflict, codeNotVerified, "the subscriber has no security questions")
	case errors.Is(err, questions.ErrQuestionNotChosen):
		return errorf(http.StatusBadRequest, codeInvalidField, "the subscriber did not choose this question")
	case errors.Is(err, questions.ErrLocked):
		return errorf(http.StatusForbidden, codeLocked, "security-question verification is locked after too many failures; use another method")
	default:
		return err
	}
}

type verifyQuestionRequest struct {
	QuestionID string `json:"question_id"`
	Spoken     string `json:"spoken"`
}

// handleCaseVerifyQuestion checks the caller's spoken answer:
// POST /agent/v1/cases/{case}/verify/questions. A match adds security-question
// evidence to the case (supplemental: never enough alone for a SIM change).
func (s *Server) handleCaseVerifyQuestion(w http.ResponseWriter, r *http.Request, agent string) error {
	c, err := s.getCase(r, agent)
	if err != nil {
		return err
	}
	var req verifyQuestionRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := required("question_id", req.QuestionID); err != nil {
		return err
	}
	if err := required("spoken", req.Spoken); err != nil {
		return err
	}
	res, err := s.questions.Verify(r.Context(), questions.Verification{Subscriber: c.Subscriber, QuestionID: req.QuestionID,
		Spoken: req.Spoken, AgentID: agent, Channel: c.Channel.String()})
	if err != nil {
		return questionsError(err)
	}
	if res.Verdict == questions.Match {
		if err := s.addCaseEvidence(r, c, protection.Evidence{Kind: protection.EvidenceSecurityQuestions, ObtainedAt: s.now()}); err != nil {
			return err
		}
	}
	// The verdict only: a score would tell a guessing caller how close each guess came.
	writeJSON(w, http.StatusOK, map[string]any{"verdict": res.Verdict, "failures_left": res.FailuresLeft})
	return nil
}
