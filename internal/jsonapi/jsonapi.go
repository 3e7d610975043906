// Package jsonapi reads requests and writes answers for chatd's own JSON
// APIs, the operator API (/operator/v1) and the console API (/console/v1):
// bounded, strict request bodies, {"error": "..."} answers, and JSON 404 and
// 405 answers for unknown routes. (The reference-compatible REST API under
// /v4 has its own envelope and codes.)
package jsonapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/money"
)

// Error is the body of every error answer.
type Error struct {
	Error string `json:"error"`
}

// Write answers status with v as JSON; answers are never cached (they carry
// secret keys and CSRF tokens).
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError answers status with {"error": msg}.
func WriteError(w http.ResponseWriter, status int, msg string) {
	Write(w, status, Error{Error: msg})
}

// Decode reads one JSON object of at most maxBytes into v: valid UTF-8, no
// unknown fields, nothing after it. An empty body is allowed when emptyOK (v
// keeps its zero value). On failure it has already answered: 413 for a body
// over maxBytes, 400 with what is wrong otherwise.
func Decode(w http.ResponseWriter, r *http.Request, v any, maxBytes int64, emptyOK bool) bool {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		WriteError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", maxBytes))
		return false
	}
	if err != nil {
		WriteError(w, http.StatusBadRequest, "could not read the request body")
		return false
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		if emptyOK {
			return true
		}
		WriteError(w, http.StatusBadRequest, "request body is empty: send a JSON object")
		return false
	}
	// Before decoding: encoding/json would turn invalid UTF-8 into U+FFFD silently.
	if ierr := input.JSON(raw); ierr != nil {
		WriteError(w, http.StatusBadRequest, "bad request body: "+ierr.Error())
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			err = errors.New("unexpected data after the JSON object")
		}
	}
	if err == nil {
		return true
	}
	var (
		se *json.SyntaxError
		te *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		WriteError(w, http.StatusBadRequest, "malformed JSON: unexpected end of body")
	case errors.As(err, &se):
		WriteError(w, http.StatusBadRequest, fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se))
	case errors.As(err, &te):
		if te.Field != "" {
			WriteError(w, http.StatusBadRequest, fmt.Sprintf("field %q must be %s, not %s", te.Field, input.JSONKind(te.Type), te.Value))
		} else {
			WriteError(w, http.StatusBadRequest, fmt.Sprintf("body must be a JSON object, not %s", te.Value))
		}
	default:
		// Unknown fields ("json: unknown field \"x\"") and trailing data.
		WriteError(w, http.StatusBadRequest, "bad request body: "+strings.TrimPrefix(err.Error(), "json: "))
	}
	return false
}

// Amount reads an optional amount of dollars ("100.00", package money) from
// a request field called name; nil is zero. A malformed one is answered 400
// and Amount reports false.
func Amount(w http.ResponseWriter, name string, s *string) (money.Cents, bool) {
	if s == nil {
		return 0, true
	}
	c, err := money.Parse(*s)
	if err != nil {
		WriteError(w, http.StatusBadRequest, name+": "+err.Error())
		return 0, false
	}
	return c, true
}

// Unrouted answers in JSON when mux has no route for r (404, or 405 with
// Allow), naming the API as api ("operator", "console"), and reports
// whether it did. It also refuses, with 400, a URL whose path or query is not
// clean text (input.Text).
func Unrouted(w http.ResponseWriter, r *http.Request, mux *http.ServeMux, api string) bool {
	if err := errors.Join(input.Text(r.URL.Path), input.Values(r.URL.Query())); err != nil {
		WriteError(w, http.StatusBadRequest, "bad request URL: "+err.Error())
		return true
	}
	next, pattern := mux.Handler(r)
	if pattern != "" {
		return false
	}
	// The mux's own 404, 405 or redirect: keep its status and headers (Allow,
	// Location), replace its text body with JSON.
	rec := &statusOnly{header: w.Header()}
	next.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusNotFound:
		WriteError(w, http.StatusNotFound, fmt.Sprintf("no %s route %s", api, r.URL.Path))
	case http.StatusMethodNotAllowed:
		WriteError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, w.Header().Get("Allow")))
	default:
		WriteError(w, rec.status, http.StatusText(rec.status))
	}
	return true
}

// statusOnly records the status a fallback handler writes and drops its body.
type statusOnly struct {
	header http.Header
	status int
}

func (s *statusOnly) Header() http.Header { return s.header }
func (s *statusOnly) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}
func (s *statusOnly) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return len(b), nil
}
