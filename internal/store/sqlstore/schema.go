package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// schemaVersion is the version of the schema below. A future migration bumps it
// and upgrades older databases in migrate.
const schemaVersion = 1

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
	created_at BIGINT NOT NULL
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
	deleted_at BIGINT NOT NULL
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
	PRIMARY KEY (app, owner, seq)
);
CREATE INDEX IF NOT EXISTS entries_by_conversation ON entries (app, owner, peer, msg_time, seq);
-- Idempotency of sends: a sender's ClientID is unique in each log. Ordered by
-- sender first so that both copies of a message share a leaf page.
CREATE UNIQUE INDEX IF NOT EXISTS entries_by_client_id ON entries (app, from_user, client_id, owner) WHERE client_id <> '';

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
`

// migrate creates the schema if needed and checks its version, in one transaction.
func migrate(ctx context.Context, db *sql.DB, d Dialect) error {
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
	ddl := stripComments(strings.ReplaceAll(schema, "{{BLOB}}", d.Blob))
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
	case err == sql.ErrNoRows:
		if _, err := tx.ExecContext(ctx, d.rebind(`INSERT INTO schema_version (version) VALUES (?)`), schemaVersion); err != nil {
			return err
		}
	case err != nil:
		return err
	case version > schemaVersion:
		return fmt.Errorf("database schema version %d is newer than this binary's %d", version, schemaVersion)
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
