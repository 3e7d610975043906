package operator

import (
	"context"
	"net/http"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// PushTasks reads the progress of im_push tasks (implemented by *im.Service).
type PushTasks interface {
	// PushTask returns a task of the app; an *errs.Error with code 90049 when the
	// app has none with that id.
	PushTask(ctx context.Context, app store.App, id string) (store.PushTask, error)
}

// PushTask is the JSON form of an im_push task's progress (the reference has no
// command to read it; docs/rest-api.md).
type PushTask struct {
	TaskID    string `json:"task_id"`
	SDKAppID  int64  `json:"sdkappid"`
	From      string `json:"from_account"`
	State     string `json:"state"` // "running", "done", "failed"
	Error     string `json:"error,omitempty"`
	Targets   int64  `json:"targets"`   // users selected so far (all of them once done)
	Delivered int64  `json:"delivered"` // targets whose copy is stored (online-only: handed to a device)
	// OnlineOnly: MsgLifeTime 0, nothing stored; else LifetimeSeconds of offline storage.
	OnlineOnly      bool   `json:"online_only"`
	LifetimeSeconds int64  `json:"lifetime_seconds"`
	CreatedAt       string `json:"created_at"`
	UpdatedAt       string `json:"updated_at"`
	DoneAt          string `json:"done_at,omitempty"`
}

func (h *handler) registerPush() {
	h.mux.HandleFunc("GET "+Prefix+"/apps/{sdkappid}/pushes/{taskid}", h.pushTask)
}

// pushTask answers GET /apps/{sdkappid}/pushes/{taskid}: 404 for an unknown app
// or task, 503 when the server has no push service.
func (h *handler) pushTask(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Pushes == nil {
		writeError(w, http.StatusServiceUnavailable, "push tasks are not served by this server")
		return
	}
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	app, err := h.cfg.Tenants.GetApp(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	t, err := h.cfg.Pushes.PushTask(r.Context(), app, r.PathValue("taskid"))
	if errs.Is(err, errs.PushTaskNotFound) {
		writeError(w, http.StatusNotFound, errs.Message(err))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := PushTask{
		TaskID: t.ID, SDKAppID: t.App, From: t.From, State: t.State, Error: t.Error,
		Targets: t.Targets, Delivered: t.Delivered, OnlineOnly: t.Lifetime == 0,
		LifetimeSeconds: int64(t.Lifetime / time.Second),
		CreatedAt:       t.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: t.UpdatedAt.UTC().Format(time.RFC3339),
	}
	if !t.DoneAt.IsZero() {
		out.DoneAt = t.DoneAt.UTC().Format(time.RFC3339)
	}
	writeJSON(w, http.StatusOK, out)
}
