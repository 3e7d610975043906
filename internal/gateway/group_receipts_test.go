package gateway_test

import (
	"testing"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/protocol"
)

// group_receipt frames of the wrong shape are answered with an error code
// that repeats op and id; the op's bound is the service's.
func TestGroupReceiptBadFrames(t *testing.T) {
	if protocol.MaxReceiptSeqs != im.MaxReceiptSeqs || protocol.OpGroupReceiptUpdate != im.OpGroupReceiptUpdate {
		t.Fatal("protocol and im disagree on the group_receipt bound or push op")
	}
	e := newEnv(t, catalog.Trial)
	c := e.rawLogin("alice")
	for frame, want := range map[string]int{
		`{"op":"group_receipt","id":"a","group":"G","seqs":"1"}`:   errs.JSONParse,
		`{"op":"group_receipt","id":"a","group":"G","seqs":[1.5]}`: errs.JSONParse,
		`{"op":"group_receipt","id":"a","group":7,"seqs":[1]}`:     errs.JSONParse,
		`{"op":"group_receipt","id":"a","group":"G","seqs":[1]}`:   errs.GroupNotFound,
		`{"op":"group_receipt","id":"a","seqs":[1]}`:               errs.GroupIDInvalid,
	} {
		f := roundTrip(t, c, frame)
		if f.Code != want || f.Op != protocol.OpGroupReceipt || f.ID != "a" {
			t.Errorf("%s: %+v, want code %d", frame, f, want)
		}
	}
}
