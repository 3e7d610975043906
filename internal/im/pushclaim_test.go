package im

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// An interrupted push task runs on one node only: while another node's claim
// runs, ResumePushes leaves it alone; once that claim ran out (its node died)
// ResumePushes takes it over and runs it to the end, then releases it.
func TestPushTaskClaimedByOneNode(t *testing.T) {
	f := newFixture(t, "trial")
	f.svc.SetNode("a")
	ctx := context.Background()
	st := f.svc.store
	now := f.clock.Now()
	task := store.PushTask{ID: "claimed1", App: f.app.SDKAppID, From: f.app.AdminUser, MsgRandom: 7, MsgSeq: 9,
		MsgTime: now.Unix(), Body: hello, Lifetime: time.Hour, State: store.PushRunning, CreatedAt: now, UpdatedAt: now}
	if err := st.CreatePushTask(ctx, task, store.PushRate{MinInterval: time.Second, PerDay: 10}); err != nil {
		t.Fatal(err)
	}
	if ok, err := st.ClaimPushTask(ctx, task.App, task.ID, "b", time.Now(), time.Hour); err != nil || !ok {
		t.Fatalf("node b's claim: %v %v", ok, err)
	}
	if err := f.svc.ResumePushes(ctx); err != nil {
		t.Fatal(err)
	}
	f.svc.WaitPushes()
	got, err := st.PushTask(ctx, task.App, task.ID)
	if err != nil || got.State != store.PushRunning || got.Targets != 0 {
		t.Fatalf("node a ran node b's task: %+v %v", got, err)
	}
	if n, _ := st.LastSeq(ctx, task.App, "bob"); n != 0 {
		t.Fatalf("node a wrote bob's copy (seq %d) of a task it does not hold", n)
	}

	// Node b stopped renewing: its claim ran out an hour ago.
	if ok, err := st.ClaimPushTask(ctx, task.App, task.ID, "b", time.Now().Add(-2*time.Hour), time.Hour); err != nil || !ok {
		t.Fatalf("node b's old claim: %v %v", ok, err)
	}
	if err := f.svc.ResumePushes(ctx); err != nil {
		t.Fatal(err)
	}
	f.svc.WaitPushes()
	got, err = st.PushTask(ctx, task.App, task.ID)
	if err != nil || got.State != store.PushDone || got.Delivered != 2 {
		t.Fatalf("node a did not take the task over: %+v %v", got, err)
	}
	if n, _ := st.LastSeq(ctx, task.App, "bob"); n != 1 {
		t.Fatalf("bob's log: seq %d, want 1", n)
	}
	if ok, err := st.ClaimPushTask(ctx, task.App, task.ID, "c", time.Now(), time.Hour); err != nil || !ok {
		t.Fatalf("node a kept its claim after the task ended: %v %v", ok, err)
	}
}

// stealingStore lets node b take the task over (as after node a's lease ran
// out) while node a selects its first page.
type stealingStore struct {
	store.Store
	once sync.Once
	err  error
}

func (s *stealingStore) PushTargets(ctx context.Context, app int64, c store.PushCondition, after string, limit int) ([]string, error) {
	s.once.Do(func() {
		ok, err := s.Store.ClaimPushTask(ctx, app, "stolen1", "b", time.Now().Add(time.Hour), time.Hour)
		if err == nil && !ok {
			err = errors.New("node b could not take the task")
		}
		s.err = err
	})
	return s.Store.PushTargets(ctx, app, c, after, limit)
}

// A node that finds its task taken over by another stops before it writes the
// next page: it writes nothing more, ends nothing, and leaves the claim to
// the other node.
func TestPushTaskTakenOverStops(t *testing.T) {
	f := newFixture(t, "trial")
	f.svc.SetNode("a")
	ctx := context.Background()
	steal := &stealingStore{Store: f.svc.store}
	f.svc.store = steal
	now := f.clock.Now()
	task := store.PushTask{ID: "stolen1", App: f.app.SDKAppID, From: f.app.AdminUser, MsgRandom: 7, MsgSeq: 9,
		MsgTime: now.Unix(), Body: hello, Lifetime: time.Hour, State: store.PushRunning, CreatedAt: now, UpdatedAt: now}
	if err := steal.CreatePushTask(ctx, task, store.PushRate{MinInterval: time.Second, PerDay: 10}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ResumePushes(ctx); err != nil {
		t.Fatal(err)
	}
	f.svc.WaitPushes()
	if steal.err != nil {
		t.Fatal(steal.err)
	}
	got, err := steal.PushTask(ctx, task.App, task.ID)
	if err != nil || got.State != store.PushRunning || got.Targets != 0 {
		t.Fatalf("node a went on with a task node b took: %+v %v", got, err)
	}
	if n, _ := steal.LastSeq(ctx, task.App, "bob"); n != 0 {
		t.Fatalf("node a wrote bob's copy (seq %d) after losing the task", n)
	}
	if ok, err := steal.ClaimPushTask(ctx, task.App, task.ID, "c", time.Now(), time.Hour); err != nil || ok {
		t.Fatalf("node a released node b's claim: %v %v", ok, err)
	}
}
