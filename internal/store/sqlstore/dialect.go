package sqlstore

import (
	"strconv"
	"strings"
)

// Dialect holds the few things that differ between the SQL engines. Everything
// else (queries, upserts, RETURNING) is shared: SQLite >= 3.35 and PostgreSQL both
// support ON CONFLICT ... DO NOTHING/DO UPDATE and RETURNING.
type Dialect struct {
	Name string
	// Dollar rewrites the "?" placeholders of the shared queries to $1, $2, ...
	Dollar bool
	// Blob is the column type of binary data.
	Blob string
	// SerialWrites says that all writes go through one connection, one
	// transaction at a time (SQLite), so rows need no locks. Otherwise
	// transactions that read rows to update them lock them (SELECT ... FOR
	// UPDATE).
	SerialWrites bool
	// Pipeline says that Apply drives the connection through pgx (PostgreSQL):
	// each batch is two pipelines of statements, two round trips whatever its
	// size. Without it Apply issues its statements one by one through
	// database/sql, which needs SerialWrites.
	Pipeline bool
	// BulkInsert is the verb of the serial Apply's multi-row INSERT of
	// entries. SQLite needs "INSERT OR IGNORE": a multi-row statement that may
	// abort on a constraint makes SQLite copy every page it touches to a
	// statement journal first, which costs a third of the throughput. Apply
	// counts the rows inserted instead (a skipped row is a bug and fails the
	// batch).
	BulkInsert string
	// SchemaLock, when set, runs first in the schema transaction so that nodes
	// starting at the same time do not race on CREATE TABLE IF NOT EXISTS.
	SchemaLock string
}

// SQLite is the dialect of SQLite >= 3.35. Writes are serialised by the single
// write connection, so no row locks are needed.
var SQLite = Dialect{
	Name:         "sqlite",
	Blob:         "BLOB",
	SerialWrites: true,
	BulkInsert:   "INSERT OR IGNORE",
}

// Postgres is the dialect of PostgreSQL >= 12.
var Postgres = Dialect{
	Name:       "postgres",
	Dollar:     true,
	Blob:       "BYTEA",
	Pipeline:   true,
	SchemaLock: "SELECT pg_advisory_xact_lock(4300741)", // arbitrary key: "chatd schema"
}

// forUpdate is appended to a SELECT whose rows the transaction goes on to update.
func (d Dialect) forUpdate() string {
	if d.SerialWrites {
		return ""
	}
	return " FOR UPDATE"
}

// forShare is appended to a SELECT that confirms a row exists for the rest of
// the transaction: the row cannot be deleted (nor updated) until it commits, and
// a concurrent DELETE makes it wait and then see the row gone.
func (d Dialect) forShare() string {
	if d.SerialWrites {
		return ""
	}
	return " FOR SHARE"
}

// rebind turns the shared query's "?" placeholders into the dialect's style. The
// shared queries never contain a literal question mark.
func (d Dialect) rebind(q string) string {
	if !d.Dollar {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
