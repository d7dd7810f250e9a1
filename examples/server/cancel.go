package main

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/carrierguard/carrierguard/agent"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/protection"
)

// cancelPath is the page an approved SIM swap or port-out notice links to, with the
// request's cancel token after "#" (notify.TemplatesConfig.CancelURL): the fragment
// never reaches the server, a proxy or a Referer header, so the token is in no log. The
// page posts it to cancelLinkPath when the subscriber presses its button: a link
// scanner that fetches the page stops nothing.
const (
	cancelPath     = "/cancel"
	cancelLinkPath = "/v1/sim-changes/cancel"
)

// Cancel links are tried without authentication, so they have their own per-client
// limit (on top of the server's): a token is 256 random bits, and this keeps the route
// from being a cheap way to load the history store.
const (
	cancelLinkPerMinute = 10
	cancelLinkBurst     = 5
)

// cancelState is the answer to a cancel.
type cancelState struct {
	RequestID string `json:"request_id,omitempty"`
	Status    string `json:"status"`
}

// cancelError maps protection's answers to a cancel by the subscriber or an agent: an
// unknown request (or another subscriber's) is 404, one no longer open 409.
func cancelError(err error) error {
	switch {
	case errors.Is(err, protection.ErrNotFound):
		return errorf(http.StatusNotFound, codeNotFound, "no such SIM change or port-out on this account")
	case errors.Is(err, protection.ErrNotApproved), errors.Is(err, protection.ErrApprovalExpired):
		return errorf(http.StatusConflict, codeConflict, "the SIM change or port-out is not pending: it was denied, carried out, cancelled or has expired")
	}
	return protectionError(err)
}

// handleCancelSIMChange cancels a pending (approved or held) SIM swap, eSIM transfer or
// port-out of the signed-in subscriber: POST /v1/sim-changes/{request}/cancel. Any
// signed-in session may: cancelling only ever stops a change, so it needs no fresh
// proof.
func (s *Server) handleCancelSIMChange(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("request")
	if err := s.protect.CancelSIMChange(r.Context(), c.account.ID, id, protection.ChannelApp, notify.Actor{Kind: notify.ActorSubscriber}); err != nil {
		return cancelError(err)
	}
	writeJSON(w, http.StatusOK, cancelState{RequestID: id, Status: "cancelled"})
	return nil
}

type cancelLinkRequest struct {
	Token string `json:"token"`
}

// handleCancelLink cancels with the token of an approval notice's link:
// POST /v1/sim-changes/cancel {"token"}. No sign-in (whoever holds the notice may stop
// the change), a per-client limit, and one answer for every token that cancels nothing
// (unknown, malformed, used or expired), so the route tells nothing about requests.
func (s *Server) handleCancelLink(w http.ResponseWriter, r *http.Request) error {
	if !s.cancelLimits.allowClient(clientIP(r)) {
		return tooManyRequests(codeRateLimited, time.Minute, "too many cancel attempts from this address; try again in a minute")
	}
	var req cancelLinkRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := required("token", req.Token); err != nil {
		return err
	}
	switch err := s.protect.CancelSIMChangeByToken(r.Context(), req.Token); {
	case errors.Is(err, protection.ErrNotFound), errors.Is(err, protection.ErrNotApproved), errors.Is(err, protection.ErrApprovalExpired):
		return errorf(http.StatusNotFound, codeNotFound, "the link is not valid: it was used, has expired or is unknown")
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, cancelState{Status: "cancelled"})
	return nil
}

// handleCaseCancel cancels a pending SIM change or port-out of the case's subscriber on
// the caller's behalf: POST /agent/v1/cases/{case}/sim-changes/{request}/cancel. It
// needs no verified identity (it can only stop a change); it is audited with the
// agent's ID, who is the cancel's actor, on the case's channel.
func (s *Server) handleCaseCancel(w http.ResponseWriter, r *http.Request, agentID string) error {
	c, err := s.getCase(r, agentID)
	if err != nil {
		return err
	}
	who, _ := whoFrom(r.Context())
	id := r.PathValue("request")
	if err := s.cases.Record(r.Context(), who, c, agent.AuditChangeRequested, "cancel"); err != nil {
		return err
	}
	if err := s.protect.CancelSIMChange(r.Context(), c.Subscriber, id, c.Channel, notify.Actor{Kind: notify.ActorAgent, ID: who.Agent}); err != nil {
		return cancelError(err)
	}
	writeJSON(w, http.StatusOK, cancelState{RequestID: id, Status: "cancelled"})
	return nil
}

// cancelScript is the cancel page's only script: on the button, it posts the token from
// the fragment and shows the answer, and takes the token out of the address bar.
const cancelScript = `document.getElementById("go").addEventListener("click", function () {
  var msg = document.getElementById("msg"), tok = location.hash.slice(1);
  history.replaceState(null, "", location.pathname);
  fetch("` + cancelLinkPath + `", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({token: tok})})
    .then(function (r) {
      msg.textContent = r.ok ? "Stopped: the change will not be carried out." :
        r.status === 429 ? "Too many tries: wait a minute and try again." :
        "This link no longer works: the change was already stopped, carried out or has expired. If you did not ask for it, contact support.";
      document.getElementById("go").disabled = true;
    });
});`

var cancelPage = []byte(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Stop a SIM swap or port-out</title></head>
<body>
<h1>Stop a SIM swap or port-out</h1>
<p id="msg">Press the button to stop the change your notice told you about.</p>
<button id="go" type="button">Stop it</button>
<script>` + cancelScript + `</script>
</body>
</html>
`)

// cancelPageCSP allows the page's one inline script (by its hash) and its one request.
var cancelPageCSP = func() string {
	sum := sha256.Sum256([]byte(cancelScript))
	return "default-src 'none'; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
}()

// handleCancelPage serves the cancel page: GET /cancel.
func (s *Server) handleCancelPage(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Security-Policy", cancelPageCSP)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(cancelPage)
	return err
}
