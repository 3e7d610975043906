package embedded

import (
	"context"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// Group logs are the message engine's (store.GroupLog).

func (s *Store) GroupSync(ctx context.Context, app int64, group string, after int64, limit int, notBefore, now time.Time) ([]store.Entry, error) {
	return s.msgs.GroupSync(ctx, app, group, after, limit, notBefore, now)
}

func (s *Store) GroupLast(ctx context.Context, app int64, group string) (store.GroupLast, error) {
	return s.msgs.GroupLast(ctx, app, group)
}

func (s *Store) GroupHistory(ctx context.Context, app int64, group string, from int64, limit int, notBefore, now time.Time) ([]store.Entry, error) {
	return s.msgs.GroupHistory(ctx, app, group, from, limit, notBefore, now)
}

func (s *Store) GroupUnread(ctx context.Context, app int64, group, member string, readSeq int64, notBefore, now time.Time) (int, error) {
	return s.msgs.GroupUnread(ctx, app, group, member, readSeq, notBefore, now)
}

func (s *Store) DeleteGroupMsgsBySender(ctx context.Context, app int64, group, sender string) (int64, error) {
	return s.msgs.DeleteGroupMsgsBySender(ctx, app, group, sender)
}

func (s *Store) DeleteGroupLog(ctx context.Context, app int64, group string) error {
	return s.msgs.DeleteGroupLog(ctx, app, group)
}

func (s *Store) GroupLasts(ctx context.Context, app int64, groups []string) (map[string]store.GroupLast, error) {
	return s.msgs.GroupLasts(ctx, app, groups)
}

func (s *Store) GroupUnreads(ctx context.Context, app int64, member string, reads map[string]int64, notBefore, now time.Time) (map[string]int, error) {
	return s.msgs.GroupUnreads(ctx, app, member, reads, notBefore, now)
}
