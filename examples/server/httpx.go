package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxBodyBytes caps every request body. The largest legitimate body (a password
// change with two 1 KiB passwords, or three security-question answers) is far smaller.
const maxBodyBytes = 16 << 10

// Stable error codes. Clients switch on Code; Message is for people and may change.
const (
	codeBadJSON           = "bad_json"
	codeUnknownField      = "unknown_field"
	codeWrongType         = "wrong_type"
	codeMissingField      = "missing_field"
	codeInvalidField      = "invalid_field"
	codeBodyTooLarge      = "body_too_large"
	codeUnsupportedMedia  = "unsupported_media_type"
	codeNotFound          = "not_found"
	codeMethodNotAllowed  = "method_not_allowed"
	codeUnauthenticated   = "unauthenticated"
	codeForbidden         = "forbidden"
	codeRateLimited       = "rate_limited"
	codeInvalidCreds      = "invalid_credentials"
	codeLocked            = "locked"
	codePasswordRejected  = "password_rejected"
	codeAccountUnverified = "account_unverified"
	codeInvalidLink       = "invalid_link"
	codeLinkExpired       = "link_expired"
	codeConflict          = "conflict"
	codeInvalidCode       = "invalid_code"
	codeNotVerified       = "not_verified"
	codeUnavailable       = "unavailable"
	codeInternal          = "internal"
)

// apiError is the JSON body of every error response.
type apiError struct {
	Status    int    `json:"-"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
	// Details carries structured extras, such as password policy reasons.
	Details any `json:"details,omitempty"`
	// RetryAfter, on a 429, is sent as the Retry-After header (see tooManyRequests).
	RetryAfter time.Duration `json:"-"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// tooManyRequests is a 429 that tells the client, in Retry-After, how long to wait:
// retry rounded up to whole seconds, at least one. Every limit with a known wait
// (throttled codes and links, timed lockouts) answers through it.
func tooManyRequests(code string, retry time.Duration, format string, args ...any) *apiError {
	e := errorf(http.StatusTooManyRequests, code, format, args...)
	e.RetryAfter = retry
	return e
}

// writeJSON writes v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// writeError writes err as a JSON error. Anything that is not an *apiError is an
// internal fault: its text is logged by the caller, never sent.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = errorf(http.StatusInternalServerError, codeInternal, "internal error; quote the request ID to support")
	}
	out := *ae
	out.RequestID = requestIDFrom(r.Context())
	if out.Status == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
		secs := (out.RetryAfter + time.Second - 1) / time.Second
		w.Header().Set("Retry-After", strconv.FormatInt(max(1, int64(secs)), 10))
	}
	if info := infoFrom(r.Context()); info != nil {
		info.errCode = out.Code
		if out.Status >= 500 {
			info.fault = err
		}
	}
	writeJSON(w, out.Status, out)
}

// decodeJSON reads exactly one JSON object from the request body into dst, strictly:
// the content type must be JSON, unknown fields and trailing data are rejected, and
// the body is capped at maxBodyBytes. Every failure is a 4xx *apiError.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return errorf(http.StatusUnsupportedMediaType, codeUnsupportedMedia, "send the body as application/json")
		}
	} else {
		return errorf(http.StatusUnsupportedMediaType, codeUnsupportedMedia, "set Content-Type: application/json")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return jsonError(err)
		}
		return errorf(http.StatusBadRequest, codeBadJSON, "the body must hold exactly one JSON object")
	}
	return nil
}

func jsonError(err error) *apiError {
	var (
		maxErr    *http.MaxBytesError
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &maxErr):
		return errorf(http.StatusRequestEntityTooLarge, codeBodyTooLarge, "the body is larger than %d bytes", maxBodyBytes)
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, codeBadJSON, "the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, codeBadJSON, "the body is truncated JSON")
	case errors.As(err, &syntaxErr):
		return errorf(http.StatusBadRequest, codeBadJSON, "malformed JSON at byte %d", syntaxErr.Offset)
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return errorf(http.StatusBadRequest, codeWrongType, "the body must be a JSON object")
		}
		return errorf(http.StatusBadRequest, codeWrongType, "field %q must be a JSON %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return errorf(http.StatusBadRequest, codeUnknownField, "%s", strings.TrimPrefix(err.Error(), "json: "))
	default:
		return errorf(http.StatusBadRequest, codeBadJSON, "the body is not valid JSON")
	}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	default:
		return "number"
	}
}

// newID returns 16 random bytes in hex.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

func required(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return errorf(http.StatusBadRequest, codeMissingField, "field %q is required", field)
	}
	return nil
}
