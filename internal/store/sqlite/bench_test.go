package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/chatd/chatd/internal/store/sqlite"
	"github.com/chatd/chatd/internal/store/storetest"
)

// BenchmarkApplySend measures durable one-to-one sends as the group-commit writer
// issues them: one Apply (one transaction, one sync) per batch of 256 sends
// between random pairs of 1000 users, each with a ClientID. One op is one batch.
//
// Throughput falls as the logs grow, until each commit dirties a leaf page per
// touched owner in each per-owner index: compare -benchtime 100x (the default's
// usual N) with 400x.
func BenchmarkApplySend(b *testing.B) {
	s, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchApplySend(b, s, 256)
}

// BenchmarkApplyGroupSend: storetest.BenchApplyGroupSend, batches of 256.
func BenchmarkApplyGroupSend(b *testing.B) {
	s, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchApplyGroupSend(b, s, 256)
}
