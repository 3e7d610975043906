package im

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
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

// presence is a bus handler whose online users the test sets; it drops
// deliveries.
type presence struct {
	mu     sync.Mutex
	online map[string]bool
	groups []bus.Delivery // the KindGroup deliveries of messages
	tips   []bus.Delivery // the KindGroup deliveries of tips
}

func (p *presence) Deliver(ds []bus.Delivery) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, d := range ds {
		switch {
		case d.Kind == bus.KindGroup && d.Entry.Kind == store.KindGroupTips:
			p.tips = append(p.tips, d)
		case d.Kind == bus.KindGroup:
			p.groups = append(p.groups, d)
		}
	}
}

// taken returns and forgets the KindGroup deliveries so far.
func (p *presence) taken() []bus.Delivery {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.groups
	p.groups = nil
	return out
}
func (p *presence) RemoteDevicesChanged(int64, string) {}

func (p *presence) Devices(_ int64, user string) []bus.Device {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.online[user] {
		return []bus.Device{{Platform: "Web", ConnID: "c-" + user}}
	}
	return nil
}
func (p *presence) set(on bool, users ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range users {
		p.online[u] = on
	}
}

type liveFixture struct {
	svc   *Service
	st    store.Store
	clock *clock.Manual
	app   store.App
	p     *presence
}

func newLiveFixture(t testing.TB, edition string, users ...string) *liveFixture {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "im.db"))
	if err != nil {
		t.Fatal(err)
	}
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
	p := &presence{online: map[string]bool{}}
	b := attached(p)
	w := NewWriter(st, b, 64, nil)
	t.Cleanup(func() { w.Close(); st.Close() })
	svc := New(st, c, &gate.Gate{MAU: st, Clock: c}, w, b)
	us := []store.User{{UserID: "owner", Nick: "Owner"}}
	for _, u := range users {
		us = append(us, store.User{UserID: u, Nick: "nick-" + u, FaceURL: "https://example.com/" + u})
	}
	for i := 0; i < len(us); i += 100 {
		if err := svc.ImportAccounts(ctx, app, us[i:min(len(us), i+100)]); err != nil {
			t.Fatal(err)
		}
	}
	return &liveFixture{svc: svc, st: st, clock: c, app: app, p: p}
}

func (f *liveFixture) room(t testing.TB, id, typ string) {
	t.Helper()
	if _, err := f.svc.CreateGroup(context.Background(), f.app, AdminActor, GroupSpec{Owner: "owner", Type: typ, GroupID: id, Name: id}, false); err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
}

func (f *liveFixture) join(t testing.TB, id string, users ...string) {
	t.Helper()
	for _, u := range users {
		if _, err := f.svc.JoinGroup(context.Background(), f.app, u, id, ""); err != nil {
			t.Fatalf("%s joins %s: %v", u, id, err)
		}
		f.clock.Advance(time.Second)
	}
}

func TestLiveRoomMembers(t *testing.T) {
	ctx := context.Background()
	f := newLiveFixture(t, catalog.Premium, "u1", "u2", "u3", "u4")
	f.room(t, "live", "AVChatRoom")
	f.room(t, "work", "Work")
	f.join(t, "live", "u1", "u2", "u3", "u4")
	f.p.set(true, "u1", "u3", "u4")
	ms, next, err := f.svc.LiveRoomMembers(ctx, f.app, "live", 0, 0)
	if err != nil || next != 0 || len(ms) != 3 {
		t.Fatalf("members = %+v, %d, %v", ms, next, err)
	}
	if ms[0].UserID != "u4" || ms[1].UserID != "u3" || ms[2].UserID != "u1" || ms[0].Nick != "nick-u4" || ms[0].FaceURL != "https://example.com/u4" || ms[0].JoinTime == 0 {
		t.Fatalf("not newest first with profiles: %+v", ms)
	}
	if ms, _, err := f.svc.LiveRoomMembers(ctx, f.app, "live", 0, 7); err != nil || len(ms) != 0 {
		t.Fatalf("a mark lists %v, %v", ms, err)
	}
	wantCode(t, "a Work group", func() error { _, _, err := f.svc.LiveRoomMembers(ctx, f.app, "work", 0, 0); return err }(), errs.GroupNoPermission)
	wantCode(t, "no group", func() error { _, _, err := f.svc.LiveRoomMembers(ctx, f.app, "none", 0, 0); return err }(), errs.GroupNotFound)
	wantCode(t, "negative Timestamp", func() error { _, _, err := f.svc.LiveRoomMembers(ctx, f.app, "live", -1, 0); return err }(), errs.GroupBadParams)
	wantCode(t, "negative Mark", func() error { _, _, err := f.svc.LiveRoomMembers(ctx, f.app, "live", 0, -1); return err }(), errs.GroupBadParams)

	s := newLiveFixture(t, catalog.Standard, "u1")
	s.room(t, "live", "AVChatRoom")
	wantCode(t, "Standard", func() error { _, _, err := s.svc.LiveRoomMembers(ctx, s.app, "live", 0, 0); return err }(), errs.GroupFeatureNotInEdition)
}

// TestLiveRoomMembersPages: at most MaxLiveMembers newest online members, in
// pages of LiveMembersPerPage.
func TestLiveRoomMembersPages(t *testing.T) {
	ctx := context.Background()
	var users []string
	for i := range 1200 {
		users = append(users, fmt.Sprintf("m%04d", i))
	}
	f := newLiveFixture(t, catalog.Trial, users...)
	f.room(t, "live", "AVChatRoom")
	var add []store.GroupMember
	for i, u := range users {
		add = append(add, store.GroupMember{UserID: u, Role: store.RoleMember, JoinTime: f.clock.Now().Add(time.Duration(i) * time.Second)})
	}
	for i := 0; i < len(add); i += 300 {
		if _, err := f.st.AddGroupMembers(ctx, f.app.SDKAppID, "live", add[i:min(len(add), i+300)], store.GroupQuota{Day: "2026-11-26"}); err != nil {
			t.Fatal(err)
		}
	}
	f.p.set(true, users...)
	var got []LiveMember
	cursor := int64(0)
	for range 5 {
		ms, next, err := f.svc.LiveRoomMembers(ctx, f.app, "live", cursor, 0)
		if err != nil || len(ms) > LiveMembersPerPage {
			t.Fatalf("page at %d: %d members, %v", cursor, len(ms), err)
		}
		got = append(got, ms...)
		if next == 0 {
			break
		}
		cursor = next
	}
	if len(got) != MaxLiveMembers || got[0].UserID != "m1199" || got[len(got)-1].UserID != "m0200" {
		t.Fatalf("%d members from %s to %s", len(got), got[0].UserID, got[len(got)-1].UserID)
	}
	wantCode(t, "a cursor past the list", func() error { _, _, err := f.svc.LiveRoomMembers(ctx, f.app, "live", MaxLiveMembers, 0); return err }(), errs.GroupBadParams)
}

func TestLiveRoomBans(t *testing.T) {
	ctx := context.Background()
	f := newLiveFixture(t, catalog.Trial, "u1", "u2", "u3")
	f.room(t, "live", "AVChatRoom")
	f.room(t, "meet", "Meeting")
	f.join(t, "live", "u1", "u2")
	if err := f.svc.BanMembers(ctx, f.app, "live", []string{"u1", "u3", "u1"}, 60, "spam"); err != nil {
		t.Fatal(err)
	}
	if ids, _ := f.st.GroupMemberIDs(ctx, f.app.SDKAppID, "live"); fmt.Sprint(ids) != "[owner u2]" {
		t.Fatalf("members after the ban: %v", ids)
	}
	wantCode(t, "a banned user joins", func() error { _, err := f.svc.JoinGroup(ctx, f.app, "u1", "live", ""); return err }(), errs.GroupNoPermission)
	wantCode(t, "a banned non-member joins", func() error { _, err := f.svc.JoinGroup(ctx, f.app, "u3", "live", ""); return err }(), errs.GroupNoPermission)
	bs, next, err := f.svc.BannedMembers(ctx, f.app, "live", 1, 0)
	if err != nil || len(bs) != 1 || bs[0].UserID != "u1" || bs[0].Until != f.clock.Now().Unix()+60 || next != 1 {
		t.Fatalf("ban page = %+v, %d, %v", bs, next, err)
	}
	if bs, next, _ := f.svc.BannedMembers(ctx, f.app, "live", 0, 1); len(bs) != 1 || bs[0].UserID != "u3" || next != 0 {
		t.Fatalf("ban page 2 = %+v, %d", bs, next)
	}
	// The ban ends by the clock.
	f.clock.Advance(60 * time.Second)
	f.join(t, "live", "u1")
	if bs, _, _ := f.svc.BannedMembers(ctx, f.app, "live", 0, 0); len(bs) != 0 {
		t.Fatalf("ended bans listed: %+v", bs)
	}
	// Unban.
	if err := f.svc.BanMembers(ctx, f.app, "live", []string{"u3"}, 3600, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.UnbanMembers(ctx, f.app, "live", []string{"u3"}); err != nil {
		t.Fatal(err)
	}
	f.join(t, "live", "u3")

	// Bad input changes nothing.
	many := make([]string, MaxBanAccounts+1)
	for i := range many {
		many[i] = fmt.Sprintf("x%d", i)
	}
	bad := []struct {
		what  string
		err   error
		code  int
		group string
	}{
		{"no accounts", f.svc.BanMembers(ctx, f.app, "live", nil, 60, ""), errs.GroupBadParams, ""},
		{"21 accounts", f.svc.BanMembers(ctx, f.app, "live", many, 60, ""), errs.GroupTooManyAccounts, ""},
		{"Duration 0", f.svc.BanMembers(ctx, f.app, "live", []string{"u2"}, 0, ""), errs.GroupBadParams, ""},
		{"Duration too long", f.svc.BanMembers(ctx, f.app, "live", []string{"u2"}, MaxBanDuration+1, ""), errs.GroupBadParams, ""},
		{"long Description", f.svc.BanMembers(ctx, f.app, "live", []string{"u2"}, 60, string(make([]byte, MaxBanDescriptionBytes+1))), errs.GroupBadParams, ""},
		{"bad UTF-8", f.svc.BanMembers(ctx, f.app, "live", []string{"u2"}, 60, "\xff"), errs.GroupBadParams, ""},
		{"not imported", f.svc.BanMembers(ctx, f.app, "live", []string{"u2", "ghost"}, 60, ""), errs.GroupNoAccount, ""},
		{"the owner", f.svc.BanMembers(ctx, f.app, "live", []string{"u2", "owner"}, 60, ""), errs.GroupNoPermission, ""},
		{"a Meeting group", f.svc.BanMembers(ctx, f.app, "meet", []string{"u2"}, 60, ""), errs.GroupNoPermission, ""},
		{"no group", f.svc.BanMembers(ctx, f.app, "none", []string{"u2"}, 60, ""), errs.GroupNotFound, ""},
		{"unban none", f.svc.UnbanMembers(ctx, f.app, "live", nil), errs.GroupBadParams, ""},
		{"Limit 101", func() error { _, _, err := f.svc.BannedMembers(ctx, f.app, "live", 101, 0); return err }(), errs.GroupBadParams, ""},
		{"Offset -1", func() error { _, _, err := f.svc.BannedMembers(ctx, f.app, "live", 10, -1); return err }(), errs.GroupBadParams, ""},
	}
	for _, b := range bad {
		wantCode(t, b.what, b.err, b.code)
	}
	if ids, _ := f.st.GroupMemberIDs(ctx, f.app.SDKAppID, "live"); fmt.Sprint(ids) != "[owner u1 u2 u3]" {
		t.Fatalf("members after refused bans: %v", ids)
	}
	if bs, _, _ := f.svc.BannedMembers(ctx, f.app, "live", 0, 0); len(bs) != 0 {
		t.Fatalf("refused bans stored: %+v", bs)
	}

	s := newLiveFixture(t, catalog.Standard, "u1")
	s.room(t, "live", "AVChatRoom")
	wantCode(t, "Standard ban", s.svc.BanMembers(ctx, s.app, "live", []string{"u1"}, 60, ""), errs.GroupFeatureNotInEdition)
	wantCode(t, "Standard unban", s.svc.UnbanMembers(ctx, s.app, "live", []string{"u1"}), errs.GroupFeatureNotInEdition)
	wantCode(t, "Standard list", func() error { _, _, err := s.svc.BannedMembers(ctx, s.app, "live", 0, 0); return err }(), errs.GroupFeatureNotInEdition)
}

// TestBroadcastingLimit: at most gate.MaxBroadcastingLiveRooms live rooms
// broadcast at once (an online member and a message within
// gate.BroadcastIdle); time is the injected clock.
func TestBroadcastingLimit(t *testing.T) {
	ctx := context.Background()
	n := gate.MaxBroadcastingLiveRooms + 1
	var users []string
	for i := range n {
		users = append(users, fmt.Sprintf("v%d", i))
	}
	f := newLiveFixture(t, catalog.Standard, users...)
	rooms := make([]store.Group, n)
	for i := range n {
		id := fmt.Sprintf("live%d", i)
		f.room(t, id, "AVChatRoom")
		f.join(t, id, users[i])
		rooms[i], _ = f.st.GetGroup(ctx, f.app.SDKAppID, id)
	}
	// Rooms without anyone online do not broadcast.
	for _, g := range rooms {
		if err := f.svc.admitLiveMessage(ctx, f.app, g); err != nil {
			t.Fatalf("%s with no one online: %v", g.GroupID, err)
		}
	}
	f.p.set(true, users...)
	for _, g := range rooms[:n-1] {
		if err := f.svc.admitLiveMessage(ctx, f.app, g); err != nil {
			t.Fatalf("%s: %v", g.GroupID, err)
		}
	}
	wantCode(t, "the sixth broadcasting room", f.svc.admitLiveMessage(ctx, f.app, rooms[n-1]), errs.GroupBroadcastLimit)
	// The broadcasting ones go on.
	f.clock.Advance(gate.BroadcastIdle - time.Second)
	if err := f.svc.admitLiveMessage(ctx, f.app, rooms[0]); err != nil {
		t.Fatal(err)
	}
	// Idle rooms stop broadcasting: only rooms[0] sent within BroadcastIdle.
	f.clock.Advance(2 * time.Second)
	if err := f.svc.admitLiveMessage(ctx, f.app, rooms[n-1]); err != nil {
		t.Fatalf("after the others went idle: %v", err)
	}
	for _, g := range rooms[1 : n-2] {
		if err := f.svc.admitLiveMessage(ctx, f.app, g); err != nil {
			t.Fatalf("%s: %v", g.GroupID, err)
		}
	}
	wantCode(t, "the sixth again", f.svc.admitLiveMessage(ctx, f.app, rooms[n-2]), errs.GroupBroadcastLimit)
	// A room whose members all went offline stops broadcasting at once.
	f.p.set(false, users[0])
	if err := f.svc.admitLiveMessage(ctx, f.app, rooms[n-2]); err != nil {
		t.Fatalf("after room 0 went offline: %v", err)
	}
	// Other apps count on their own: a Premium app is bound the same (every edition).
	if err := f.svc.admitLiveMessage(ctx, store.App{SDKAppID: f.app.SDKAppID + 1}, store.Group{Type: "Work"}); err != nil {
		t.Fatalf("a non-live group: %v", err)
	}
}

// TestBroadcastingLimitConcurrent: messages to twice the limit of rooms at
// once admit exactly gate.MaxBroadcastingLiveRooms rooms.
func TestBroadcastingLimitConcurrent(t *testing.T) {
	ctx := context.Background()
	n := 2 * gate.MaxBroadcastingLiveRooms
	var users []string
	for i := range n {
		users = append(users, fmt.Sprintf("v%d", i))
	}
	f := newLiveFixture(t, catalog.Premium, users...)
	rooms := make([]store.Group, n)
	for i := range n {
		id := fmt.Sprintf("live%d", i)
		f.room(t, id, "AVChatRoom")
		f.join(t, id, users[i])
		rooms[i], _ = f.st.GetGroup(ctx, f.app.SDKAppID, id)
	}
	f.p.set(true, users...)
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted, refused := 0, 0
	for _, g := range rooms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := f.svc.admitLiveMessage(ctx, f.app, g)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				admitted++
			case errs.CodeOf(err) == errs.GroupBroadcastLimit:
				refused++
			default:
				t.Errorf("%s: %v", g.GroupID, err)
			}
		}()
	}
	wg.Wait()
	if admitted != gate.MaxBroadcastingLiveRooms || refused != n-admitted {
		t.Fatalf("%d admitted, %d refused", admitted, refused)
	}
}

func (f *liveFixture) send(t testing.TB, group, text string) (GroupSendResult, error) {
	t.Helper()
	body := json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":` + strconv.Quote(text) + `}}]`)
	return f.svc.SendGroupMsg(context.Background(), f.app, GroupSendRequest{Group: group, Admin: true, Body: body})
}

// TestLiveRoomHistory: a member joining a live room gets its newest
// LiveHistoryMessages messages where the edition has the feature.
func TestLiveRoomHistory(t *testing.T) {
	for _, c := range []struct {
		edition string
		want    int
	}{{catalog.Trial, LiveHistoryMessages}, {catalog.Premium, LiveHistoryMessages}, {catalog.Standard, 0}} {
		t.Run(c.edition, func(t *testing.T) {
			f := newLiveFixture(t, c.edition, "u1", "u2")
			f.room(t, "live", "AVChatRoom")
			f.join(t, "live", "u1")
			for i := range LiveHistoryMessages + 5 {
				if _, err := f.send(t, "live", fmt.Sprint("m", i+1)); err != nil {
					t.Fatal(err)
				}
			}
			f.p.taken()
			f.join(t, "live", "u2")
			var got []int64
			for _, d := range f.p.taken() {
				if len(d.Group.Members) == 1 && d.Group.Members[0] == "u2" && d.Group.LiveRoom && d.Entry.Group == "live" {
					got = append(got, d.Entry.Seq)
				}
			}
			if len(got) != c.want {
				t.Fatalf("u2 got %d messages of history, want %d", len(got), c.want)
			}
			if c.want > 0 && (got[0] != 6 || got[len(got)-1] != LiveHistoryMessages+5) {
				t.Fatalf("history seqs %v", got)
			}
		})
	}
}

// TestBroadcastingLimitOnSend: the live send path applies the limit.
func TestBroadcastingLimitOnSend(t *testing.T) {
	n := gate.MaxBroadcastingLiveRooms + 1
	var users []string
	for i := range n {
		users = append(users, fmt.Sprintf("v%d", i))
	}
	f := newLiveFixture(t, catalog.Premium, users...)
	for i := range n {
		f.room(t, fmt.Sprint("live", i), "AVChatRoom")
		f.join(t, fmt.Sprint("live", i), users[i])
	}
	f.p.set(true, users...)
	for i := range n - 1 {
		if _, err := f.send(t, fmt.Sprint("live", i), "hi"); err != nil {
			t.Fatal(err)
		}
	}
	f.p.taken()
	_, err := f.send(t, fmt.Sprint("live", n-1), "hi")
	wantCode(t, "the sixth room's message", err, errs.GroupBroadcastLimit)
	if len(f.p.taken()) != 0 {
		t.Fatal("a refused message was delivered")
	}
	f.clock.Advance(gate.BroadcastIdle)
	if _, err := f.send(t, fmt.Sprint("live", n-1), "hi"); err != nil {
		t.Fatalf("after the others went idle: %v", err)
	}
}

func TestSendBroadcast(t *testing.T) {
	ctx := context.Background()
	f := newLiveFixture(t, catalog.Trial, "u1", "u2")
	for _, id := range []string{"l1", "l2", "l3"} {
		f.room(t, id, "AVChatRoom")
	}
	f.room(t, "work", "Work")
	f.join(t, "l1", "u1")
	f.join(t, "l2", "u2")
	body := json.RawMessage(`[{"MsgType":"TIMCustomElem","MsgContent":{"Data":"x"}}]`)
	seq, err := f.svc.SendBroadcast(ctx, f.app, BroadcastRequest{From: "u1", Random: 7, Body: body, CloudCustomData: "cc"})
	if err != nil || seq != 1 {
		t.Fatalf("broadcast = %d, %v", seq, err)
	}
	rooms := map[string][]string{}
	for _, d := range f.p.taken() {
		if !d.Group.LiveRoom || d.Entry.From != "u1" || d.Entry.CloudCustomData != "cc" || d.Entry.Seq == 0 {
			t.Fatalf("delivery %+v", d.Entry)
		}
		rooms[d.Entry.Group] = d.Group.Members
	}
	if len(rooms) != 3 || fmt.Sprint(rooms["l1"]) != "[owner u1]" || fmt.Sprint(rooms["l2"]) != "[owner u2]" {
		t.Fatalf("broadcast reached %v", rooms)
	}
	// A member who joins later gets it as the room's history (Free Trial).
	f.join(t, "l3", "u1")
	if h := f.p.taken(); len(h) != 1 || h[0].Entry.Group != "l3" || h[0].Entry.CloudCustomData != "cc" {
		t.Fatalf("history after a broadcast: %d deliveries", len(h))
	}
	// The same Random within the window is the same message.
	if seq, err := f.svc.SendBroadcast(ctx, f.app, BroadcastRequest{From: "u1", Random: 7, Body: body}); err != nil || seq != 1 || len(f.p.taken()) != 0 {
		t.Fatalf("duplicate = %d, %v", seq, err)
	}
	f.clock.Advance(RandomDupWindow)
	if seq, err := f.svc.SendBroadcast(ctx, f.app, BroadcastRequest{Random: 7, Body: body}); err != nil || seq != 2 || len(f.p.taken()) != 3 {
		t.Fatalf("after the window = %d, %v", seq, err)
	}
	for _, c := range []struct {
		what string
		req  BroadcastRequest
		code int
	}{
		{"a face element", BroadcastRequest{Body: json.RawMessage(`[{"MsgType":"TIMFaceElem","MsgContent":{"Index":1}}]`)}, errs.GroupBadParams},
		{"no body", BroadcastRequest{}, errs.CodeOf(ValidateBody(nil))},
		{"bad From", BroadcastRequest{From: "bad\x00", Body: body}, errs.GroupBadParams},
		{"From not imported", BroadcastRequest{From: "ghost", Body: body}, errs.GroupNoAccount},
	} {
		_, err := f.svc.SendBroadcast(ctx, f.app, c.req)
		wantCode(t, c.what, err, c.code)
	}
	if len(f.p.taken()) != 0 {
		t.Fatal("a refused broadcast was delivered")
	}
	s := newLiveFixture(t, catalog.Standard)
	s.room(t, "l1", "AVChatRoom")
	_, err = s.svc.SendBroadcast(ctx, s.app, BroadcastRequest{Body: body})
	wantCode(t, "Standard", err, errs.GroupFeatureNotInEdition)
}

// A live room is numbered in memory: group_list reports its last seq and
// message time (and no unread count), not the zeros of an empty log.
func TestLiveRoomInGroupList(t *testing.T) {
	ctx := context.Background()
	f := newLiveFixture(t, catalog.Premium, "u1", "u2")
	f.room(t, "live", "AVChatRoom")
	f.join(t, "live", "u1", "u2")
	for i := 0; i < 3; i++ {
		if _, err := f.svc.SendGroupMsg(ctx, f.app, GroupSendRequest{Group: "live", From: "u1",
			Body: json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]`)}); err != nil {
			t.Fatal(err)
		}
	}
	gs, err := f.svc.GroupList(ctx, f.app, "u2")
	if err != nil || len(gs) != 1 || gs[0].LastSeq != 3 || gs[0].LastMsgTime != f.svc.clock.Now().Unix() || gs[0].Unread != 0 {
		t.Fatalf("group_list: %+v %v", gs, err)
	}
}
