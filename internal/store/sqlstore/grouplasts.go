package sqlstore

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/store"
)

// GroupLasts implements store.GroupLog: one query per maxInList groups (on
// PostgreSQL the GroupIds travel as one array).
func (s *Store) GroupLasts(ctx context.Context, app int64, groups []string) (map[string]store.GroupLast, error) {
	out := make(map[string]store.GroupLast, len(groups))
	for _, part := range chunksOf(groups, maxInList) {
		query, args := `SELECT grp, last_seq, last_msg_time FROM group_heads WHERE app = ? AND grp IN (`+placeholders(len(part))+`)`, []any{app}
		if s.d.Pipeline { // PostgreSQL: one array parameter, one statement text whatever the count
			query, args = `SELECT grp, last_seq, last_msg_time FROM group_heads WHERE app = ? AND grp = ANY(?::text[])`, []any{app, part}
		} else {
			for _, g := range part {
				args = append(args, g)
			}
		}
		rows, err := s.r.QueryContext(ctx, s.q(query), args...)
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

// maxUnreadGroups bounds the groups of one GroupUnreads query.
const maxUnreadGroups = 100

// GroupUnreads implements store.GroupLog: per 100 groups, one COUNT over the
// untargeted messages and one read of the targeted ones' targets, each
// group's range (read seq, last] cut to its newest MaxGroupUnreadScan seqs
// by a join with its head.
func (s *Store) GroupUnreads(ctx context.Context, app int64, member string, reads map[string]int64, notBefore, now time.Time) (map[string]int, error) {
	groups := make([]string, 0, len(reads))
	for g := range reads {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	out := make(map[string]int, len(reads))
	for _, part := range chunksOf(groups, maxUnreadGroups) {
		args := []any{app}
		conds := make([]string, len(part))
		for i, g := range part {
			conds[i] = `(m.grp = ? AND m.seq > ?)`
			args = append(args, g, reads[g])
		}
		args = append(append(args, member, store.MaxGroupUnreadScan), liveArgs(notBefore, now)...)
		where := ` FROM group_msgs m JOIN group_heads h ON h.app = m.app AND h.grp = m.grp
			WHERE m.app = ? AND (` + strings.Join(conds, ` OR `) + `) AND kind = 'msg' AND recalled = 0 AND from_user <> ?
			AND m.seq > h.last_seq - ?` + liveCond
		rows, err := s.r.QueryContext(ctx, s.q(`SELECT m.grp, COUNT(*)`+where+` AND targets = '' GROUP BY m.grp`), args...)
		if err != nil {
			return nil, wrap("group unreads", err)
		}
		for rows.Next() {
			var g string
			var n int
			if err := rows.Scan(&g, &n); err != nil {
				rows.Close()
				return nil, wrap("group unreads", err)
			}
			out[g] = n
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, wrap("group unreads", err)
		}
		rows, err = s.r.QueryContext(ctx, s.q(`SELECT m.grp, targets`+where+` AND targets <> ''`), args...)
		if err != nil {
			return nil, wrap("group unreads", err)
		}
		for rows.Next() {
			var g, targets string
			if err := rows.Scan(&g, &targets); err != nil {
				rows.Close()
				return nil, wrap("group unreads", err)
			}
			e := store.Entry{From: "\x00"}
			if err := json.Unmarshal([]byte(targets), &e.Targets); err != nil {
				rows.Close()
				return nil, wrap("group unreads", err)
			}
			if e.VisibleTo(member) {
				out[g]++
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, wrap("group unreads", err)
		}
	}
	return out, nil
}
