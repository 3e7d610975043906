// Package storetest is the conformance suite of store.Store: every
// implementation runs it from its own tests with
//
//	storetest.Run(t, func(t *testing.T) store.Store { ... })
package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// Run runs the conformance suite, one subtest per documented behaviour, each on
// a fresh store: open must return a new, empty store and arrange (t.Cleanup) for
// it to be closed and removed.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Accounts", testAccounts},
		{"CreateAppAllocatesIDs", testCreateAppAllocatesIDs},
		{"CreateAppLimit", testCreateAppLimit},
		{"CreateAppMissingAccount", testCreateAppMissingAccount},
		{"ListAppsExcludesDeleted", testListAppsExcludesDeleted},
		{"DeleteAppRemovesOnlyItsData", testDeleteAppRemovesOnlyItsData},
		{"DeletedAppRefusesWrites", testDeletedAppRefusesWrites},
		{"DeleteAppDuringBatches", testDeleteAppDuringBatches}, // appdelete.go
		{"ImportUsers", testImportUsers},
		{"DeleteUsers", testDeleteUsers},
		{"GetUsersOnlyExisting", testGetUsersOnlyExisting},
		{"SetProfile", testSetProfile},
		{"KickTime", testKickTime},
		{"CustomStatus", testCustomStatus},
		{"Push", testPush},
		{"SendBothCopies", testSendBothCopies},
		{"SendOnlyReceiver", testSendOnlyReceiver},
		{"SendToSelf", testSendToSelf},
		{"SendIdempotent", testSendIdempotent},
		{"SendIdempotentWithinBatch", testSendIdempotentWithinBatch},
		{"Recall", testRecall},
		{"RecallUnknownKeyRestCommits", testRecallUnknownKeyRestCommits},
		{"Read", testRead},
		{"SyncPaging", testSyncPaging},
		{"SyncNotBefore", testSyncNotBefore},
		{"LastSeq", testLastSeq},
		{"SeqNotReusedAfterPurge", testSeqNotReusedAfterPurge},
		{"History", testHistory},
		{"SharedMsgSeq", testSharedMsgSeq},
		{"FindMessage", testFindMessage},
		{"Unread", testUnread},
		{"Conversations", testConversations}, // conversations.go
		{"PurgeBefore", testPurgeBefore},
		{"PurgedGoneFromEveryRead", testPurgedGoneFromEveryRead},
		{"SameMsgKeyOnce", testSameMsgKeyOnce},
		{"ExpiresAt", testExpiresAt},
		{"SameMsgKeyConcurrent", testSameMsgKeyConcurrent},
		{"RecallEveryCopyOfKey", testRecallEveryCopyOfKey},
		{"SeqsGaplessAfterNoops", testSeqsGaplessAfterNoops},
		{"AdmitMonthly", testAdmitMonthly},
		{"AdmitMonthlyConcurrent", testAdmitMonthlyConcurrent},
		{"SendConcurrentSameClientID", testSendConcurrentSameClientID},
		{"SendConcurrentGapless", testSendConcurrentGapless},
		{"CommerceFields", testCommerceFields},
		{"CommerceTxRollback", testCommerceTxRollback},
		{"Orders", testOrders},
		{"Vouchers", testVouchers},
		{"Ledger", testLedger},
		{"Bills", testBills},
		{"Notifications", testNotifications},
		{"ClaimJob", testClaimJob},
		{"ClaimRequest", testClaimRequest},
		{"Promotions", testPromotions},
		{"ClaimNotification", testClaimNotification},
		{"Usage", testUsage},
		{"DeleteAppDataKeepsOrders", testDeleteAppDataKeepsOrders},
		{"CommerceConcurrent", testCommerceConcurrent},
		{"ProfileFields", testProfileFields},
		{"ProfileFieldsConcurrent", testProfileFieldsConcurrent},
		{"Mutes", testMutes},
		{"PushClaims", testPushClaims}, // cluster.go
		{"TryLock", testTryLock},
	}
	tests = append(tests, snsTests...)
	tests = append(tests, userDelTests...)  // userdel.go
	tests = append(tests, groupTests...)    // groups.go
	tests = append(tests, groupLogTests...) // grouplog.go
	tests = append(tests, groupBanTests...) // groupbans.go
	tests = append(tests, callbackTests...) // callbacks.go
	tests = append(tests, consoleTests...)  // console.go
	tests = append(tests, dailyTests...)    // daily.go
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

var ctx = context.Background()

// t0 is the base time of the suite's data.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

const app1, app2 int64 = 1400000001, 1400000002

func isErr(err, target error) bool { return errors.Is(err, target) }

func apply(t *testing.T, s store.Store, ops ...store.Op) []store.OpResult {
	t.Helper()
	res, err := s.Apply(ctx, ops)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(res) != len(ops) {
		t.Fatalf("Apply: %d results for %d ops", len(res), len(ops))
	}
	return res
}

// applyOK applies ops and fails on any per-op error.
func applyOK(t *testing.T, s store.Store, ops ...store.Op) []store.OpResult {
	t.Helper()
	res := apply(t, s, ops...)
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("Apply: op %d: %v", i, r.Err)
		}
	}
	return res
}

// send is an OpSend of app1 at t0 + sec seconds with MsgTime = 1740830400 + sec.
func send(from, to string, sec int, clientID string) store.Op {
	at := t0.Add(time.Duration(sec) * time.Second)
	return store.Op{
		Kind:            store.OpSend,
		App:             app1,
		From:            from,
		To:              to,
		ClientID:        clientID,
		MsgRandom:       uint32(1000 + sec),
		MsgTime:         at.Unix(),
		Body:            []byte(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi ` + from + `"}}]`),
		CloudCustomData: "ccd-" + clientID,
		Unread:          true,
		At:              at,
	}
}

func recall(from, to, key string, sec int) store.Op {
	return store.Op{Kind: store.OpRecall, App: app1, From: from, To: to, MsgKey: key, At: t0.Add(time.Duration(sec) * time.Second)}
}

func read(reader, peer string, readTime int64, sec int) store.Op {
	return store.Op{Kind: store.OpRead, App: app1, From: reader, To: peer, ReadTime: readTime, At: t0.Add(time.Duration(sec) * time.Second)}
}

func syncAll(t *testing.T, s store.Store, app int64, owner string) []store.Entry {
	t.Helper()
	es, err := s.Sync(ctx, app, owner, 0, 0, time.Time{}, time.Time{})
	if err != nil {
		t.Fatalf("Sync(%s): %v", owner, err)
	}
	return es
}

func lastSeq(t *testing.T, s store.Store, app int64, owner string) int64 {
	t.Helper()
	n, err := s.LastSeq(ctx, app, owner)
	if err != nil {
		t.Fatalf("LastSeq(%s): %v", owner, err)
	}
	return n
}

// norm makes entries comparable: empty bodies are nil.
func norm(es []store.Entry) []store.Entry {
	out := make([]store.Entry, len(es))
	for i, e := range es {
		if len(e.Body) == 0 {
			e.Body = nil
		}
		out[i] = e
	}
	return out
}

func equalEntries(t *testing.T, what string, got, want []store.Entry) {
	t.Helper()
	if !reflect.DeepEqual(norm(got), norm(want)) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func seqsOf(es []store.Entry) []int64 {
	out := []int64{}
	for _, e := range es {
		out = append(out, e.Seq)
	}
	return out
}

func kindsOf(es []store.Entry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.Kind)
	}
	return out
}

func equalSeqs(t *testing.T, what string, got []int64, want ...int64) {
	t.Helper()
	if want == nil {
		want = []int64{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: seqs %v, want %v", what, got, want)
	}
}
