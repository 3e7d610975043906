package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Check is what the users' logs hold after a run, read back with sync from the
// start on fresh connections.
type Check struct {
	Acked      int64 `json:"acked"`      // messages acknowledged as durable during the run
	Lost       int64 `json:"lost"`       // entries missing: acknowledged, but not in the sender's log or not in the receiver's
	Duplicated int64 `json:"duplicated"` // extra entries: a client_msg_id twice in one log
	Unacked    int64 `json:"unacked"`    // written, never acknowledged nor refused (may or may not be stored)
	Entries    int64 `json:"entries"`    // message entries read from all logs
}

// Verify reads every sender's and receiver's log from the first entry (8 users at a
// time) and compares it with the acknowledgements of the run. Call it after Run
// and Close.
func (r *Run) Verify(ctx context.Context) (Check, error) {
	var (
		mu    sync.Mutex
		check Check
		first error
		wg    sync.WaitGroup
	)
	sem := make(chan struct{}, 8)
	for p := 0; p < r.pairs; p++ {
		s := r.conns[2*p]
		s.wmu.Lock()
		s.pmu.Lock()
		acked, settled, scheduled, wrote := s.acked, s.settled, s.next, s.wrote
		s.pmu.Unlock()
		s.wmu.Unlock()
		var a, unacked int64
		for n := range scheduled {
			if acked.has(n) {
				a++
			} else if !settled.has(n) && n < wrote {
				unacked++
			}
		}
		mu.Lock()
		check.Acked += a
		check.Unacked += unacked
		mu.Unlock()
		for _, c := range []*conn{s, r.conns[2*p+1]} {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				count, entries, err := c.readLog(ctx, r.users.Names[2*p], r.users.Names[2*p+1])
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					first = cmpOr(first, fmt.Errorf("reading the log of %s: %w", c.self, err))
					return
				}
				check.Entries += entries
				for n := range scheduled {
					if acked.has(n) && count[n] == 0 {
						check.Lost++
					}
				}
				for _, k := range count {
					check.Duplicated += int64(max(k-1, 0))
				}
			}()
		}
	}
	wg.Wait()
	return check, first
}

// readLog logs in as c's user and syncs its whole log, counting the messages from
// → to by message number.
func (c *conn) readLog(ctx context.Context, from, to string) (map[int]int, int64, error) {
	ws, _, err := c.dial(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer ws.Close()
	count := map[int]int{}
	var entries int64
	var after int64
	for {
		req := strconv.AppendInt([]byte(`{"op":"sync","id":"check","limit":500,"after":`), after, 10)
		_ = ws.SetWriteDeadline(time.Now().Add(writeTimeout))
		if err := ws.WriteMessage(websocket.TextMessage, append(req, '}')); err != nil {
			return nil, 0, err
		}
		f, err := readReply(ws, "check")
		if err != nil {
			return nil, 0, err
		}
		if f.Code != 0 {
			return nil, 0, fmt.Errorf("sync: %d %s", f.Code, f.Message)
		}
		for _, e := range f.Entries {
			after = max(after, e.Seq)
			if e.Kind != "msg" || e.From != from || e.To != to {
				continue
			}
			if n, ok := msgNum(e.ClientMsgID); ok {
				count[n]++
				entries++
			}
		}
		if f.Complete || len(f.Entries) == 0 {
			return count, entries, nil
		}
	}
}

// readReply reads frames until the reply with id, skipping pushes.
func readReply(ws *websocket.Conn, id string) (inFrame, error) {
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return inFrame{}, err
		}
		var f inFrame
		if json.Unmarshal(data, &f) == nil && f.ID == id {
			return f, nil
		}
	}
}
