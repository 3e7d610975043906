package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/store/sqlite"
)

// schemaV1 is what version 1 created of the tables that versions 2 and 3
// changed. The other tables did not change, so migrate creates them as on a
// fresh database.
const schemaV1 = `
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (1);
CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO counters (name, value) VALUES ('sdkappid', 1400000001);
CREATE TABLE accounts (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	email      TEXT NOT NULL,
	phone      TEXT NOT NULL,
	status     TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE TABLE apps (
	sdkappid   BIGINT PRIMARY KEY,
	account_id TEXT NOT NULL REFERENCES accounts (id),
	name       TEXT NOT NULL,
	region     TEXT NOT NULL,
	secret_key TEXT NOT NULL,
	admin_user TEXT NOT NULL,
	edition    TEXT NOT NULL,
	status     TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	deleted_at BIGINT NOT NULL
);
CREATE INDEX apps_by_account ON apps (account_id, sdkappid);
CREATE TABLE entries (
	app               BIGINT NOT NULL,
	owner             TEXT NOT NULL,
	seq               BIGINT NOT NULL,
	kind              TEXT NOT NULL,
	peer              TEXT NOT NULL,
	from_user         TEXT NOT NULL,
	to_user           TEXT NOT NULL,
	msg_seq           BIGINT NOT NULL,
	msg_random        BIGINT NOT NULL,
	msg_time          BIGINT NOT NULL,
	msg_key           TEXT NOT NULL,
	client_id         TEXT NOT NULL,
	body              BLOB,
	cloud_custom_data TEXT NOT NULL,
	recalled          BOOLEAN NOT NULL,
	unread            BOOLEAN NOT NULL,
	read_time         BIGINT NOT NULL,
	created_at        BIGINT NOT NULL,
	PRIMARY KEY (app, owner, seq)
);
INSERT INTO entries VALUES (1400000001, 'bob', 1, 'msg', 'alice', 'alice', 'bob', 1, 7, 1740830400,
	'1_7_1740830400', '', '[]', '', FALSE, TRUE, 0, 1740830400000);
INSERT INTO accounts VALUES ('acc1', 'Acme', 'a@example.com', '+1', 'active', 1740830400000);
INSERT INTO apps VALUES (1400000001, 'acc1', 'one', 'sg', 'k', 'administrator', 'standard', 'active',
	1740830400000, 1743508800000, 0);
`

// columns describes a table's columns as SQLite sees them.
func columns(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT name, type, "notnull", COALESCE(dflt_value, ''), pk FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name, typ, dflt string
		var notNull, pk int
		if err := rows.Scan(&name, &typ, &notNull, &dflt, &pk); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s notnull=%d default=%s pk=%d", name, typ, notNull, dflt, pk))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMigrateFromVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(schemaV1); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatalf("Open of a version-1 database: %v", err)
	}
	defer func() { s.Close() }() // the reopened store below
	var version int
	if err := s.WriteDB().QueryRow(`SELECT version FROM schema_version`).Scan(&version); err != nil || version != 3 {
		t.Fatalf("schema version = %d, %v; want 3", version, err)
	}

	// The migrated tables have the columns of a fresh database, in order.
	fresh, err := sqlite.Open(filepath.Join(t.TempDir(), "fresh.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	for _, table := range []string{"accounts", "apps", "entries"} {
		got, want := columns(t, s.WriteDB(), table), columns(t, fresh.WriteDB(), table)
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("%s after migration:\n got  %q\n want %q", table, got, want)
		}
	}

	// Old rows read with the new fields at their zero values.
	acc, err := s.GetAccount(ctx, "acc1")
	wantAcc := store.Account{ID: "acc1", Name: "Acme", Email: "a@example.com", Phone: "+1", Status: "active",
		CreatedAt: time.UnixMilli(1740830400000).UTC()}
	if err != nil || !reflect.DeepEqual(acc, wantAcc) {
		t.Fatalf("GetAccount = %+v, %v; want %+v", acc, err, wantAcc)
	}
	app, err := s.GetApp(ctx, 1400000001)
	if err != nil || app.Name != "one" || app.Edition != "standard" || !app.PlanAnchor.IsZero() ||
		app.AutoRenew || app.TrialExtended || app.SuspendReason != "" || !app.SuspendedAt.IsZero() {
		t.Fatalf("GetApp = %+v, %v", app, err)
	}

	// An old message reads as one without an end of life.
	if es, err := s.Sync(ctx, 1400000001, "bob", 0, 0, time.Time{}, time.Now()); err != nil || len(es) != 1 || !es[0].ExpiresAt.IsZero() {
		t.Fatalf("Sync of an old message = %+v, %v", es, err)
	}

	// The new columns and tables are usable, and the SDKAppID counter carried over.
	err = s.InCommerceTx(ctx, func(tx store.CommerceTx) error {
		a, err := tx.LockAccount(ctx, "acc1")
		if err != nil {
			return err
		}
		a.CashCents = 700
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		return tx.InsertOrder(ctx, store.Order{ID: "o1", AccountID: "acc1", SDKAppID: 1400000001, RequestID: "r1", Status: store.OrderPaid})
	})
	if err != nil {
		t.Fatal(err)
	}
	if acc, err := s.GetAccount(ctx, "acc1"); err != nil || acc.CashCents != 700 {
		t.Fatalf("GetAccount after update = %+v, %v", acc, err)
	}
	next, err := s.CreateApp(ctx, store.App{AccountID: "acc1", Name: "two", AutoRenew: true}, 0)
	if err != nil || next.SDKAppID != 1400000002 {
		t.Fatalf("CreateApp after migration = %+v, %v; want SDKAppID 1400000002", next, err)
	}

	// Opening again finds version 3 and changes nothing.
	s.Close()
	s, err = sqlite.Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if got, err := s.GetApp(ctx, next.SDKAppID); err != nil || !got.AutoRenew {
		t.Fatalf("GetApp after reopen = %+v, %v", got, err)
	}
}
