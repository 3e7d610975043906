package embedded

import (
	"context"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// Conversations implements store.ConvIndex from the message engine.
func (s *Store) Conversations(ctx context.Context, app int64, owner string) ([]store.ConvLast, error) {
	return s.msgs.Conversations(ctx, app, owner)
}

// DeleteConversation implements store.ConvIndex: the engine's part (the last
// message and, with clearHistory, the owner's copies) first, then the state in
// SQLite (pin, marks, groups). A crash in between leaves the state of a
// conversation that is no longer listed, shown only with AssistFlags bit 1;
// deleting it again removes it.
func (s *Store) DeleteConversation(ctx context.Context, app int64, owner string, c store.ConvID, clearHistory bool, at time.Time) error {
	if err := s.msgs.DeleteConversation(ctx, app, owner, c, clearHistory, at); err != nil {
		return err
	}
	return s.Store.DeleteConversation(ctx, app, owner, c, false, at)
}
