package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// schemaVersion is the version of the schema below. migrate upgrades older
// databases step by step (see upgrades).
const schemaVersion = 3

// firstSDKAppID - 1 seeds the SDKAppID counter.
const firstSDKAppID = 1400000001

// schema is the DDL of schemaVersion; {{BLOB}} is replaced by the dialect's binary
// type. All times are Unix milliseconds except msg_time and read_time, which are
// Unix seconds as in the contract.
const schema = `
CREATE TABLE IF NOT EXISTS schema_version (
	version INTEGER NOT NULL
);

-- Named counters; "sdkappid" holds the last allocated SDKAppID.
CREATE TABLE IF NOT EXISTS counters (
	name  TEXT PRIMARY KEY,
	value BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS accounts (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	email      TEXT NOT NULL,
	phone      TEXT NOT NULL,
	status     TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	-- Version 2 (also in upgrades).
	cash_cents     BIGINT NOT NULL DEFAULT 0,
	credit_cents   BIGINT NOT NULL DEFAULT 0,
	overdue_since  BIGINT NOT NULL DEFAULT 0,
	suspend_reason TEXT NOT NULL DEFAULT '',
	suspended_at   BIGINT NOT NULL DEFAULT 0
);

-- Deleted apps stay as tombstones (status 'deleted').
CREATE TABLE IF NOT EXISTS apps (
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
	deleted_at BIGINT NOT NULL,
	-- Version 2 (also in upgrades).
	plan_anchor    BIGINT NOT NULL DEFAULT 0,
	auto_renew     BOOLEAN NOT NULL DEFAULT FALSE,
	trial_extended BOOLEAN NOT NULL DEFAULT FALSE,
	suspend_reason TEXT NOT NULL DEFAULT '',
	suspended_at   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS apps_by_account ON apps (account_id, sdkappid);

CREATE TABLE IF NOT EXISTS users (
	app        BIGINT NOT NULL,
	user_id    TEXT NOT NULL,
	nick       TEXT NOT NULL,
	face_url   TEXT NOT NULL,
	profile    TEXT NOT NULL, -- JSON object of string values
	created_at BIGINT NOT NULL,
	PRIMARY KEY (app, user_id)
);

-- The last Seq allocated in each user's log. Kept apart from entries so that
-- purging old entries never lets a Seq be allocated twice, and so that writers
-- on several connections serialise per owner on this row.
CREATE TABLE IF NOT EXISTS seqs (
	app      BIGINT NOT NULL,
	owner    TEXT NOT NULL,
	last_seq BIGINT NOT NULL,
	PRIMARY KEY (app, owner)
);

-- The sync logs. A one-to-one message is stored twice, once per owner, with one
-- MsgKey "<MsgSeq>_<MsgRandom>_<MsgTime>"; the conversation index finds a copy from
-- its MsgKey (owner, peer and the key's MsgTime) and lists history by time.
CREATE TABLE IF NOT EXISTS entries (
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
	body              {{BLOB}},
	cloud_custom_data TEXT NOT NULL,
	recalled          BOOLEAN NOT NULL,
	unread            BOOLEAN NOT NULL,
	read_time         BIGINT NOT NULL,
	created_at        BIGINT NOT NULL,
	-- Version 3 (also in upgrades): end of a message's offline life
	-- (MsgLifeTime), Unix milliseconds; 0 = the retention window only.
	expires_at        BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (app, owner, seq)
);
CREATE INDEX IF NOT EXISTS entries_by_conversation ON entries (app, owner, peer, msg_time, seq);
-- Idempotency of sends: a sender's ClientID is unique in each log. Ordered by
-- sender first so that both copies of a message share a leaf page.
CREATE UNIQUE INDEX IF NOT EXISTS entries_by_client_id ON entries (app, from_user, client_id, owner) WHERE client_id <> '';

-- The last kick of a user (Unix ms): UserSigs made before it are refused. A new
-- table needs no upgrade step; rows outlive the user, not the app.
CREATE TABLE IF NOT EXISTS user_kicks (
	app       BIGINT NOT NULL,
	user_id   TEXT NOT NULL,
	kicked_at BIGINT NOT NULL,
	PRIMARY KEY (app, user_id)
);

-- Owner read the conversation with peer up to read_time (Unix seconds).
CREATE TABLE IF NOT EXISTS reads (
	app       BIGINT NOT NULL,
	owner     TEXT NOT NULL,
	peer      TEXT NOT NULL,
	read_time BIGINT NOT NULL,
	PRIMARY KEY (app, owner, peer)
);

-- Monthly active users, and per (app, month) their number, the row that
-- serialises concurrent admissions against the capacity.
CREATE TABLE IF NOT EXISTS mau_users (
	app      BIGINT NOT NULL,
	month    TEXT NOT NULL,
	user_id  TEXT NOT NULL,
	first_at BIGINT NOT NULL,
	PRIMARY KEY (app, month, user_id)
);
CREATE TABLE IF NOT EXISTS mau_counts (
	app   BIGINT NOT NULL,
	month TEXT NOT NULL,
	n     BIGINT NOT NULL,
	PRIMARY KEY (app, month)
);

-- Commerce (version 2). Ids are chosen by the caller. Orders, bills and
-- notifications are records of the account and outlive a deleted app.
CREATE TABLE IF NOT EXISTS orders (
	id                   TEXT PRIMARY KEY,
	account_id           TEXT NOT NULL,
	sdkappid             BIGINT NOT NULL,
	request_id           TEXT NOT NULL,
	kind                 TEXT NOT NULL,
	product              TEXT NOT NULL,
	months               INTEGER NOT NULL,
	quantity             INTEGER NOT NULL,
	list_cents           BIGINT NOT NULL,
	discount_cents       BIGINT NOT NULL,
	voucher_cents        BIGINT NOT NULL,
	voucher_id           TEXT NOT NULL,
	cash_cents           BIGINT NOT NULL,
	credit_cents         BIGINT NOT NULL,
	carried_cash_cents   BIGINT NOT NULL,
	carried_credit_cents BIGINT NOT NULL,
	effective_from       BIGINT NOT NULL,
	effective_to         BIGINT NOT NULL,
	anchor               BIGINT NOT NULL,
	auto_renew           BOOLEAN NOT NULL,
	agreement_accepted   BOOLEAN NOT NULL,
	non_refundable       TEXT NOT NULL,
	status               TEXT NOT NULL,
	refunds              TEXT NOT NULL, -- JSON array of order ids
	reason               TEXT NOT NULL,
	created_at           BIGINT NOT NULL
);
-- Idempotency of purchases: a request id is unique per account.
CREATE UNIQUE INDEX IF NOT EXISTS orders_by_request ON orders (account_id, request_id) WHERE request_id <> '';
CREATE INDEX IF NOT EXISTS orders_by_account ON orders (account_id, created_at);
CREATE INDEX IF NOT EXISTS orders_by_app ON orders (sdkappid, created_at);

CREATE TABLE IF NOT EXISTS vouchers (
	id              TEXT PRIMARY KEY,
	account_id      TEXT NOT NULL,
	amount_cents    BIGINT NOT NULL,
	remaining_cents BIGINT NOT NULL,
	scope           TEXT NOT NULL,
	expires_at      BIGINT NOT NULL,
	created_at      BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS vouchers_by_account ON vouchers (account_id, created_at);

CREATE TABLE IF NOT EXISTS ledger (
	id           TEXT PRIMARY KEY,
	account_id   TEXT NOT NULL,
	kind         TEXT NOT NULL,
	cash_cents   BIGINT NOT NULL,
	credit_cents BIGINT NOT NULL,
	ref          TEXT NOT NULL,
	at           BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_by_account ON ledger (account_id, at);

CREATE TABLE IF NOT EXISTS bills (
	id           TEXT PRIMARY KEY,
	account_id   TEXT NOT NULL,
	month        TEXT NOT NULL,
	issued_at    BIGINT NOT NULL,
	total_cents  BIGINT NOT NULL,
	cash_cents   BIGINT NOT NULL,
	credit_cents BIGINT NOT NULL,
	lines        TEXT NOT NULL, -- JSON array of store.BillLine
	UNIQUE (account_id, month)
);

CREATE TABLE IF NOT EXISTS notifications (
	id         TEXT PRIMARY KEY,
	account_id TEXT NOT NULL,
	sdkappid   BIGINT NOT NULL,
	key        TEXT NOT NULL UNIQUE,
	kind       TEXT NOT NULL,
	channel    TEXT NOT NULL,
	recipient  TEXT NOT NULL,
	subject    TEXT NOT NULL,
	body       TEXT NOT NULL,
	due_at     BIGINT NOT NULL,
	status     TEXT NOT NULL,
	error      TEXT NOT NULL,
	sent_at    BIGINT NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS notifications_by_account ON notifications (account_id, due_at);
-- Notices still to deliver (few: delivered ones leave the index).
CREATE INDEX IF NOT EXISTS notifications_undelivered ON notifications (due_at) WHERE status IN ('pending', 'sending', 'failed');

-- Metered quantities per app, metric and UTC day ("2006-01-02").
CREATE TABLE IF NOT EXISTS usage (
	sdkappid BIGINT NOT NULL,
	metric   TEXT NOT NULL,
	day      TEXT NOT NULL,
	quantity BIGINT NOT NULL,
	PRIMARY KEY (sdkappid, metric, day)
);

-- Claimed runs of periodic jobs: the first node to insert a key runs the job.
CREATE TABLE IF NOT EXISTS jobs (
	key TEXT PRIMARY KEY,
	at  BIGINT NOT NULL
);

-- An add-on free to buy until free_until (created on start by older version-2
-- databases too: a new table needs no migration step).
CREATE TABLE IF NOT EXISTS promotions (
	addon      TEXT PRIMARY KEY,
	free_until BIGINT NOT NULL,
	set_at     BIGINT NOT NULL
);

-- The request ids (idempotency keys) of an account, each with the fingerprint
-- of the request that first used it: a reuse with other parameters is refused
-- (a new table: older version-2 databases get it on start too).
CREATE TABLE IF NOT EXISTS request_keys (
	account_id  TEXT NOT NULL,
	request_id  TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	PRIMARY KEY (account_id, request_id)
);
`

// extraSchemas are the DDL of new tables kept in files of their own (each
// appends its const in an init); they run after schema, in the same transaction.
// A new table needs no upgrade step and no new schemaVersion.
var extraSchemas []string

// upgrades[v] turns a database of version v into version v+1. The schema above
// already has every column, but CREATE TABLE IF NOT EXISTS leaves existing
// tables as they are, so columns added later are added here too. (No index of
// the schema may use such a column: it runs before the upgrades.)
var upgrades = map[int][]string{
	1: {
		`ALTER TABLE accounts ADD COLUMN cash_cents BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE accounts ADD COLUMN credit_cents BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE accounts ADD COLUMN overdue_since BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE accounts ADD COLUMN suspend_reason TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE accounts ADD COLUMN suspended_at BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE apps ADD COLUMN plan_anchor BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE apps ADD COLUMN auto_renew BOOLEAN NOT NULL DEFAULT FALSE`,
		`ALTER TABLE apps ADD COLUMN trial_extended BOOLEAN NOT NULL DEFAULT FALSE`,
		`ALTER TABLE apps ADD COLUMN suspend_reason TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE apps ADD COLUMN suspended_at BIGINT NOT NULL DEFAULT 0`,
	},
	2: {
		`ALTER TABLE entries ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0`,
	},
}

// migrate creates the schema if needed and checks its version, in one transaction.
func migrate(ctx context.Context, db *sql.DB, d Dialect) error {
	// A node starting beside running ones may deadlock with their writes
	// (CREATE INDEX IF NOT EXISTS locks its table even when the index exists):
	// PostgreSQL then aborts one side, and the schema is simply applied again.
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = migrateOnce(ctx, db, d); !isDeadlock(err) {
			return err
		}
	}
	return err
}

// isDeadlock reports whether err is PostgreSQL's deadlock_detected (40P01).
func isDeadlock(err error) bool {
	var e interface{ SQLState() string }
	return errors.As(err, &e) && e.SQLState() == "40P01"
}

func migrateOnce(ctx context.Context, db *sql.DB, d Dialect) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if d.SchemaLock != "" {
		if _, err := tx.ExecContext(ctx, d.SchemaLock); err != nil {
			return err
		}
	}
	ddl := stripComments(strings.ReplaceAll(strings.Join(append([]string{schema}, extraSchemas...), ";\n"), "{{BLOB}}", d.Blob))
	ddl = strings.ReplaceAll(ddl, "{{AUTOID}}", d.AutoID)
	for _, stmt := range strings.Split(ddl, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%w\n%s", err, stmt)
		}
	}
	var version int
	err = tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, d.rebind(`INSERT INTO schema_version (version) VALUES (?)`), schemaVersion); err != nil {
			return err
		}
	case err != nil:
		return err
	case version > schemaVersion:
		return fmt.Errorf("database schema version %d is newer than this binary's %d", version, schemaVersion)
	case version < schemaVersion:
		for v := version; v < schemaVersion; v++ {
			for _, stmt := range upgrades[v] {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("upgrade from version %d: %w\n%s", v, err, stmt)
				}
			}
		}
		if _, err := tx.ExecContext(ctx, d.rebind(`UPDATE schema_version SET version = ?`), schemaVersion); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, d.rebind(`INSERT INTO counters (name, value) VALUES ('sdkappid', ?) ON CONFLICT (name) DO NOTHING`), firstSDKAppID-1); err != nil {
		return err
	}
	return tx.Commit()
}

// stripComments removes "--" comments (the schema has no "--" in literals).
func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}
