package main

import (
	"errors"
	"net/http"

	"github.com/carrierguard/carrierguard/otp"
)

// defaultSMSRegions are the example's home regions for SMS codes when Options.SMSBudgets
// names none: the demo and test numbers are fictional US numbers (+1 415 555 01xx).
var defaultSMSRegions = []string{"US"}

// smsBudgets returns the SMS budgets every otp.Codes of the server uses (two-factor and
// line proofs): Options.SMSBudgets, with the home regions defaulted. An allow-list is
// what stops SMS pumping to premium ranges abroad, so the server never runs without one.
func (s *Server) smsBudgets() otp.SMSBudgets {
	b := s.opts.SMSBudgets
	if len(b.HomeRegions) == 0 && !b.AnyCountry {
		// otp refuses budgets without a home region (AllowedRegions are extra
		// destinations beyond it) unless AnyCountry opts out explicitly.
		b.HomeRegions = defaultSMSRegions
	}
	return b
}

// codeCountryNotAllowed is the error code for a number codes are not sent to.
const codeCountryNotAllowed = "country_not_allowed"

// budgetError maps an SMS budget's refusal (*otp.BudgetError, from any code sent by
// SMS) to its answer: 422 country_not_allowed for a number outside the allowed regions
// (waiting will not help; use another contact or an authenticator app), and 429 with
// Retry-After (the budget's window: otp never says when it frees up) for a spent
// budget. It returns nil for any other error.
func budgetError(err error) error {
	var be *otp.BudgetError
	if !errors.As(err, &be) {
		return nil
	}
	if be.Limit == otp.BudgetCountryNotAllowed {
		return errorf(http.StatusUnprocessableEntity, codeCountryNotAllowed, "codes are not sent by SMS to numbers in this country; use an email address or an authenticator app")
	}
	return tooManyRequests(codeRateLimited, be.RetryAfter, "too many SMS codes are being sent just now; try again later, or use an email address or an authenticator app")
}
