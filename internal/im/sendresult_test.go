package im

import (
	"errors"
	"testing"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// TestSendResultKeepsTheOpError: an op the store refused (its app deleted after
// the send passed its checks) answers with the op's own code, 70020, not 70500
// "message was not stored"; an uncoded op error stays hidden (70500).
func TestSendResultKeepsTheOpError(t *testing.T) {
	req := SendRequest{From: "alice", To: "bob"}
	_, err := sendResult(req, store.OpResult{Err: errs.New(errs.AppNotFound, "SDKAppID 1 was deleted")}, nil)
	if !errs.Is(err, errs.AppNotFound) {
		t.Fatalf("a refused op: %v, want %d", err, errs.AppNotFound)
	}
	_, err = sendResult(req, store.OpResult{Err: errors.New("pq: secret storage detail")}, nil)
	if !errs.Is(err, errs.Internal) || errs.Message(err) != "internal error" {
		t.Fatalf("an uncoded op error: %v (%q), want a hidden %d", err, errs.Message(err), errs.Internal)
	}
	res, err := sendResult(req, store.OpResult{Entries: []store.Entry{{Owner: "alice", From: "alice", Seq: 3, MsgKey: "k"}}}, nil)
	if err != nil || res.Seq != 3 || res.MsgKey != "k" {
		t.Fatalf("a stored op: %+v, %v", res, err)
	}
}
