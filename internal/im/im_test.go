package im

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/sqlite"
)

// recorder is a bus handler that remembers deliveries.
type recorder struct{ got chan bus.Delivery }

func (r *recorder) Devices(int64, string) []bus.Device { return nil }
func (r *recorder) RemoteDevicesChanged(int64, string) {}

// attached returns a local bus with h attached.
func attached(h bus.Handler) *bus.Local {
	b := bus.NewLocal()
	b.Attach(h)
	return b
}

func (r *recorder) Deliver(ds []bus.Delivery) {
	for _, d := range ds {
		r.got <- d
	}
}

type fixture struct {
	svc   *Service
	clock *clock.Manual
	app   store.App
	bus   *recorder
}

func newFixture(t testing.TB, edition string) *fixture {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "im.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newFixtureOn(t, st, edition)
}

// newFixtureOn is newFixture over st (closed by the caller).
func newFixtureOn(t testing.TB, st store.Store, edition string) *fixture {
	t.Helper()
	c := clock.NewManual(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	ctx := context.Background()
	if err := st.CreateAccount(ctx, store.Account{ID: "acc", Name: "A", Email: "a@example.com", Status: "active", CreatedAt: c.Now()}); err != nil {
		t.Fatal(err)
	}
	app, err := st.CreateApp(ctx, store.App{AccountID: "acc", Name: "app", Region: "singapore", SecretKey: "k", AdminUser: "administrator",
		Edition: edition, Status: "active", CreatedAt: c.Now(), ExpiresAt: c.Now().AddDate(0, 1, 0)}, 300)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{got: make(chan bus.Delivery, 1000)}
	b := attached(rec)
	w := NewWriter(st, b, 64, nil)
	t.Cleanup(func() { w.Close() })
	svc := New(st, c, &gate.Gate{MAU: st, Clock: c}, w, b)
	if err := svc.ImportAccounts(ctx, app, []store.User{{UserID: "alice"}, {UserID: "bob"}}); err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, clock: c, app: app, bus: rec}
}

var hello = json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hello"}}]`)

func TestValidateBody(t *testing.T) {
	tests := []struct {
		body string
		code int
	}{
		{`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]`, 0},
		{`[{"MsgType":"TIMCustomElem","MsgContent":{"Data":"x"}},{"MsgType":"TIMFaceElem","MsgContent":{"Index":1}}]`, 0},
		{``, errs.MsgBodyNotArray},
		{`{"MsgType":"TIMTextElem"}`, errs.MsgBodyNotArray},
		{`[]`, errs.MsgBodyInvalid},
		{`[{"MsgType":"TIMNopeElem","MsgContent":{}}]`, errs.MsgBodyInvalid},
		{`[{"MsgType":"TIMTextElem","MsgContent":"text"}]`, errs.MsgBodyInvalid},
		{`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"` + strings.Repeat("x", MaxMsgBodyBytes) + `"}}]`, errs.MsgTooLong},
		{`[{"MsgType":`, errs.MsgBodyInvalid},
		// Every element type with its fields well typed, extra fields kept.
		{`[{"MsgType":"TIMLocationElem","MsgContent":{"Desc":"d","Latitude":22.5,"Longitude":113.9}}]`, 0},
		{`[{"MsgType":"TIMSoundElem","MsgContent":{"Url":"u","UUID":"x","Size":1,"Second":2,"Download_Flag":2}}]`, 0},
		{`[{"MsgType":"TIMImageElem","MsgContent":{"UUID":"x","ImageFormat":1,"ImageInfoArray":[{"Type":1,"Size":2,"Width":3,"Height":4,"URL":"u"}]}}]`, 0},
		{`[{"MsgType":"TIMFileElem","MsgContent":{"Url":"u","UUID":"x","FileSize":1,"FileName":"f","Download_Flag":2}}]`, 0},
		{`[{"MsgType":"TIMVideoFileElem","MsgContent":{"VideoUrl":"u","VideoUUID":"x","VideoSize":1,"VideoSecond":2,"VideoFormat":"mp4","VideoDownloadFlag":2,"ThumbUrl":"t","ThumbUUID":"y","ThumbSize":1,"ThumbWidth":2,"ThumbHeight":3,"ThumbFormat":"jpg","ThumbDownloadFlag":2}}]`, 0},
		{`[{"MsgType":"TIMCustomElem","MsgContent":{"Data":"x","Desc":"d","Ext":"e","Sound":"s","Extra":[1]}}]`, 0},
		// A field of another JSON type than the reference's.
		{`[{"MsgType":"TIMTextElem","MsgContent":{"Text":5}}]`, errs.MsgBodyInvalid},
		{`[{"MsgType":"TIMTextElem","MsgContent":{"Text":{"evil":[1,2]}}}]`, errs.MsgBodyInvalid},
		{`[{"MsgType":"TIMLocationElem","MsgContent":{"Latitude":"north"}}]`, errs.MsgBodyInvalid},
		{`[{"MsgType":"TIMFaceElem","MsgContent":{"Index":"1"}}]`, errs.MsgBodyInvalid},
		{`[{"MsgType":"TIMCustomElem","MsgContent":{"Data":1}}]`, errs.MsgBodyInvalid},
		{`[{"MsgType":"TIMImageElem","MsgContent":{"UUID":5,"ImageInfoArray":"x"}}]`, errs.MsgBodyInvalid},
		{`[{"MsgType":"TIMImageElem","MsgContent":{"ImageInfoArray":[{"Width":"wide"}]}}]`, errs.MsgBodyInvalid},
		{`[{"MsgType":"TIMSoundElem","MsgContent":{"Second":1.5}}]`, errs.MsgBodyInvalid},
		{`[{"MsgType":"TIMFileElem","MsgContent":{"FileSize":"big"}}]`, errs.MsgBodyInvalid},
		{`[{"MsgType":"TIMVideoFileElem","MsgContent":{"ThumbWidth":true}}]`, errs.MsgBodyInvalid},
	}
	for _, tt := range tests {
		err := ValidateBody(json.RawMessage(tt.body))
		if tt.code == 0 && err != nil || tt.code != 0 && !errs.Is(err, tt.code) {
			t.Errorf("ValidateBody(%.40q) = %v, want code %d", tt.body, err, tt.code)
		}
	}
}

func TestValidUserID(t *testing.T) {
	for id, ok := range map[string]bool{"alice": true, "a_b-c.d@e": true, strings.Repeat("x", 32): true,
		"": false, strings.Repeat("x", 33): false, "tab\tbed": false, "ünï": false,
		"a b": true, " ": false, "   ": false, " alice": false, "alice ": false, "nul\x00": false} {
		if got := ValidUserID(id) == nil; got != ok {
			t.Errorf("ValidUserID(%q) ok=%v, want %v", id, got, ok)
		}
	}
}

func TestSendDeliversToBothLogsAfterCommit(t *testing.T) {
	f := newFixture(t, catalog.Trial)
	res, err := f.svc.Send(context.Background(), f.app, SendRequest{From: "alice", To: "bob", ClientID: "c1", Body: hello})
	if err != nil {
		t.Fatal(err)
	}
	owners := map[string]int64{}
	for i := 0; i < 2; i++ {
		d := <-f.bus.got
		if d.Kind != bus.KindEntry || d.Entry.MsgKey != res.MsgKey {
			t.Fatalf("delivery %+v", d)
		}
		owners[d.User] = d.Entry.Seq
	}
	if owners["alice"] != res.Seq || owners["bob"] == 0 {
		t.Fatalf("deliveries went to %v (ack seq %d)", owners, res.Seq)
	}
	// The same client id again: the original, and nothing delivered.
	again, err := f.svc.Send(context.Background(), f.app, SendRequest{From: "alice", To: "bob", ClientID: "c1", Body: hello})
	if err != nil || !again.Duplicate || again.MsgKey != res.MsgKey {
		t.Fatalf("retry: %v %+v", err, again)
	}
	select {
	case d := <-f.bus.got:
		t.Fatalf("a duplicate was delivered: %+v", d)
	default:
	}
}

func TestSendRefusals(t *testing.T) {
	f := newFixture(t, catalog.Trial)
	ctx := context.Background()
	tests := []struct {
		name string
		req  SendRequest
		code int
	}{
		{"unknown receiver", SendRequest{From: "alice", To: "carol", Body: hello}, errs.MsgPeerNotFound},
		{"unknown sender", SendRequest{From: "mallory", To: "bob", Body: hello}, errs.C2CSenderOrPeer},
		{"bad receiver id", SendRequest{From: "alice", To: strings.Repeat("b", 40), Body: hello}, errs.MsgToAccount},
		{"no body", SendRequest{From: "alice", To: "bob"}, errs.MsgBodyNotArray},
		{"long client id", SendRequest{From: "alice", To: "bob", ClientID: strings.Repeat("c", 65), Body: hello}, errs.InvalidParameters},
	}
	for _, tt := range tests {
		if _, err := f.svc.Send(ctx, f.app, tt.req); !errs.Is(err, tt.code) {
			t.Errorf("%s: %v, want %d", tt.name, err, tt.code)
		}
	}
	if seq, _ := f.svc.LastSeq(ctx, f.app, "bob"); seq != 0 {
		t.Fatalf("refused sends wrote to bob's log (seq %d)", seq)
	}
	suspended := f.app
	suspended.Status = "suspended"
	if _, err := f.svc.Send(ctx, suspended, SendRequest{From: "alice", To: "bob", Body: hello}); !errs.Is(err, errs.PlanInactive) {
		t.Fatalf("suspended app: %v", err)
	}
}

func TestRecallWindow(t *testing.T) {
	f := newFixture(t, catalog.Trial)
	ctx := context.Background()
	m1, _ := f.svc.Send(ctx, f.app, SendRequest{From: "alice", To: "bob", Body: hello})
	m2, _ := f.svc.Send(ctx, f.app, SendRequest{From: "alice", To: "bob", Body: hello})
	if err := f.svc.Recall(ctx, f.app, "bob", "alice", m1.MsgKey, false); err == nil {
		t.Fatal("bob recalled alice's message")
	}
	f.clock.Advance(UserRecallWindow - time.Second)
	if err := f.svc.Recall(ctx, f.app, "alice", "bob", m1.MsgKey, false); err != nil {
		t.Fatalf("within the window: %v", err)
	}
	f.clock.Advance(2 * time.Second)
	if err := f.svc.Recall(ctx, f.app, "alice", "bob", m2.MsgKey, false); !errs.Is(err, errs.MsgRecallTooLate) {
		t.Fatalf("after the window: %v, want %d", err, errs.MsgRecallTooLate)
	}
	if err := f.svc.Recall(ctx, f.app, "alice", "bob", m2.MsgKey, true); err != nil {
		t.Fatalf("admin recall: %v", err)
	}
	if err := f.svc.Recall(ctx, f.app, "alice", "bob", "1_2_3", true); !errs.Is(err, errs.MsgNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
	page, err := f.svc.History(ctx, f.app, "bob", "alice", 0, 0, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range page.Messages {
		if !m.Recalled {
			t.Fatalf("message %s not marked recalled", m.MsgKey)
		}
	}
}

func TestRetentionHidesAndPurgesOldHistory(t *testing.T) {
	for _, tt := range []struct {
		edition string
		days    int
	}{{catalog.Trial, 7}, {catalog.Standard, 7}, {catalog.Premium, 30}} {
		t.Run(tt.edition, func(t *testing.T) {
			f := newFixture(t, tt.edition)
			ctx := context.Background()
			if _, err := f.svc.Send(ctx, f.app, SendRequest{From: "alice", To: "bob", Body: hello}); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(time.Duration(tt.days)*24*time.Hour - time.Minute)
			visible := func() int {
				entries, _, err := f.svc.Sync(ctx, f.app, "bob", 0, 100)
				if err != nil {
					t.Fatal(err)
				}
				page, err := f.svc.History(ctx, f.app, "bob", "alice", 0, 0, 100, "")
				if err != nil {
					t.Fatal(err)
				}
				unread, err := f.svc.Unread(ctx, f.app, "bob", nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(entries) != len(page.Messages) || unread.ByPeer["alice"] != len(entries) || unread.Total != len(entries) {
					t.Fatalf("sync %d, history %d, unread %v disagree", len(entries), len(page.Messages), unread)
				}
				return len(entries)
			}
			if n := visible(); n != 1 {
				t.Fatalf("inside the window: %d messages visible", n)
			}
			if n, _ := f.svc.PurgeExpired(ctx, []store.App{f.app}); n != 0 {
				t.Fatalf("purged %d entries inside the window", n)
			}
			f.clock.Advance(2 * time.Minute)
			if n := visible(); n != 0 {
				t.Fatalf("outside the window: %d messages visible", n)
			}
			if n, _ := f.svc.PurgeExpired(ctx, []store.App{f.app}); n != 2 { // both copies
				t.Fatalf("purged %d entries, want 2", n)
			}
		})
	}
}

func TestProfiles(t *testing.T) {
	f := newFixture(t, catalog.Trial)
	ctx := context.Background()
	for _, name := range []string{"team", "big"} {
		if _, err := f.svc.DeclareProfileField(ctx, f.app.SDKAppID, name, ProfileString, 0); err != nil {
			t.Fatal(err)
		}
	}
	good := []ProfileItem{
		{Tag: TagNick, Value: json.RawMessage(`"Alice"`)},
		{Tag: "Tag_Profile_IM_Gender", Value: json.RawMessage(`"Gender_Type_Female"`)},
		{Tag: "Tag_Profile_IM_Level", Value: json.RawMessage(`7`)},
		{Tag: "Tag_Profile_Custom_team", Value: json.RawMessage(`"red"`)},
	}
	if err := f.svc.SetProfile(ctx, f.app, "alice", good); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		item ProfileItem
		code int
	}{
		{ProfileItem{Tag: "Tag_Profile_IM_Gender", Value: json.RawMessage(`"Gender_Type_Robot"`)}, errs.ProfileBadValue},
		{ProfileItem{Tag: "Tag_Profile_IM_Gender", Value: json.RawMessage(`1`)}, errs.ProfileTypeMismatch},
		{ProfileItem{Tag: "Tag_Profile_IM_Level", Value: json.RawMessage(`"high"`)}, errs.ProfileTypeMismatch},
		{ProfileItem{Tag: "Tag_Profile_Custom_waytoolong", Value: json.RawMessage(`"x"`)}, errs.ProfileTagNotFound},
		{ProfileItem{Tag: "Tag_Profile_IM_Unknown", Value: json.RawMessage(`"x"`)}, errs.ProfileTagNotFound},
		{ProfileItem{Tag: "Tag_Profile_Custom_big", Value: json.RawMessage(`"` + strings.Repeat("x", 501) + `"`)}, errs.ProfileValueTooBig},
		{ProfileItem{Tag: TagNick, Value: json.RawMessage(`{"a":1}`)}, errs.ProfileTypeMismatch},
		{ProfileItem{Tag: "Tag_Profile_Custom_team", Value: json.RawMessage(`[1]`)}, errs.ProfileTypeMismatch},
	}
	for _, b := range bad {
		// A bad item next to a good one: nothing of the call is stored.
		items := []ProfileItem{{Tag: TagSelfSignature, Value: json.RawMessage(`"Changed"`)}, b.item}
		if err := f.svc.SetProfile(ctx, f.app, "alice", items); !errs.Is(err, b.code) {
			t.Errorf("%s=%s: %v, want %d", b.item.Tag, b.item.Value, err, b.code)
		}
	}
	if err := f.svc.SetProfile(ctx, f.app, "carol", good); !errs.Is(err, errs.ProfileNoAccount) {
		t.Fatalf("unknown user: %v", err)
	}
	got, err := f.svc.GetProfiles(ctx, f.app, []string{"alice", "carol"}, []string{TagNick, "Tag_Profile_IM_Level", "Tag_Profile_Custom_team"})
	if err != nil {
		t.Fatal(err)
	}
	if !got[0].Found || got[1].Found || len(got[0].Items) != 3 || string(got[0].Items[0].Value) != `"Alice"` || string(got[0].Items[1].Value) != `7` {
		t.Fatalf("profiles: %+v", got)
	}
}

// Existence checks are cached, but a deletion is seen at once, and an entry expires.
func TestUserCacheFollowsDeletion(t *testing.T) {
	f := newFixture(t, catalog.Trial)
	ctx := context.Background()
	if _, err := f.svc.Send(ctx, f.app, SendRequest{From: "alice", To: "bob", Body: hello}); err != nil {
		t.Fatal(err) // both users are now cached
	}
	if _, err := f.svc.DeleteAccounts(ctx, f.app, []string{"bob"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Send(ctx, f.app, SendRequest{From: "alice", To: "bob", Body: hello}); !errs.Is(err, errs.MsgPeerNotFound) {
		t.Fatalf("send to a deleted user: %v, want %d", err, errs.MsgPeerNotFound)
	}
	// A deletion behind the service's back (another node) is seen once the entry expires.
	if err := f.svc.store.DeleteUsers(ctx, f.app.SDKAppID, []string{"alice"}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(userCacheTTL + time.Second)
	if found, _ := f.svc.CheckAccounts(ctx, f.app, []string{"alice"}); found["alice"] {
		t.Fatal("a user deleted elsewhere is still reported after the cache expiry")
	}
}

// New refuses a missing dependency at once rather than failing on first use.
func TestNewRequiresItsDependencies(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "im.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := clock.NewManual(time.Now())
	b := attached(&recorder{})
	w := NewWriter(st, b, 8, nil)
	defer w.Close()
	g := &gate.Gate{MAU: st, Clock: c}
	for name, build := range map[string]func(){
		"store":  func() { New(nil, c, g, w, b) },
		"clock":  func() { New(st, nil, g, w, b) },
		"gate":   func() { New(st, c, nil, w, b) },
		"writer": func() { New(st, c, g, nil, b) },
		"bus":    func() { New(st, c, g, w, nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New without its %s did not panic", name)
				}
			}()
			build()
		}()
	}
}
