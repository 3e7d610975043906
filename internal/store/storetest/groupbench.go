package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// BenchApplyGroupSend measures durable group sends as the group-commit writer
// issues them: one Apply per batch of sends, each to one of 100 groups from
// one of 1,000 users, with a ClientID (looked up) and the REST Random window.
// One op of the benchmark is one batch; it reports msgs/s.
func BenchApplyGroupSend(b *testing.B, s store.Messages, batch int) {
	const users, groups = 1000, 100
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
			n++
			ops[j] = store.Op{Kind: store.OpGroupSend, App: 1400000001,
				Group: fmt.Sprintf("group%03d", rng.IntN(groups)), From: fmt.Sprintf("user%04d", rng.IntN(users)),
				ClientID: fmt.Sprintf("c%d", n), MsgRandom: rng.Uint32(), MsgTime: now.Unix(),
				Body: body, RandomWindow: 5 * time.Minute, At: now}
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
}
