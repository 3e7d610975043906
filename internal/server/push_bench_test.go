package server

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/embedded"
)

// BenchmarkPush100k measures im_push to every user of an app of 100,000 users on
// the embedded store, with 50 devices online (spread over the UserID order, so
// the last one is near the end of the walk) and the rest offline:
//
//	enqueue-ms      the REST call, until it answers the TaskId
//	last-online-ms  until the last online device has the message (WebSocket)
//	all-stored-ms   until the task is done: every copy durable
//
// Run with: go test ./internal/server -run '^$' -bench Push100k -benchtime 1x
func BenchmarkPush100k(b *testing.B) {
	const users, online = 100_000, 50
	dir := b.TempDir()
	st, err := embedded.Open(filepath.Join(dir, "chatd.db"), filepath.Join(dir, "messages"))
	if err != nil {
		b.Fatal(err)
	}
	w := newPushWorld(b, st) // closes st
	ctx := context.Background()
	batch := make([]store.User, 0, 10_000)
	for i := 0; i < users; i++ {
		batch = append(batch, store.User{UserID: fmt.Sprintf("u%06d", i), CreatedAt: w.c.Now()})
		if len(batch) == cap(batch) {
			if err := st.ImportUsers(ctx, w.app.SDKAppID, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	var devs []*client.Client
	for i := 0; i < online; i++ {
		devs = append(devs, w.login(fmt.Sprintf("u%06d", (i+1)*(users/online)-1), -1))
	}
	body := []map[string]any{{"MsgType": "TIMTextElem", "MsgContent": map[string]any{"Text": "to everyone"}}}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		w.c.Advance(time.Second)
		start := time.Now()
		out := w.rest("im_push", map[string]any{"MsgRandom": n + 1, "MsgBody": body, "MsgLifeTime": 86400})
		enqueued := time.Since(start)
		if errorCode(out) != 0 {
			b.Fatalf("im_push: %v", out)
		}
		for _, d := range devs {
			select {
			case <-d.Entries():
			case <-time.After(5 * time.Minute):
				b.Fatal("an online device did not get the push within 5 minutes")
			}
		}
		lastOnline := time.Since(start)
		w.s.IM.WaitPushes()
		allStored := time.Since(start)
		task, err := w.s.IM.PushTask(ctx, w.app, out["TaskId"].(string))
		if err != nil || task.State != store.PushDone || task.Targets != users || task.Delivered != users {
			b.Fatalf("task %+v, %v", task, err)
		}
		b.ReportMetric(float64(enqueued.Microseconds())/1000, "enqueue-ms")
		b.ReportMetric(float64(lastOnline.Milliseconds()), "last-online-ms")
		b.ReportMetric(float64(allStored.Milliseconds()), "all-stored-ms")
		b.ReportMetric(float64(users)/allStored.Seconds(), "copies/s")
	}
}
