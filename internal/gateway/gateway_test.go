package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/gateway"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/sqlite"
	"github.com/chatd/chatd/internal/store/sqlstore"
	"github.com/chatd/chatd/internal/tenant"
	"github.com/chatd/chatd/internal/usersig"
)

type env struct {
	t       testing.TB
	tenants *tenant.Service
	lossy   *lossyBus
	faults  *faultyStore // the messaging service's store
	url     string
	app     store.App
	svc     *im.Service
	st      *sqlstore.Store
	clock   *clock.Manual
	gw      *gateway.Gateway
	held    *heldStore // the writer's store
}

func newEnv(t *testing.T, edition string) *env {
	t.Helper()
	return newEnvWith(t, edition, gateway.Limits{}, gateway.Metrics{})
}

// newEnvWith is newEnv with the gateway's limits and metrics hooks.
func newEnvWith(t *testing.T, edition string, lim gateway.Limits, m gateway.Metrics) *env {
	t.Helper()
	return newEnvListening(t, edition, lim, m, nil)
}

// newEnvListening is newEnvWith whose server accepts through wrap (nil: as is).
func newEnvListening(t testing.TB, edition string, lim gateway.Limits, m gateway.Metrics, wrap func(net.Listener) net.Listener) *env {
	t.Helper()
	return newEnvOn(t, edition, lim, m, wrap, bus.NewLocal())
}

// newEnvOn is newEnvListening over the bus inner (wrapped by the lossy bus).
func newEnvOn(t testing.TB, edition string, lim gateway.Limits, m gateway.Metrics, wrap func(net.Listener) net.Listener, inner bus.Bus) *env {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	c := clock.NewManual(time.Now().UTC())
	tenants := &tenant.Service{Store: st, Clock: c}
	ctx := context.Background()
	acc, err := tenants.CreateAccount(ctx, "Acme", "ops@acme.example", "")
	if err != nil {
		t.Fatal(err)
	}
	app, err := tenants.CreateApp(ctx, acc.ID, "chat", "")
	if err != nil {
		t.Fatal(err)
	}
	app.Edition = edition // the gate reads the edition from the app the gateway loads
	lossy := &lossyBus{Bus: inner}
	held := &heldStore{Messages: st}
	w := im.NewWriter(held, lossy, 64, nil)
	faults := &faultyStore{Store: st}
	svc := im.New(faults, c, &gate.Gate{MAU: st, Clock: c}, w, lossy)
	gwTenants := tenants
	if edition != catalog.Trial {
		gwTenants = &tenant.Service{Store: editionStore{st, edition}, Clock: c}
	}
	gw := gateway.New(gateway.Config{Tenants: gwTenants, IM: svc, Bus: lossy, Logger: slog.New(slog.DiscardHandler), Limits: lim, Metrics: m})
	srv := httptest.NewUnstartedServer(gw)
	if wrap != nil {
		srv.Listener = wrap(srv.Listener)
	}
	srv.Start()
	t.Cleanup(func() { gw.CloseAll(); srv.Close(); w.Close(); st.Close() })
	if err := svc.ImportAccounts(ctx, app, []store.User{{UserID: "alice"}, {UserID: "bob"}}); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, tenants: tenants, lossy: lossy, faults: faults, url: "ws" + strings.TrimPrefix(srv.URL, "http"), app: app, svc: svc, st: st, clock: c, gw: gw, held: held}
}

// editionStore presents every app with the given edition (plans are bought in a later
// part of chatd; here only the gateway's reading of the edition matters).
type editionStore struct {
	store.Tenants
	edition string
}

func (s editionStore) GetApp(ctx context.Context, id int64) (store.App, error) {
	a, err := s.Tenants.GetApp(ctx, id)
	a.Edition = s.edition
	return a, err
}

func (e *env) sig(user string) string {
	s, err := usersig.Gen(e.app.SDKAppID, e.app.SecretKey, user, 3600, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) dial(user, platform string) (*client.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return client.Dial(ctx, e.url, client.Options{SDKAppID: e.app.SDKAppID, User: user, UserSig: e.sig(user), Platform: platform})
}

// raw opens a WebSocket and exchanges raw frames.
func (e *env) raw() *websocket.Conn {
	c, _, err := websocket.DefaultDialer.Dial(e.url, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

func roundTrip(t testing.TB, c *websocket.Conn, frame string) gateway.Frame {
	t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("no reply to %s: %v", frame, err)
	}
	var f gateway.Frame
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestLoginRefusals(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	other, _ := usersig.Gen(e.app.SDKAppID, "another-key", "alice", 3600, e.clock.Now())
	expired, _ := usersig.Gen(e.app.SDKAppID, e.app.SecretKey, "alice", 10, e.clock.Now().Add(-time.Hour))
	tests := []struct {
		name  string
		frame map[string]any
		code  int
	}{
		{"forged sig", map[string]any{"sdkappid": e.app.SDKAppID, "user": "alice", "usersig": other, "platform": "Web"}, errs.SigMismatch},
		{"expired sig", map[string]any{"sdkappid": e.app.SDKAppID, "user": "alice", "usersig": expired, "platform": "Web"}, errs.SigExpired},
		{"empty sig", map[string]any{"sdkappid": e.app.SDKAppID, "user": "alice", "usersig": "", "platform": "Web"}, errs.SigEmpty},
		{"another user's sig", map[string]any{"sdkappid": e.app.SDKAppID, "user": "bob", "usersig": e.sig("alice"), "platform": "Web"}, errs.SigIdentifier},
		{"unknown app", map[string]any{"sdkappid": 1499999999, "user": "alice", "usersig": e.sig("alice"), "platform": "Web"}, errs.AppNotFound},
		{"user not imported", map[string]any{"sdkappid": e.app.SDKAppID, "user": "carol", "usersig": e.sig("carol"), "platform": "Web"}, errs.AccountNotFound},
		{"bad platform", map[string]any{"sdkappid": e.app.SDKAppID, "user": "alice", "usersig": e.sig("alice"), "platform": "Toaster"}, errs.InvalidParameters},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.frame["op"], tt.frame["id"] = "login", "1"
			b, _ := json.Marshal(tt.frame)
			if f := roundTrip(t, e.raw(), string(b)); f.Code != tt.code {
				t.Fatalf("code %d (%s), want %d", f.Code, f.Message, tt.code)
			}
		})
	}
	if f := roundTrip(t, e.raw(), `{"op":"send","id":"1"}`); f.Code != errs.InvalidParameters {
		t.Fatalf("first frame not a login: %+v", f)
	}
	if n, _ := e.st.CountMonthly(context.Background(), e.app.SDKAppID, e.clock.Now().Format("2006-01")); n != 0 {
		t.Fatalf("refused logins counted as MAU: %d", n)
	}
}

func TestBadFramesAfterLogin(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	c := e.raw()
	login := `{"op":"login","id":"1","sdkappid":` + jsonInt(e.app.SDKAppID) + `,"user":"alice","usersig":"` + e.sig("alice") + `","platform":"Web"}`
	if f := roundTrip(t, c, login); f.Code != 0 {
		t.Fatalf("login: %+v", f)
	}
	if f := roundTrip(t, c, `{"op":`); f.Op != gateway.OpError || f.Code != errs.JSONParse {
		t.Fatalf("malformed JSON: %+v", f)
	}
	if f := roundTrip(t, c, `{"op":"dance","id":"2"}`); f.Code != errs.InvalidParameters {
		t.Fatalf("unknown op: %+v", f)
	}
	if f := roundTrip(t, c, `{"op":"send","id":"3","to":"bob","body":"hello"}`); f.Code != errs.MsgBodyNotArray {
		t.Fatalf("bad body: %+v", f)
	}
	if f := roundTrip(t, c, `{"op":"send","id":"4","to":"nobody","body":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}`); f.Code != errs.MsgPeerNotFound {
		t.Fatalf("unknown peer: %+v", f)
	}
	if f := roundTrip(t, c, `{"op":"ping","id":"5"}`); f.Op != gateway.OpPong || f.ID != "5" {
		t.Fatalf("ping: %+v", f)
	}
	if seq, _ := e.st.LastSeq(context.Background(), e.app.SDKAppID, "bob"); seq != 0 {
		t.Fatalf("refused frames wrote to bob's log: seq %d", seq)
	}
}

func jsonInt(v int64) string { b, _ := json.Marshal(v); return string(b) }

func TestKickEndsEverySession(t *testing.T) {
	m := newMeter()
	e := newEnvWith(t, catalog.Trial, gateway.Limits{}, m.metrics())
	a1, err := e.dial("alice", "iOS")
	if err != nil {
		t.Fatal(err)
	}
	a2, err := e.dial("alice", "Web")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(e.gw.Devices(e.app.SDKAppID, "alice")); got != 2 {
		t.Fatalf("%d devices online", got)
	}
	if err := e.svc.Kick(context.Background(), e.app, "alice"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Client{a1, a2} {
		select {
		case <-c.Done():
			if !strings.Contains(c.Kicked(), "kicked") {
				t.Fatalf("kick reason %q", c.Kicked())
			}
		case <-time.After(5 * time.Second):
			t.Fatal("session survived a kick")
		}
	}
	m.waitEnded(t, "first kicked device")
	m.waitEnded(t, "second kicked device")
	if n := len(e.gw.Devices(e.app.SDKAppID, "alice")); n != 0 {
		t.Fatalf("%d devices online after the kick", n)
	}
}

// alive checks that c's session is up: a ping round trip. The server answers
// frames in order, so a kick queued before the ping would have ended it.
func alive(t *testing.T, c *client.Client, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func TestSamePlatformDevicesPerEdition(t *testing.T) {
	for _, tt := range []struct {
		edition  string
		replaces bool
	}{{catalog.Trial, false}, {catalog.Standard, true}, {catalog.Premium, false}} {
		t.Run(tt.edition, func(t *testing.T) {
			e := newEnv(t, tt.edition)
			first, err := e.dial("alice", "iOS")
			if err != nil {
				t.Fatal(err)
			}
			other, err := e.dial("alice", "Web") // another platform never conflicts
			if err != nil {
				t.Fatal(err)
			}
			second, err := e.dial("alice", "iOS")
			if err != nil {
				t.Fatal(err)
			}
			defer second.Close()
			if !tt.replaces {
				alive(t, first, "first iOS device")
			} else {
				select {
				case <-first.Done():
				case <-time.After(5 * time.Second):
					t.Fatal("first iOS device kept its session")
				}
			}
			alive(t, other, "the Web device")
		})
	}
}

func TestDeletedAppEndsSessions(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	alice, err := e.dial("alice", "Web")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.tenants.DeleteApp(context.Background(), e.app.SDKAppID, e.app.SDKAppID); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(3 * time.Second) // past the gateway's app refresh
	_, err = alice.SendText(context.Background(), "bob", "x", "still there?")
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != errs.AppNotFound {
		t.Fatalf("send after deletion: %v, want %d", err, errs.AppNotFound)
	}
	select {
	case <-alice.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("session of a deleted app stayed open")
	}
}

func TestDeletedAccountIsLoggedOut(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	alice, err := e.dial("alice", "Web")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := e.dial("bob", "Web")
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	if _, err := e.svc.DeleteAccounts(context.Background(), e.app, []string{"alice"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-alice.Done():
		if alice.Kicked() != "account deleted" {
			t.Fatalf("kick reason %q", alice.Kicked())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a deleted account stayed logged in")
	}
	alive(t, bob, "another account")
}

// lossyBus passes deliveries on, dropping the next ones addressed to drop.
type lossyBus struct {
	bus.Bus
	mu   sync.Mutex
	drop map[string]int // user -> deliveries still to drop
}

func (l *lossyBus) Publish(ds []bus.Delivery) {
	l.mu.Lock()
	kept := ds[:0:0]
	for _, d := range ds {
		if l.drop[d.User] > 0 {
			l.drop[d.User]--
			continue
		}
		kept = append(kept, d)
	}
	l.mu.Unlock()
	l.Bus.Publish(kept)
}

func (l *lossyBus) dropNext(user string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.drop == nil {
		l.drop = map[string]int{}
	}
	l.drop[user] += n
}

// A push lost on the way (as can happen between nodes) is noticed by the client from
// the gap in seq and filled by a sync: the device still gets every entry, in order.
func TestClientFillsGapsInPushes(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	bob, err := e.dial("bob", "Web")
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	ctx := context.Background()
	send := func(i int) {
		body := json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"m` + string(rune('0'+i)) + `"}}]`)
		if _, err := e.svc.Send(ctx, e.app, im.SendRequest{From: "alice", To: "bob", Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(want int64) {
		t.Helper()
		select {
		case got := <-bob.Entries():
			if got.Seq != want {
				t.Fatalf("entry seq %d, want %d", got.Seq, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("entry %d never arrived", want)
		}
	}
	send(1)
	expect(1) // the login's resync is over; pushes are now applied live
	e.lossy.dropNext("bob", 2)
	for i := 2; i <= 4; i++ {
		send(i)
	}
	for want := int64(2); want <= 4; want++ {
		expect(want) // 2 and 3 were never pushed: the gap before 4 makes the client sync
	}
}

// TestSuspendedAppEndsIdleSessions: a device that sends nothing is still
// disconnected once its app is suspended, with a "kicked" notice saying why.
func TestSuspendedAppEndsIdleSessions(t *testing.T) {
	e := newEnv(t, catalog.Trial)
	alice, err := e.dial("alice", "Web")
	if err != nil {
		t.Fatal(err)
	}
	gw := e.gw
	gw.EndInactiveApps(context.Background()) // active: nothing happens
	alive(t, alice, "session of an active app")
	err = e.st.InCommerceTx(context.Background(), func(tx store.CommerceTx) error {
		a, err := tx.LockApp(context.Background(), e.app.SDKAppID)
		if err != nil {
			return err
		}
		a.Status, a.SuspendReason, a.SuspendedAt = "suspended", "expired", e.clock.Now()
		return tx.UpdateApp(context.Background(), a)
	})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(3 * time.Second) // past the gateway's app refresh
	gw.EndInactiveApps(context.Background())
	select {
	case <-alice.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("idle session of a suspended app stayed open")
	}
	if !strings.Contains(alice.Kicked(), "suspended") {
		t.Errorf("kick reason %q does not say the app is suspended", alice.Kicked())
	}
}

// New refuses a missing dependency, and attaches the gateway to its bus: what im
// publishes reaches the devices and presence is the gateway's.
func TestNewWiring(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New without a bus did not panic")
		}
	}()
	e := newEnv(t, catalog.Trial)
	alice, err := e.dial("alice", "Web")
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	online, err := e.svc.OnlineStatus(context.Background(), e.app, []string{"alice"})
	if err != nil || len(online) != 1 || online[0].Status != "Online" || len(online[0].Devices) != 1 {
		t.Fatalf("presence through the bus: %+v, %v", online, err)
	}
	gateway.New(gateway.Config{Tenants: e.tenants, IM: e.svc, Logger: slog.New(slog.DiscardHandler)})
}
