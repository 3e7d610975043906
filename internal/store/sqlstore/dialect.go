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
	// ForUpdate is appended to a SELECT that must lock the rows it reads until
	// the transaction ends. Empty when the engine serialises writers anyway.
	ForUpdate string
	// SchemaLock, when set, runs first in the schema transaction so that nodes
	// starting at the same time do not race on CREATE TABLE IF NOT EXISTS.
	SchemaLock string
}

// SQLite is the dialect of SQLite >= 3.35. Writes are serialised by the single
// write connection, so no row locks are needed.
var SQLite = Dialect{
	Name: "sqlite",
	Blob: "BLOB",
}

// Postgres is the dialect of PostgreSQL >= 12.
var Postgres = Dialect{
	Name:       "postgres",
	Dollar:     true,
	Blob:       "BYTEA",
	ForUpdate:  " FOR UPDATE",
	SchemaLock: "SELECT pg_advisory_xact_lock(4300741)", // arbitrary key: "chatd schema"
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
