// Package postgres opens chatd's scale-out store: PostgreSQL through pgx's
// database/sql driver, with the shared SQL of package sqlstore.
package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/chatd/chatd/internal/store/sqlstore"
)

// MaxConns bounds the connection pool of a store.
const MaxConns = 20

// Open connects to the database at url (a pgx connection string, e.g.
// postgres://user@host:5432/db?sslmode=disable; a search_path parameter selects
// the schema) and creates the schema if needed. Reads and writes share one pool:
// PostgreSQL serialises conflicting writers with row locks.
func Open(ctx context.Context, url string) (*sqlstore.Store, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db.SetMaxOpenConns(MaxConns)
	db.SetMaxIdleConns(MaxConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s, err := sqlstore.New(ctx, sqlstore.Postgres, db, db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}

// Describe names the database of a connection string for logs: host, port,
// database, user and search_path, never the password (which may sit in the
// URL's user info, a password= query parameter or a keyword=value pair) nor
// other parameters.
func Describe(url string) string {
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		return "(a connection string that does not parse)"
	}
	d := fmt.Sprintf("host=%s port=%d database=%s user=%s", cfg.Host, cfg.Port, cfg.Database, cfg.User)
	if sp := cfg.RuntimeParams["search_path"]; sp != "" {
		d += " search_path=" + sp
	}
	return d
}
