package pebblestore_test

import (
	"path/filepath"
	"testing"

	"github.com/chatd/chatd/internal/store/pebblestore"
	"github.com/chatd/chatd/internal/store/storetest"
)

// BenchmarkApplySend measures durable one-to-one sends as the group-commit writer
// issues them, as the SQLite benchmark of the same name does: one Apply (one
// Pebble batch, one fsync) per batch of 256 sends between random pairs of 1000
// users, each with a ClientID. One op is one batch.
func BenchmarkApplySend(b *testing.B) {
	s, err := pebblestore.Open(filepath.Join(b.TempDir(), "messages"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchApplySend(b, s, 256)
}

// BenchmarkApplyGroupSend: storetest.BenchApplyGroupSend, batches of 256.
func BenchmarkApplyGroupSend(b *testing.B) {
	s, err := pebblestore.Open(filepath.Join(b.TempDir(), "messages"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchApplyGroupSend(b, s, 256)
}

// BenchmarkApplySendCallback: BenchmarkApplySend with an after-event per
// message written to the callback outbox in the same batch.
func BenchmarkApplySendCallback(b *testing.B) {
	s, err := pebblestore.Open(filepath.Join(b.TempDir(), "messages"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchApplySendCallback(b, s, 256)
}
