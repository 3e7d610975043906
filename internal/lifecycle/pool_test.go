package lifecycle_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/money"
)

// TestJobsOnOneConnection runs every kind of job (reminders, auto-renewal, expiry,
// suspension, bills, arrears, repossession notices and repossession) on a
// PostgreSQL store of one connection: a job that used the pool while its
// transaction held the connection would never finish (and fails on the deadline).
func TestJobsOnOneConnection(t *testing.T) {
	w := newWorldOn(t, openPostgres(t, postgresURL(t)), true)
	w.st.(interface{ WriteDB() *sql.DB }).WriteDB().SetMaxOpenConns(1)
	c, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	acc := w.account(t, "One Conn", "+15550100")
	w.topUp(t, acc.ID, money.Cents(40000))
	paid := w.app(t, acc.ID, "paid")
	w.app(t, acc.ID, "trial")
	w.buy(t, paid.SDKAppID, catalog.Standard, 1, true)
	w.admit(t, paid.SDKAppID, "2026-02", "u", 3, at(2, 2, 0))
	for _, d := range []time.Duration{27 * day, 29 * day, 40 * day, 70 * day, 200 * day} {
		if _, err := w.sch.Set(c, t0.Add(d)); err != nil {
			t.Fatalf("at +%s: %v", d, err)
		}
	}
	if len(w.notes(t, acc.ID)) == 0 || len(w.bills(t, acc.ID)) == 0 {
		t.Errorf("no jobs ran: %d notes, %d bills", len(w.notes(t, acc.ID)), len(w.bills(t, acc.ID)))
	}
}
