package gateway_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/store"
)

// stateHooks has State.StateChange on; it hands each emitted event to got.
type stateHooks struct{ got chan store.CallbackEvent }

func (h *stateHooks) On(_ context.Context, _ int64, command string) bool {
	return command == callback.StateChange
}
func (h *stateHooks) Before(context.Context, int64, string, any) callback.Decision {
	return callback.Decision{}
}
func (h *stateHooks) Emit(_ context.Context, evs []store.CallbackEvent) error {
	for _, ev := range evs {
		h.got <- ev
	}
	return nil
}

type stateInfo struct {
	Info struct {
		Action, To_Account, Reason string
	}
	KickedDevice []struct{ Platform string }
}

func (h *stateHooks) next(t *testing.T) (store.CallbackEvent, stateInfo) {
	t.Helper()
	select {
	case ev := <-h.got:
		var b stateInfo
		if err := json.Unmarshal(ev.Body, &b); err != nil {
			t.Fatal(err)
		}
		return ev, b
	case <-time.After(5 * time.Second):
		t.Fatal("no State.StateChange")
	}
	panic("unreachable")
}

func TestStateChangeCallbacks(t *testing.T) {
	e := newEnv(t, catalog.Standard) // a second login on one platform replaces the first
	h := &stateHooks{got: make(chan store.CallbackEvent, 16)}
	e.svc.UseCallbacks(h)
	first, err := e.dial("alice", "iOS")
	if err != nil {
		t.Fatal(err)
	}
	ev, b := h.next(t)
	if ev.Platform != "IOS" || ev.ClientIP != "127.0.0.1" || b.Info.Action != "Login" || b.Info.To_Account != "alice" || b.Info.Reason != "Register" || len(b.KickedDevice) != 0 {
		t.Fatalf("login: %+v %s", ev, ev.Body)
	}
	second, err := e.dial("alice", "iOS")
	if err != nil {
		t.Fatal(err)
	}
	// The replacing login names the device it ended; the replaced one logs out.
	got := map[string]stateInfo{}
	for range 2 {
		_, b := h.next(t)
		got[b.Info.Action] = b
	}
	if l := got["Login"]; len(l.KickedDevice) != 1 || l.KickedDevice[0].Platform != "IOS" {
		t.Fatalf("replacing login %+v", l)
	}
	if l := got["Logout"]; l.Info.Reason != "Unregister" {
		t.Fatalf("replaced session %+v", got)
	}
	<-first.Done()
	second.Close()
	if _, b := h.next(t); b.Info.Action != "Logout" {
		t.Fatalf("close: %+v", b)
	}
	// Linux is not an OptPlatform of the reference: Unknown.
	c, err := e.dial("bob", "Linux")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ev, _ := h.next(t); ev.Platform != "Unknown" {
		t.Fatalf("Linux device's OptPlatform %q", ev.Platform)
	}
}

func TestStateChangeDisconnect(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	h := &stateHooks{got: make(chan store.CallbackEvent, 16)}
	e.svc.UseCallbacks(h)
	c := e.raw()
	if f := roundTrip(t, c, `{"op":"login","id":"1","sdkappid":`+jsonInt(e.app.SDKAppID)+`,"user":"bob","usersig":"`+e.sig("bob")+`","platform":"Web"}`); f.Code != 0 {
		t.Fatalf("login: %+v", f)
	}
	if ev, b := h.next(t); b.Info.Action != "Login" || ev.Platform != "Web" {
		t.Fatalf("login: %+v", b)
	}
	c.UnderlyingConn().Close() // no close frame: the link broke
	if _, b := h.next(t); b.Info.Action != "Disconnect" || b.Info.Reason != "LinkClose" || b.Info.To_Account != "bob" {
		t.Fatalf("disconnect: %+v", b)
	}
}
