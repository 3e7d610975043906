package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// ms is t0 plus n milliseconds: times the store keeps exactly.
func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

// toMs drops what a store does not keep of a time (below the millisecond, the
// zone), so that records compare with reflect.DeepEqual.
func toMs(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

// inTx runs fn in a commerce transaction and fails the test on an error.
func inTx(t *testing.T, s store.Store, fn func(tx store.CommerceTx) error) {
	t.Helper()
	if err := s.InCommerceTx(ctx, fn); err != nil {
		t.Fatalf("InCommerceTx: %v", err)
	}
}

// expectErr fails when err is not target (nil target: not nil).
func expectErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if target == nil && err != nil || target != nil && !isErr(err, target) {
		t.Fatalf("%s: %v, want %v", what, err, target)
	}
}

func fullAccount(id string) store.Account {
	a := account(id)
	a.CashCents = -1250
	a.CreditCents = 3000
	a.OverdueSince = ms(1001)
	a.Status = "suspended"
	a.SuspendReason = "arrears"
	a.SuspendedAt = ms(2002)
	return a
}

func fullApp(accountID, name string) store.App {
	a := app(accountID, name)
	a.Edition = "premium"
	a.PlanAnchor = ms(3003)
	a.AutoRenew = true
	a.TrialExtended = true
	a.Status = "suspended"
	a.SuspendReason = "expired"
	a.SuspendedAt = ms(4004)
	return a
}

// testCommerceFields: the commerce fields of accounts and apps round-trip
// through every reader, and the transaction's updates write them.
func testCommerceFields(t *testing.T, s store.Store) {
	acc := fullAccount("acc1")
	if err := s.CreateAccount(ctx, acc); err != nil {
		t.Fatal(err)
	}
	createAccount(t, s, "acc0")
	if got, err := s.GetAccount(ctx, "acc1"); err != nil || !reflect.DeepEqual(got, acc) {
		t.Fatalf("GetAccount = %+v, %v; want %+v", got, err, acc)
	}
	all, err := s.AllAccounts(ctx)
	if err != nil || len(all) != 2 || all[0].ID != "acc0" || !reflect.DeepEqual(all[1], acc) {
		t.Fatalf("AllAccounts = %+v, %v; want acc0 then %+v", all, err, acc)
	}
	for _, c := range []struct {
		after string
		limit int
		want  []string
	}{{"", 1, []string{"acc0"}}, {"acc0", 5, []string{"acc1"}}, {"", 5, []string{"acc0", "acc1"}}, {"acc1", 5, nil}, {"", 0, nil}} {
		page, err := s.AccountsAfter(ctx, c.after, c.limit)
		var ids []string
		for _, a := range page {
			ids = append(ids, a.ID)
		}
		if err != nil || !reflect.DeepEqual(ids, c.want) || (len(page) > 0 && page[len(page)-1].ID == "acc1" && !reflect.DeepEqual(page[len(page)-1], acc)) {
			t.Fatalf("AccountsAfter(%q, %d) = %v, %v; want %v", c.after, c.limit, ids, err, c.want)
		}
	}

	want := fullApp("acc1", "one")
	a, err := s.CreateApp(ctx, want, 0)
	if err != nil {
		t.Fatal(err)
	}
	want.SDKAppID = a.SDKAppID
	if !reflect.DeepEqual(a, want) {
		t.Fatalf("CreateApp = %+v, want %+v", a, want)
	}
	if got, err := s.GetApp(ctx, a.SDKAppID); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("GetApp = %+v, %v; want %+v", got, err, want)
	}
	if got, err := s.ListApps(ctx, "acc1"); err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("ListApps = %+v, %v; want [%+v]", got, err, want)
	}
	if got, err := s.AllApps(ctx); err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("AllApps = %+v, %v; want [%+v]", got, err, want)
	}

	// Updates write the commerce fields and leave the others alone.
	acc2 := acc
	acc2.Name = "ignored"
	acc2.CashCents, acc2.CreditCents = 500, 0
	acc2.Status, acc2.SuspendReason = "active", ""
	acc2.OverdueSince, acc2.SuspendedAt = time.Time{}, time.Time{}
	app2 := want
	app2.Name = "ignored"
	app2.Edition, app2.Status, app2.SuspendReason = "standard", "active", ""
	app2.ExpiresAt, app2.PlanAnchor, app2.SuspendedAt = ms(5005), ms(6006), time.Time{}
	app2.AutoRenew, app2.TrialExtended = false, false
	inTx(t, s, func(tx store.CommerceTx) error {
		got, err := tx.LockAccount(ctx, "acc1")
		if err != nil || !reflect.DeepEqual(got, acc) {
			t.Fatalf("LockAccount = %+v, %v; want %+v", got, err, acc)
		}
		gotApp, err := tx.GetApp(ctx, a.SDKAppID)
		if err != nil || !reflect.DeepEqual(gotApp, want) {
			t.Fatalf("GetApp = %+v, %v; want %+v", gotApp, err, want)
		}
		gotApp, err = tx.LockApp(ctx, a.SDKAppID)
		if err != nil || !reflect.DeepEqual(gotApp, want) {
			t.Fatalf("LockApp = %+v, %v; want %+v", gotApp, err, want)
		}
		_, err = tx.GetApp(ctx, 1399999999)
		expectErr(t, "GetApp(missing)", err, errs.ErrNotFound)
		if err := tx.UpdateAccount(ctx, acc2); err != nil {
			t.Fatalf("UpdateAccount: %v", err)
		}
		if err := tx.UpdateApp(ctx, app2); err != nil {
			t.Fatalf("UpdateApp: %v", err)
		}
		apps, err := tx.AccountApps(ctx, "acc1")
		if err != nil || len(apps) != 1 || apps[0].Edition != "standard" {
			t.Fatalf("AccountApps inside the transaction = %+v, %v; want the updated app", apps, err)
		}
		if apps, err := tx.AccountApps(ctx, "acc0"); err != nil || len(apps) != 0 {
			t.Fatalf("AccountApps(acc0) = %+v, %v", apps, err)
		}
		_, err = tx.LockAccount(ctx, "nobody")
		expectErr(t, "LockAccount(missing)", err, errs.ErrNotFound)
		_, err = tx.LockApp(ctx, 1399999999)
		expectErr(t, "LockApp(missing)", err, errs.ErrNotFound)
		expectErr(t, "UpdateAccount(missing)", tx.UpdateAccount(ctx, account("nobody")), errs.ErrNotFound)
		missing := app2
		missing.SDKAppID = 1399999999
		expectErr(t, "UpdateApp(missing)", tx.UpdateApp(ctx, missing), errs.ErrNotFound)
		return nil
	})
	acc2.Name = acc.Name
	app2.Name = want.Name
	if got, err := s.GetAccount(ctx, "acc1"); err != nil || !reflect.DeepEqual(got, acc2) {
		t.Fatalf("GetAccount after UpdateAccount = %+v, %v; want %+v", got, err, acc2)
	}
	if got, err := s.GetApp(ctx, a.SDKAppID); err != nil || !reflect.DeepEqual(got, app2) {
		t.Fatalf("GetApp after UpdateApp = %+v, %v; want %+v", got, err, app2)
	}
}

var errRollback = errors.New("roll back")

// testCommerceTxRollback: a transaction commits everything when fn returns nil
// and nothing when it returns an error, which comes back unchanged.
func testCommerceTxRollback(t *testing.T, s store.Store) {
	createAccount(t, s, "acc1")
	a := createApp(t, s, "acc1", "one", 0)
	inTx(t, s, func(tx store.CommerceTx) error {
		acc, err := tx.LockAccount(ctx, "acc1")
		if err != nil {
			return err
		}
		acc.CashCents = 1000
		if err := tx.UpdateAccount(ctx, acc); err != nil {
			return err
		}
		return tx.InsertLedger(ctx, store.LedgerEntry{ID: "l1", AccountID: "acc1", Kind: "topup", CashCents: 1000, At: ms(1)})
	})

	err := s.InCommerceTx(ctx, func(tx store.CommerceTx) error {
		acc, err := tx.LockAccount(ctx, "acc1")
		if err != nil {
			return err
		}
		acc.CashCents -= 400
		acc.Status = "suspended"
		if err := tx.UpdateAccount(ctx, acc); err != nil {
			return err
		}
		ap, err := tx.LockApp(ctx, a.SDKAppID)
		if err != nil {
			return err
		}
		ap.Edition = "premium"
		if err := tx.UpdateApp(ctx, ap); err != nil {
			return err
		}
		for _, err := range []error{
			tx.InsertOrder(ctx, order("o1", "acc1", a.SDKAppID, "r1", 2)),
			tx.InsertLedger(ctx, store.LedgerEntry{ID: "l2", AccountID: "acc1", Kind: "order", CashCents: -400, Ref: "o1", At: ms(2)}),
			tx.InsertVoucher(ctx, store.Voucher{ID: "v1", AccountID: "acc1", AmountCents: 100, RemainingCents: 100, Scope: "all", CreatedAt: ms(2)}),
			tx.InsertBill(ctx, store.Bill{ID: "b1", AccountID: "acc1", Month: "2025-02", IssuedAt: ms(2)}),
			tx.InsertNotification(ctx, notification("n1", "acc1", "k1", ms(2))),
		} {
			if err != nil {
				return err
			}
		}
		if ok, err := tx.ClaimJob(ctx, "job1", ms(2)); err != nil || !ok {
			return fmt.Errorf("ClaimJob = %v, %v", ok, err)
		}
		return fmt.Errorf("fn: %w", errRollback)
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InCommerceTx = %v, want fn's error", err)
	}
	if acc, err := s.GetAccount(ctx, "acc1"); err != nil || acc.CashCents != 1000 || acc.Status != "active" {
		t.Fatalf("account after rollback = %+v, %v; want cash 1000, active", acc, err)
	}
	if ap, err := s.GetApp(ctx, a.SDKAppID); err != nil || ap.Edition != "trial" {
		t.Fatalf("app after rollback = %+v, %v; want edition trial", ap, err)
	}
	orders, err1 := s.ListOrders(ctx, "acc1")
	ledger, err2 := s.ListLedger(ctx, "acc1")
	vouchers, err3 := s.ListVouchers(ctx, "acc1")
	bills, err4 := s.ListBills(ctx, "acc1")
	notes, err5 := s.ListNotifications(ctx, "acc1")
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		t.Fatal(err)
	}
	if len(orders) != 0 || len(ledger) != 1 || len(vouchers) != 0 || len(bills) != 0 || len(notes) != 0 {
		t.Fatalf("after rollback: %d orders, %d ledger entries, %d vouchers, %d bills, %d notifications; want 0, 1, 0, 0, 0",
			len(orders), len(ledger), len(vouchers), len(bills), len(notes))
	}
	inTx(t, s, func(tx store.CommerceTx) error {
		if ok, err := tx.ClaimJob(ctx, "job1", ms(3)); err != nil || !ok {
			t.Fatalf("ClaimJob after a rolled back claim = %v, %v; want true", ok, err)
		}
		return nil
	})
}

// order is an order with every field set.
func order(id, accountID string, sdkappid int64, requestID string, created int) store.Order {
	return store.Order{
		ID: id, AccountID: accountID, SDKAppID: sdkappid, RequestID: requestID,
		Kind: store.OrderBuy, Product: "standard", Months: 3, Quantity: 1,
		ListCents: 30000, DiscountCents: 1000, VoucherCents: 500, VoucherID: "v-" + id,
		CashCents: 20000, CreditCents: 8500, CarriedCashCents: 7, CarriedCreditCents: 9,
		EffectiveFrom: ms(created + 10), EffectiveTo: ms(created + 20), Anchor: ms(created + 5),
		AutoRenew: true, AgreementAccepted: true, NonRefundable: "promotion",
		Status: store.OrderPaid, Refunds: []string{"x1", "x2"}, Reason: "why " + id,
		CreatedAt: ms(created),
	}
}

func normOrder(o store.Order) store.Order {
	o.EffectiveFrom, o.EffectiveTo, o.Anchor, o.CreatedAt = toMs(o.EffectiveFrom), toMs(o.EffectiveTo), toMs(o.Anchor), toMs(o.CreatedAt)
	return o
}

func equalOrders(t *testing.T, what string, got []store.Order, want ...store.Order) {
	t.Helper()
	var g, w []store.Order
	for _, o := range got {
		g = append(g, normOrder(o))
	}
	for _, o := range want {
		w = append(w, normOrder(o))
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, g, w)
	}
}

func testOrders(t *testing.T, s store.Store) {
	createAccount(t, s, "acc1")
	createAccount(t, s, "acc2")
	a1 := createApp(t, s, "acc1", "one", 0)
	a2 := createApp(t, s, "acc1", "two", 0)

	o1 := order("o1", "acc1", a1.SDKAppID, "r1", 100)
	// o3 and o2 share created_at: listed by id. o4 is an app-less refund
	// without a request id or refunds.
	o3 := order("o3", "acc1", a2.SDKAppID, "r3", 200)
	o2 := order("o2", "acc1", a1.SDKAppID, "", 200)
	o4 := store.Order{ID: "o4", AccountID: "acc1", Kind: store.OrderRefund, Status: store.OrderPaid, CreatedAt: ms(150)}
	o5 := order("o5", "acc1", a1.SDKAppID, "", 50)
	other := order("p1", "acc2", 0, "r1", 100) // another account may reuse r1
	inTx(t, s, func(tx store.CommerceTx) error {
		for _, o := range []store.Order{o1, o3, o2, o4, o5, other} {
			if err := tx.InsertOrder(ctx, o); err != nil {
				t.Fatalf("InsertOrder(%s): %v", o.ID, err)
			}
		}
		dup := order("o9", "acc1", a2.SDKAppID, "r1", 300)
		expectErr(t, "InsertOrder with a known request id", tx.InsertOrder(ctx, dup), errs.ErrExists)
		// The transaction goes on after the refusal (PostgreSQL aborts a
		// transaction on a constraint error).
		got, err := tx.OrderByRequest(ctx, "acc1", "r1")
		if err != nil {
			t.Fatalf("OrderByRequest after a duplicate: %v", err)
		}
		equalOrders(t, "OrderByRequest(acc1, r1)", []store.Order{got}, o1)
		got, err = tx.OrderByRequest(ctx, "acc2", "r1")
		if err != nil {
			t.Fatal(err)
		}
		equalOrders(t, "OrderByRequest(acc2, r1)", []store.Order{got}, other)
		_, err = tx.OrderByRequest(ctx, "acc1", "nope")
		expectErr(t, "OrderByRequest(unknown)", err, errs.ErrNotFound)
		_, err = tx.OrderByRequest(ctx, "acc1", "")
		expectErr(t, "OrderByRequest(empty)", err, errs.ErrNotFound)

		got, err = tx.GetOrder(ctx, "o4")
		if err != nil {
			t.Fatal(err)
		}
		equalOrders(t, "GetOrder(o4)", []store.Order{got}, o4)
		_, err = tx.GetOrder(ctx, "o9")
		expectErr(t, "GetOrder(refused)", err, errs.ErrNotFound)

		list, err := tx.AppOrders(ctx, a1.SDKAppID)
		if err != nil {
			t.Fatal(err)
		}
		equalOrders(t, "AppOrders(a1)", list, o5, o1, o2)
		return nil
	})
	list, err := s.ListOrders(ctx, "acc1")
	if err != nil {
		t.Fatal(err)
	}
	equalOrders(t, "ListOrders(acc1)", list, o5, o1, o4, o2, o3)
	if list, err := s.ListOrders(ctx, "nobody"); err != nil || len(list) != 0 {
		t.Fatalf("ListOrders(nobody) = %+v, %v", list, err)
	}

	inTx(t, s, func(tx store.CommerceTx) error {
		// A duplicate id is refused too (and not with a transaction-breaking error).
		expectErr(t, "InsertOrder with a known id", tx.InsertOrder(ctx, order("o1", "acc2", 0, "", 1)), errs.ErrExists)
		expectErr(t, "SetOrderStatus", tx.SetOrderStatus(ctx, "o1", store.OrderRefunded), nil)
		expectErr(t, "SetOrderNonRefundable", tx.SetOrderNonRefundable(ctx, "o2", ""), nil)
		expectErr(t, "SetOrderStatus(missing)", tx.SetOrderStatus(ctx, "o9", store.OrderRefunded), errs.ErrNotFound)
		expectErr(t, "SetOrderNonRefundable(missing)", tx.SetOrderNonRefundable(ctx, "o9", "x"), errs.ErrNotFound)
		return nil
	})
	o1.Status = store.OrderRefunded
	o2.NonRefundable = ""
	list, err = s.ListOrders(ctx, "acc1")
	if err != nil {
		t.Fatal(err)
	}
	equalOrders(t, "ListOrders after updates", list, o5, o1, o4, o2, o3)
}

func testVouchers(t *testing.T, s store.Store) {
	v2 := store.Voucher{ID: "v2", AccountID: "acc1", AmountCents: 1000, RemainingCents: 1000, Scope: "editions", ExpiresAt: ms(9000), CreatedAt: ms(20)}
	v1 := store.Voucher{ID: "v1", AccountID: "acc1", AmountCents: 500, RemainingCents: 200, Scope: "all", CreatedAt: ms(10)}
	v3 := store.Voucher{ID: "v3", AccountID: "acc1", AmountCents: 700, RemainingCents: 700, Scope: "addons", ExpiresAt: ms(8000), CreatedAt: ms(20)}
	w := store.Voucher{ID: "w1", AccountID: "acc2", AmountCents: 1, RemainingCents: 1, Scope: "all", CreatedAt: ms(1)}
	inTx(t, s, func(tx store.CommerceTx) error {
		for _, v := range []store.Voucher{v3, v2, v1, w} {
			if err := tx.InsertVoucher(ctx, v); err != nil {
				t.Fatalf("InsertVoucher(%s): %v", v.ID, err)
			}
		}
		expectErr(t, "InsertVoucher(known id)", tx.InsertVoucher(ctx, v1), errs.ErrExists)
		got, err := tx.GetVoucher(ctx, "v2")
		if err != nil || !reflect.DeepEqual(got, v2) {
			t.Fatalf("GetVoucher = %+v, %v; want %+v", got, err, v2)
		}
		_, err = tx.GetVoucher(ctx, "nope")
		expectErr(t, "GetVoucher(missing)", err, errs.ErrNotFound)
		expectErr(t, "SetVoucherRemaining", tx.SetVoucherRemaining(ctx, "v2", 0), nil)
		expectErr(t, "SetVoucherRemaining(missing)", tx.SetVoucherRemaining(ctx, "nope", 0), errs.ErrNotFound)
		return nil
	})
	v2.RemainingCents = 0
	got, err := s.ListVouchers(ctx, "acc1")
	if want := []store.Voucher{v1, v2, v3}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ListVouchers = %+v, %v; want %+v", got, err, want)
	}
}

func testLedger(t *testing.T, s store.Store) {
	e3 := store.LedgerEntry{ID: "e3", AccountID: "acc1", Kind: "bill", CashCents: -300, CreditCents: -20, Ref: "b1", At: ms(30)}
	e1 := store.LedgerEntry{ID: "e1", AccountID: "acc1", Kind: "topup", CashCents: 1000, At: ms(10)}
	e2 := store.LedgerEntry{ID: "e2", AccountID: "acc1", Kind: "order", CashCents: -500, CreditCents: -100, Ref: "o1", At: ms(30)}
	x := store.LedgerEntry{ID: "x1", AccountID: "acc2", Kind: "topup", CashCents: 5, At: ms(1)}
	inTx(t, s, func(tx store.CommerceTx) error {
		for _, e := range []store.LedgerEntry{e3, e1, e2, x} {
			if err := tx.InsertLedger(ctx, e); err != nil {
				t.Fatalf("InsertLedger(%s): %v", e.ID, err)
			}
		}
		expectErr(t, "InsertLedger(known id)", tx.InsertLedger(ctx, e1), errs.ErrExists)
		return nil
	})
	got, err := s.ListLedger(ctx, "acc1")
	if want := []store.LedgerEntry{e1, e2, e3}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ListLedger = %+v, %v; want %+v", got, err, want)
	}
}

func testBills(t *testing.T, s store.Store) {
	lines := []store.BillLine{
		{SDKAppID: app1, Product: "standard", Metric: "mau", Usage: 1500, Free: 1000, Billable: 500, BlockSize: 100, BlockMicro: 250000, AmountCents: 125},
		{SDKAppID: app2, Product: "addon:storage", Metric: "storage_gb", Usage: 3, Billable: 3, BlockSize: 1, BlockMicro: 1000000, AmountCents: 300},
	}
	mar := store.Bill{ID: "b-mar", AccountID: "acc1", Month: "2025-03", IssuedAt: ms(100), TotalCents: 425, CashCents: 400, CreditCents: 25, Lines: lines}
	feb := store.Bill{ID: "b-feb", AccountID: "acc1", Month: "2025-02", IssuedAt: ms(50)} // no lines: nil
	dec := store.Bill{ID: "b-dec", AccountID: "acc1", Month: "2024-12", IssuedAt: ms(10), TotalCents: 1, CashCents: 1, Lines: lines[:1]}
	other := store.Bill{ID: "c-mar", AccountID: "acc2", Month: "2025-03", IssuedAt: ms(100)}
	inTx(t, s, func(tx store.CommerceTx) error {
		if m, err := tx.LastBillMonth(ctx, "acc1"); err != nil || m != "" {
			t.Fatalf("LastBillMonth with no bill = %q, %v", m, err)
		}
		for _, b := range []store.Bill{mar, dec, feb, other} {
			if err := tx.InsertBill(ctx, b); err != nil {
				t.Fatalf("InsertBill(%s): %v", b.ID, err)
			}
		}
		again := mar
		again.ID = "b-mar-2"
		expectErr(t, "InsertBill(billed month)", tx.InsertBill(ctx, again), errs.ErrExists)
		if m, err := tx.LastBillMonth(ctx, "acc1"); err != nil || m != "2025-03" {
			t.Fatalf("LastBillMonth = %q, %v; want 2025-03", m, err)
		}
		return nil
	})
	got, err := s.ListBills(ctx, "acc1")
	if want := []store.Bill{dec, feb, mar}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ListBills = %+v, %v; want %+v", got, err, want)
	}
	last, err := s.LastBillMonths(ctx, nil)
	if want := map[string]string{"acc1": "2025-03", "acc2": "2025-03"}; err != nil || !reflect.DeepEqual(last, want) {
		t.Fatalf("LastBillMonths = %v, %v; want %v", last, err, want)
	}
	last, err = s.LastBillMonths(ctx, []string{"acc1", "acc9"})
	if want := map[string]string{"acc1": "2025-03"}; err != nil || !reflect.DeepEqual(last, want) {
		t.Fatalf("LastBillMonths(acc1, acc9) = %v, %v; want %v", last, err, want)
	}
}

func notification(id, accountID, key string, due time.Time) store.Notification {
	return store.Notification{ID: id, AccountID: accountID, SDKAppID: app1, Key: key, Kind: "expiry-7d",
		Channel: "email", Recipient: accountID + "@example.com", Subject: "Subject " + id, Body: "Body " + id,
		DueAt: due, Status: "pending"}
}

func testNotifications(t *testing.T, s store.Store) {
	n2 := notification("n2", "acc1", "k2", ms(20))
	n1 := notification("n1", "acc1", "k1", ms(20))
	n3 := notification("n3", "acc1", "k3", ms(10))
	n3.SDKAppID = 0
	n3.Channel = "sms"
	n3.Status = "" // stored as pending
	x := notification("x1", "acc2", "kx", ms(1))
	inTx(t, s, func(tx store.CommerceTx) error {
		for _, n := range []store.Notification{n2, n1, n3, x} {
			if err := tx.InsertNotification(ctx, n); err != nil {
				t.Fatalf("InsertNotification(%s): %v", n.ID, err)
			}
		}
		dup := notification("n9", "acc1", "k1", ms(30))
		expectErr(t, "InsertNotification(known key)", tx.InsertNotification(ctx, dup), errs.ErrExists)
		return nil
	})
	n3.Status = "pending"
	got, err := s.ListNotifications(ctx, "acc1")
	if want := []store.Notification{n3, n1, n2}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ListNotifications = %+v, %v; want %+v", got, err, want)
	}

	expectErr(t, "SetNotificationStatus", s.SetNotificationStatus(ctx, "n1", "sent", "", ms(40)), nil)
	expectErr(t, "SetNotificationStatus", s.SetNotificationStatus(ctx, "n2", "failed", "smtp: 550", ms(41)), nil)
	expectErr(t, "SetNotificationStatus(missing)", s.SetNotificationStatus(ctx, "n9", "sent", "", ms(42)), errs.ErrNotFound)
	n1.Status, n1.SentAt = "sent", ms(40)
	n2.Status, n2.Error, n2.SentAt = "failed", "smtp: 550", ms(41)
	got, err = s.ListNotifications(ctx, "acc1")
	if want := []store.Notification{n3, n1, n2}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ListNotifications after SetNotificationStatus = %+v, %v; want %+v", got, err, want)
	}
}

func testClaimJob(t *testing.T, s store.Store) {
	claim := func(tx store.CommerceTx, key string, want bool) {
		t.Helper()
		if ok, err := tx.ClaimJob(ctx, key, ms(1)); err != nil || ok != want {
			t.Fatalf("ClaimJob(%s) = %v, %v; want %v", key, ok, err, want)
		}
	}
	inTx(t, s, func(tx store.CommerceTx) error {
		claim(tx, "bill:2025-03", true)
		claim(tx, "bill:2025-03", false) // within the same transaction
		claim(tx, "bill:2025-04", true)
		return nil
	})
	inTx(t, s, func(tx store.CommerceTx) error {
		claim(tx, "bill:2025-03", false)
		claim(tx, "bill:2025-04", false)
		claim(tx, "remind:2025-03-02", true)
		return nil
	})
}

func monthUsage(t *testing.T, s store.Store, app int64, metric, month string) map[string]int64 {
	t.Helper()
	var got map[string]int64
	inTx(t, s, func(tx store.CommerceTx) error {
		var err error
		got, err = tx.MonthUsage(ctx, app, metric, month)
		return err
	})
	return got
}

func testUsage(t *testing.T, s store.Store) {
	for _, u := range []store.Usage{
		{SDKAppID: app1, Metric: "api_calls", Day: "2025-03-01", Quantity: 5},
		{SDKAppID: app1, Metric: "api_calls", Day: "2025-03-01", Quantity: 7},
		{SDKAppID: app1, Metric: "api_calls", Day: "2025-03-31", Quantity: 1},
		{SDKAppID: app1, Metric: "api_calls", Day: "2025-02-28", Quantity: 100},
		{SDKAppID: app1, Metric: "api_calls", Day: "2025-04-01", Quantity: 100},
		{SDKAppID: app1, Metric: "storage_gb", Day: "2025-03-01", Quantity: 100},
		{SDKAppID: app2, Metric: "api_calls", Day: "2025-03-01", Quantity: 100},
	} {
		if err := s.AddUsage(ctx, u); err != nil {
			t.Fatalf("AddUsage(%+v): %v", u, err)
		}
	}
	want := map[string]int64{"2025-03-01": 12, "2025-03-31": 1}
	if got := monthUsage(t, s, app1, "api_calls", "2025-03"); !reflect.DeepEqual(got, want) {
		t.Fatalf("MonthUsage = %v, want %v", got, want)
	}
	if got := monthUsage(t, s, app1, "api_calls", "2025-05"); len(got) != 0 {
		t.Fatalf("MonthUsage of an empty month = %v", got)
	}

	// CountMonthly inside the transaction sees the MAU records.
	for _, u := range []string{"alice", "bob"} {
		if _, err := s.AdmitMonthly(ctx, app1, "2025-03", u, 0, t0); err != nil {
			t.Fatal(err)
		}
	}
	inTx(t, s, func(tx store.CommerceTx) error {
		if n, err := tx.CountMonthly(ctx, app1, "2025-03"); err != nil || n != 2 {
			t.Fatalf("CountMonthly = %d, %v; want 2", n, err)
		}
		if n, err := tx.CountMonthly(ctx, app2, "2025-03"); err != nil || n != 0 {
			t.Fatalf("CountMonthly(app2) = %d, %v; want 0", n, err)
		}
		return nil
	})
}

// testDeleteAppDataKeepsOrders: DeleteAppData removes the app's users,
// messages and usage but keeps the account's records of it.
func testDeleteAppDataKeepsOrders(t *testing.T, s store.Store) {
	createAccount(t, s, "acc1")
	a1 := createApp(t, s, "acc1", "one", 0)
	a2 := createApp(t, s, "acc1", "two", 0)
	for _, id := range []int64{a1.SDKAppID, a2.SDKAppID} {
		if err := s.ImportUsers(ctx, id, []store.User{{UserID: "alice"}, {UserID: "bob"}}); err != nil {
			t.Fatal(err)
		}
		m := send("alice", "bob", 1, "c1")
		m.App = id
		applyOK(t, s, m)
		if err := s.AddUsage(ctx, store.Usage{SDKAppID: id, Metric: "api_calls", Day: "2025-03-01", Quantity: 3}); err != nil {
			t.Fatal(err)
		}
	}
	o := order("o1", "acc1", a1.SDKAppID, "r1", 1)
	inTx(t, s, func(tx store.CommerceTx) error {
		if err := tx.InsertOrder(ctx, o); err != nil {
			return err
		}
		if err := tx.InsertNotification(ctx, notification("n1", "acc1", "k1", ms(1))); err != nil {
			return err
		}
		if err := tx.DeleteAppData(ctx, a1.SDKAppID, ms(5000)); err != nil {
			return err
		}
		expectErr(t, "DeleteAppData(missing)", tx.DeleteAppData(ctx, 1399999999, ms(5000)), errs.ErrNotFound)
		got, err := tx.LockApp(ctx, a1.SDKAppID)
		if err != nil || got.Status != "deleted" || !got.DeletedAt.Equal(ms(5000)) {
			t.Fatalf("LockApp(deleted) = %+v, %v", got, err)
		}
		if apps, err := tx.AccountApps(ctx, "acc1"); err != nil || len(apps) != 1 || apps[0].SDKAppID != a2.SDKAppID {
			t.Fatalf("AccountApps after DeleteAppData = %+v, %v", apps, err)
		}
		orders, err := tx.AppOrders(ctx, a1.SDKAppID)
		if err != nil {
			return err
		}
		equalOrders(t, "AppOrders of the deleted app", orders, o)
		return nil
	})

	for _, c := range []struct {
		id    int64
		users int
	}{{a1.SDKAppID, 0}, {a2.SDKAppID, 2}} {
		if users := getUsers(t, s, c.id, "alice", "bob"); len(users) != c.users {
			t.Fatalf("app %d: %d users, want %d", c.id, len(users), c.users)
		}
		if es := syncAll(t, s, c.id, "bob"); len(es) != c.users/2 {
			t.Fatalf("app %d: bob's log has %d entries, want %d", c.id, len(es), c.users/2)
		}
		u := monthUsage(t, s, c.id, "api_calls", "2025-03")
		if want := int64(3 * c.users / 2); u["2025-03-01"] != want || len(u) != c.users/2 {
			t.Fatalf("app %d: usage %v, want %d on 2025-03-01", c.id, u, want)
		}
	}
	orders, err := s.ListOrders(ctx, "acc1")
	if err != nil {
		t.Fatal(err)
	}
	equalOrders(t, "ListOrders after DeleteAppData", orders, o)
	if notes, err := s.ListNotifications(ctx, "acc1"); err != nil || len(notes) != 1 {
		t.Fatalf("ListNotifications after DeleteAppData = %+v, %v; want the notification", notes, err)
	}

	// Tenants.DeleteApp removes usage too.
	if err := s.DeleteApp(ctx, a2.SDKAppID, ms(6000)); err != nil {
		t.Fatal(err)
	}
	if u := monthUsage(t, s, a2.SDKAppID, "api_calls", "2025-03"); len(u) != 0 {
		t.Fatalf("usage after DeleteApp = %v", u)
	}
}

// testCommerceConcurrent: transactions that read and update one account
// serialise on its lock, so no increment is lost.
func testCommerceConcurrent(t *testing.T, s store.Store) {
	const writers = 8
	createAccount(t, s, "acc1")
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.InCommerceTx(ctx, func(tx store.CommerceTx) error {
				a, err := tx.LockAccount(ctx, "acc1")
				if err != nil {
					return err
				}
				time.Sleep(5 * time.Millisecond) // widen the window a missing lock would leave open
				a.CashCents++
				return tx.UpdateAccount(ctx, a)
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("InCommerceTx: %v", err)
		}
	}
	if a, err := s.GetAccount(ctx, "acc1"); err != nil || a.CashCents != writers {
		t.Fatalf("CashCents = %d, %v; want %d", a.CashCents, err, writers)
	}
}

func testPromotions(t *testing.T, s store.Store) {
	push := store.Promotion{Addon: "push", FreeUntil: ms(200), SetAt: ms(10)}
	bot := store.Promotion{Addon: "chatbot_messages", FreeUntil: ms(100), SetAt: ms(10)}
	inTx(t, s, func(tx store.CommerceTx) error {
		if _, err := tx.PromotionOf(ctx, "push"); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("PromotionOf(none) = %v, want ErrNotFound", err)
		}
		for _, p := range []store.Promotion{push, bot} {
			if err := tx.SetPromotion(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		push.FreeUntil, push.SetAt = ms(300), ms(20) // replaced
		if err := tx.SetPromotion(ctx, push); err != nil {
			t.Fatal(err)
		}
		if got, err := tx.PromotionOf(ctx, "push"); err != nil || got != push {
			t.Fatalf("PromotionOf = %+v, %v; want %+v", got, err, push)
		}
		return nil
	})
	if got, err := s.Promotions(ctx); err != nil || !reflect.DeepEqual(got, []store.Promotion{bot, push}) {
		t.Fatalf("Promotions = %+v, %v", got, err)
	}
	inTx(t, s, func(tx store.CommerceTx) error {
		return tx.SetPromotion(ctx, store.Promotion{Addon: "push"}) // zero FreeUntil ends it
	})
	if got, err := s.Promotions(ctx); err != nil || !reflect.DeepEqual(got, []store.Promotion{bot}) {
		t.Fatalf("Promotions after ending push = %+v, %v", got, err)
	}
}

func testClaimNotification(t *testing.T, s store.Store) {
	n1 := notification("n1", "acc1", "k1", ms(10))
	n2 := notification("n2", "acc1", "k2", ms(20))
	inTx(t, s, func(tx store.CommerceTx) error {
		for _, n := range []store.Notification{n1, n2} {
			if err := tx.InsertNotification(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	})
	claim := func(id string, at, stale int, want bool) {
		t.Helper()
		if ok, err := s.ClaimNotification(ctx, id, ms(at), ms(stale), 3); err != nil || ok != want {
			t.Fatalf("ClaimNotification(%s at %d) = %v, %v; want %v", id, at, ok, err, want)
		}
	}
	undelivered := func(stale int, want ...string) {
		t.Helper()
		ns, err := s.UndeliveredNotifications(ctx, ms(stale), 3, 10)
		var got []string
		for _, n := range ns {
			got = append(got, n.ID)
		}
		if err != nil || strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("UndeliveredNotifications = %v, %v; want %v", got, err, want)
		}
	}
	undelivered(0, "n1", "n2")
	claim("n1", 100, 0, true)
	claim("n1", 101, 0, false) // held by the first attempt
	undelivered(0, "n2")
	undelivered(101, "n1", "n2") // an attempt begun before 101 is stale
	claim("n1", 200, 101, true)  // taken over: attempt 2
	if err := s.SetNotificationStatus(ctx, "n1", "failed", "relay down", ms(210)); err != nil {
		t.Fatal(err)
	}
	claim("n1", 300, 0, true) // attempt 3
	if err := s.SetNotificationStatus(ctx, "n1", "failed", "relay down", ms(310)); err != nil {
		t.Fatal(err)
	}
	claim("n1", 400, 0, false) // 3 attempts made
	claim("nope", 400, 0, false)
	claim("n2", 400, 0, true)
	if err := s.SetNotificationStatus(ctx, "n2", "sent", "", ms(410)); err != nil {
		t.Fatal(err)
	}
	claim("n2", 500, 1000, false) // sent: never again
	undelivered(1000)
	ns, err := s.ListNotifications(ctx, "acc1")
	if err != nil || len(ns) != 2 || ns[0].Attempts != 3 || ns[0].Status != "failed" || ns[1].Attempts != 1 || ns[1].Status != "sent" {
		t.Fatalf("notifications after the attempts: %+v, %v", ns, err)
	}
}

// testClaimRequest: a request id is tied to the fingerprint of its first use, per
// account, and a rolled-back claim leaves the id free.
func testClaimRequest(t *testing.T, s store.Store) {
	claim := func(tx store.CommerceTx, acc, id, fp, wantFirst string, wantFresh bool) {
		t.Helper()
		first, fresh, err := tx.ClaimRequest(ctx, acc, id, fp, ms(1))
		if err != nil || first != wantFirst || fresh != wantFresh {
			t.Fatalf("ClaimRequest(%s, %s, %s) = %q, %v, %v; want %q, %v", acc, id, fp, first, fresh, err, wantFirst, wantFresh)
		}
	}
	inTx(t, s, func(tx store.CommerceTx) error {
		claim(tx, "acc1", "k1", "buy a", "buy a", true)
		claim(tx, "acc1", "k1", "buy b", "buy a", false) // within the same transaction
		claim(tx, "acc2", "k1", "buy b", "buy b", true)
		return nil
	})
	inTx(t, s, func(tx store.CommerceTx) error {
		claim(tx, "acc1", "k1", "buy a", "buy a", false)
		claim(tx, "acc2", "k1", "buy a", "buy b", false)
		return nil
	})
	rollback := errors.New("roll back")
	if err := s.InCommerceTx(ctx, func(tx store.CommerceTx) error {
		claim(tx, "acc1", "k2", "topup", "topup", true)
		return rollback
	}); err != rollback {
		t.Fatal(err)
	}
	inTx(t, s, func(tx store.CommerceTx) error {
		claim(tx, "acc1", "k2", "refund", "refund", true)
		return nil
	})
}
