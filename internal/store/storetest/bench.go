package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// BenchApplySend measures durable one-to-one sends as the group-commit writer
// issues them: one Apply (one transaction or engine batch, one sync) per batch
// of sends between random pairs of 1,000 users, each with a ClientID. One op of
// the benchmark is one batch; it reports msgs/s and ns/msg. Every store's
// BenchmarkApplySend runs it, so their figures compare.
func BenchApplySend(b *testing.B, s store.Messages, batch int) {
	benchApplySend(b, s, batch, false)
}

// BenchApplySendCallback is BenchApplySend with an Op.Callback on every send:
// each batch also appends one after-event per message (a C2C after-send body
// of about 300 bytes) to the callback outbox, in the same transaction or
// batch. Compared with BenchApplySend it is the cost of the outbox.
func BenchApplySendCallback(b *testing.B, s store.Messages, batch int) {
	benchApplySend(b, s, batch, true)
}

func benchApplySend(b *testing.B, s store.Messages, batch int, withCallback bool) {
	const users = 1000
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	body := []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hello, this is a benchmark message of ordinary length"}}]`)
	now := time.Now()
	n := 0
	ops := make([]store.Op, batch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range ops {
			from := rng.IntN(users)
			to := (from + 1 + rng.IntN(users-1)) % users
			n++
			ops[j] = store.Op{Kind: store.OpSend, App: 1400000001,
				From: fmt.Sprintf("user%04d", from), To: fmt.Sprintf("user%04d", to),
				ClientID: fmt.Sprintf("c%d", n), MsgRandom: rng.Uint32(), MsgTime: now.Unix(),
				Body: body, Unread: true, At: now}
			if withCallback {
				ops[j].Callback = benchCallback
			}
		}
		res, err := s.Apply(ctx, ops)
		if err != nil {
			b.Fatal(err)
		}
		if len(res) != batch || res[0].Duplicate || res[0].Err != nil {
			b.Fatalf("unexpected result %+v", res[0])
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/msg")
}

// benchCallback builds an after-send event of the size the callback package
// makes for a short text message.
func benchCallback(first store.Entry) (store.CallbackEvent, bool) {
	body := fmt.Appendf(nil, `{"CallbackCommand":"C2C.CallbackAfterSendMsg","From_Account":%q,"To_Account":%q,"MsgSeq":%d,`+
		`"MsgRandom":%d,"MsgTime":%d,"MsgKey":%q,"OnlineOnlyFlag":0,"MsgBody":%s,"CloudCustomData":"","EventTime":%d}`,
		first.From, first.To, first.MsgSeq, first.MsgRandom, first.MsgTime, first.MsgKey, first.Body, first.CreatedAt.UnixMilli())
	return store.CallbackEvent{App: first.App, Command: "C2C.CallbackAfterSendMsg", Body: body, ClientIP: "10.0.0.1",
		Platform: "Web", CreatedAt: first.CreatedAt}, true
}
