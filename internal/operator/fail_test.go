package operator

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/lifecycle"
	"github.com/chatd/chatd/internal/tenant"
)

// fail maps each kind of package errs to one status, whichever layer failed.
func TestFailMapsKinds(t *testing.T) {
	h := &handler{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, c := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("%w: account %q", errs.ErrNotFound, "a1"), http.StatusNotFound},
		{fmt.Errorf("store: %w", errs.ErrNotFound), http.StatusNotFound},
		{input.Identifier("a\x00b", 10), http.StatusBadRequest},
		{fmt.Errorf("%w: deletion", tenant.ErrConfirmation), http.StatusBadRequest},
		{fmt.Errorf("%w: 2020", lifecycle.ErrBackwards), http.StatusBadRequest},
		{fmt.Errorf("%w: apps", errs.ErrLimit), http.StatusConflict},
		{fmt.Errorf("%w: no new apps", tenant.ErrSuspended), http.StatusConflict},
		{commerce.ErrRequestReused, http.StatusConflict},
		{lifecycle.ErrRealClock, http.StatusConflict},
		{fmt.Errorf("%w: 1.00 short", commerce.ErrInsufficientBalance), http.StatusPaymentRequired},
		{fmt.Errorf("%w: duplicate", errs.ErrExists), http.StatusInternalServerError},
		{errors.New("SQLSTATE 08006"), http.StatusInternalServerError},
	} {
		w := httptest.NewRecorder()
		h.fail(w, httptest.NewRequest("GET", "/operator/v1/x", nil), c.err)
		if w.Code != c.want {
			t.Errorf("fail(%v) = %d, want %d", c.err, w.Code, c.want)
		}
	}
}
