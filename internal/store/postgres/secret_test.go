package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/store/postgres"
)

// pw is the password of every connection string below; no log line or error
// may repeat it.
const pw = "s3cret-Pw"

// secretURLs carry the password in each place a connection string can hold one.
var secretURLs = map[string]string{
	"user info":       "postgres://chatd:" + pw + "@127.0.0.1:1/chatd?sslmode=disable",
	"query":           "postgres://chatd@127.0.0.1:1/chatd?sslmode=disable&password=" + pw,
	"keyword":         "host=127.0.0.1 port=1 user=chatd password=" + pw + " dbname=chatd sslmode=disable",
	"quoted keyword":  "host=127.0.0.1 port=1 user=chatd password='" + pw + "' dbname=chatd sslmode=disable",
	"unparseable url": "postgres://chatd:" + pw + "@127.0.0.1:notaport/chatd",
}

func TestDescribeHidesThePassword(t *testing.T) {
	for name, u := range secretURLs {
		d := postgres.Describe(u)
		if strings.Contains(d, pw) {
			t.Errorf("%s: %q", name, d)
		}
		if name != "unparseable url" && d != "host=127.0.0.1 port=1 database=chatd user=chatd" {
			t.Errorf("%s: %q does not name the database", name, d)
		}
	}
}

func TestOpenErrorsHideThePassword(t *testing.T) {
	for name, u := range secretURLs {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := postgres.Open(ctx, u)
		cancel()
		if err == nil {
			t.Fatalf("%s: opened a closed port", name)
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
