package sqlstore

import (
	"context"

	"github.com/chatd/chatd/internal/store"
)

// GroupLasts implements store.GroupLog: one query per maxInList groups.
func (s *Store) GroupLasts(ctx context.Context, app int64, groups []string) (map[string]store.GroupLast, error) {
	out := make(map[string]store.GroupLast, len(groups))
	for _, part := range chunksOf(groups, maxInList) {
		args := []any{app}
		for _, g := range part {
			args = append(args, g)
		}
		rows, err := s.r.QueryContext(ctx, s.q(`SELECT grp, last_seq, last_msg_time FROM group_heads WHERE app = ? AND grp IN (`+placeholders(len(part))+`)`), args...)
		if err != nil {
			return nil, wrap("group lasts", err)
		}
		for rows.Next() {
			var g string
			var l store.GroupLast
			if err := rows.Scan(&g, &l.Seq, &l.MsgTime); err != nil {
				rows.Close()
				return nil, wrap("group lasts", err)
			}
			out[g] = l
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, wrap("group lasts", err)
		}
	}
	return out, nil
}
