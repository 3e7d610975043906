package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// snsSchema holds the relationship chain (reference §3.5). Friend rows are one
// per direction; lists and custom are JSON (an array of list names, an object of
// Tag_SNS_Custom_* tags to JSON values). add_time is Unix seconds, other times
// Unix milliseconds.
const snsSchema = `
CREATE TABLE IF NOT EXISTS sns_friends (
	app         BIGINT NOT NULL,
	owner       TEXT NOT NULL,
	peer        TEXT NOT NULL,
	remark      TEXT NOT NULL,
	lists       TEXT NOT NULL,
	add_source  TEXT NOT NULL,
	add_wording TEXT NOT NULL,
	add_time    BIGINT NOT NULL,
	custom      TEXT NOT NULL,
	PRIMARY KEY (app, owner, peer)
);
CREATE INDEX IF NOT EXISTS sns_friends_by_time ON sns_friends (app, owner, add_time, peer);
CREATE INDEX IF NOT EXISTS sns_friends_by_peer ON sns_friends (app, peer);

CREATE TABLE IF NOT EXISTS sns_blocks (
	app   BIGINT NOT NULL,
	owner TEXT NOT NULL,
	peer  TEXT NOT NULL,
	at    BIGINT NOT NULL,
	PRIMARY KEY (app, owner, peer)
);
CREATE INDEX IF NOT EXISTS sns_blocks_by_time ON sns_blocks (app, owner, at, peer);
CREATE INDEX IF NOT EXISTS sns_blocks_by_peer ON sns_blocks (app, peer);

CREATE TABLE IF NOT EXISTS sns_lists (
	app   BIGINT NOT NULL,
	owner TEXT NOT NULL,
	name  TEXT NOT NULL,
	pos   BIGINT NOT NULL,
	PRIMARY KEY (app, owner, name)
);

CREATE TABLE IF NOT EXISTS sns_requests (
	app         BIGINT NOT NULL,
	from_user   TEXT NOT NULL,
	to_user     TEXT NOT NULL,
	add_type    TEXT NOT NULL,
	add_source  TEXT NOT NULL,
	add_wording TEXT NOT NULL,
	remark      TEXT NOT NULL,
	group_name  TEXT NOT NULL,
	status      TEXT NOT NULL,
	at          BIGINT NOT NULL,
	PRIMARY KEY (app, from_user, to_user)
);
CREATE INDEX IF NOT EXISTS sns_requests_to ON sns_requests (app, to_user, status, at);

CREATE TABLE IF NOT EXISTS app_settings (
	app   BIGINT NOT NULL,
	name  TEXT NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (app, name)
)`

// MaxFriendLists is the number of friend lists (Tag_SNS_IM_Group) one user may
// have (reference: 32); lists named by a friend row are created within it.
const MaxFriendLists = 32

func init() {
	extraSchemas = append(extraSchemas, snsSchema)
	appTables = append(appTables,
		struct{ table, col string }{"sns_friends", "app"}, struct{ table, col string }{"sns_blocks", "app"},
		struct{ table, col string }{"sns_lists", "app"}, struct{ table, col string }{"sns_requests", "app"},
		struct{ table, col string }{"app_settings", "app"})
	// A deleted account leaves every list and request it was in.
	for _, tc := range [][2]string{{"sns_friends", "owner"}, {"sns_friends", "peer"}, {"sns_blocks", "owner"}, {"sns_blocks", "peer"},
		{"sns_lists", "owner"}, {"sns_requests", "from_user"}, {"sns_requests", "to_user"}} {
		userTables = append(userTables, struct{ table, col string }{tc[0], tc[1]})
	}
}

// lockUsers locks the users' rows (in a stable order, so that two transactions
// never wait on each other) and fails with errs.ErrNotFound when one is missing.
// Transactions that count a user's relations lock the user first, so the count
// stays true until they commit (SQLite serialises writes instead).
func (s *Store) lockUsers(ctx context.Context, tx *sql.Tx, app int64, users ...string) error {
	missing, err := s.lockUserRows(ctx, tx, app, users, nil)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return errs.ErrNotFound
	}
	return nil
}

// lockUserRows locks, in one stable order (so that two transactions never wait
// on each other), the users' rows of update FOR UPDATE and those of share FOR
// SHARE (a user in both is locked FOR UPDATE), and answers which of them do not
// exist. Either lock makes DeleteUsers wait until the transaction commits, so a
// row the transaction writes naming a user it found is deleted with the user.
func (s *Store) lockUserRows(ctx context.Context, tx *sql.Tx, app int64, update, share []string) (map[string]bool, error) {
	excl := make(map[string]bool, len(update))
	for _, u := range update {
		excl[u] = true
	}
	us := append(slices.Clone(update), share...)
	slices.Sort(us)
	us = slices.Compact(us)
	var missing map[string]bool
	for _, u := range us {
		lock := s.d.forShare()
		if excl[u] {
			lock = s.d.forUpdate()
		}
		var id string
		err := tx.QueryRowContext(ctx, s.q(`SELECT user_id FROM users WHERE app = ? AND user_id = ?`+lock), app, u).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			if missing == nil {
				missing = map[string]bool{}
			}
			missing[u] = true
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	return missing, nil
}

// shareUser confirms that the user exists and keeps it until tx commits (see
// lockUserRows); errs.ErrNotFound when it does not exist.
func (s *Store) shareUser(ctx context.Context, tx *sql.Tx, app int64, user string) error {
	missing, err := s.lockUserRows(ctx, tx, app, nil, []string{user})
	if err != nil {
		return err
	}
	if missing[user] {
		return errs.ErrNotFound
	}
	return nil
}

func snsWrap(op string, err error) error {
	var full *store.ListFull
	if err == nil || isSentinel(err) || errors.As(err, &full) {
		return err
	}
	return wrap(op, err)
}

func encodeGroups(g []string) string {
	if g == nil {
		g = []string{}
	}
	b, _ := json.Marshal(g)
	return string(b)
}

func encodeCustom(c map[string]string) string {
	if c == nil {
		c = map[string]string{}
	}
	b, _ := json.Marshal(c)
	return string(b)
}

const friendCols = `owner, peer, remark, lists, add_source, add_wording, add_time, custom`

func scanFriend(row scanner) (store.Friend, error) {
	var f store.Friend
	var groups, custom string
	var addTime int64
	if err := row.Scan(&f.Owner, &f.Peer, &f.Remark, &groups, &f.AddSource, &f.AddWording, &addTime, &custom); err != nil {
		return f, err
	}
	if err := json.Unmarshal([]byte(groups), &f.Groups); err != nil {
		return f, err
	}
	if err := json.Unmarshal([]byte(custom), &f.Custom); err != nil {
		return f, err
	}
	f.AddTime = time.Unix(addTime, 0).UTC()
	return f, nil
}

// ensureLists creates owner's lists among names that do not exist, within the
// MaxFriendLists limit (errs.ErrLimit beyond it).
func (s *Store) ensureLists(ctx context.Context, tx *sql.Tx, app int64, owner string, names []string, max int) error {
	if len(names) == 0 {
		return nil
	}
	have, err := s.lists(ctx, tx, app, owner)
	if err != nil {
		return err
	}
	pos := len(have)
	for _, n := range names {
		if slices.Contains(have, n) {
			continue
		}
		if max > 0 && len(have) >= max {
			return errs.ErrLimit
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO sns_lists (app, owner, name, pos) VALUES (?, ?, ?, ?)`), app, owner, n, pos); err != nil {
			return err
		}
		have = append(have, n)
		pos++
	}
	return nil
}

func (s *Store) lists(ctx context.Context, db queryer, app int64, owner string) ([]string, error) {
	rows, err := db.QueryContext(ctx, s.q(`SELECT name FROM sns_lists WHERE app = ? AND owner = ? ORDER BY pos, name`), app, owner)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// AddFriends implements store.SNS.
func (s *Store) AddFriends(ctx context.Context, app int64, rows []store.Friend, max int) (int, error) {
	added := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		added = 0
		var users []string
		for _, f := range rows {
			users = append(users, f.Owner, f.Peer)
		}
		if err := s.lockUsers(ctx, tx, app, users...); err != nil {
			return err
		}
		for _, f := range rows {
			var one int
			err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM sns_friends WHERE app = ? AND owner = ? AND peer = ?`), app, f.Owner, f.Peer).Scan(&one)
			if err == nil {
				continue
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if max > 0 {
				var n int
				if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM sns_friends WHERE app = ? AND owner = ?`), app, f.Owner).Scan(&n); err != nil {
					return err
				}
				if n >= max {
					return &store.ListFull{User: f.Owner, Kind: errs.ErrLimit}
				}
			}
			if err := s.ensureLists(ctx, tx, app, f.Owner, f.Groups, MaxFriendLists); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO sns_friends (app, `+friendCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
				app, f.Owner, f.Peer, f.Remark, encodeGroups(f.Groups), f.AddSource, f.AddWording, f.AddTime.Unix(), encodeCustom(f.Custom)); err != nil {
				return err
			}
			added++
			for _, pair := range [][2]string{{f.Owner, f.Peer}, {f.Peer, f.Owner}} {
				if _, err := tx.ExecContext(ctx, s.q(`UPDATE sns_requests SET status = ? WHERE app = ? AND from_user = ? AND to_user = ? AND status = ?`),
					store.RequestAccepted, app, pair[0], pair[1], store.RequestPending); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, snsWrap("add friends", err)
	}
	return added, nil
}

// UpdateFriend implements store.SNS.
func (s *Store) UpdateFriend(ctx context.Context, app int64, f store.Friend) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockUsers(ctx, tx, app, f.Owner); err != nil { // the list count below
			return err
		}
		if err := s.ensureLists(ctx, tx, app, f.Owner, f.Groups, MaxFriendLists); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`
			UPDATE sns_friends SET remark = ?, lists = ?, add_source = ?, add_wording = ?, add_time = ?, custom = ?
			WHERE app = ? AND owner = ? AND peer = ?`),
			f.Remark, encodeGroups(f.Groups), f.AddSource, f.AddWording, f.AddTime.Unix(), encodeCustom(f.Custom), app, f.Owner, f.Peer)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.ErrNotFound
		}
		return nil
	})
	return snsWrap("update friend", err)
}

// DeleteFriends implements store.SNS.
func (s *Store) DeleteFriends(ctx context.Context, app int64, owner string, peers []string, both bool) (map[string]bool, error) {
	out := make(map[string]bool, len(peers))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, p := range peers {
			res, err := tx.ExecContext(ctx, s.q(`DELETE FROM sns_friends WHERE app = ? AND owner = ? AND peer = ?`), app, owner, p)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			out[p] = n > 0
			if both {
				if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM sns_friends WHERE app = ? AND owner = ? AND peer = ?`), app, p, owner); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, snsWrap("delete friends", err)
	}
	return out, nil
}

// DeleteAllFriends implements store.SNS.
func (s *Store) DeleteAllFriends(ctx context.Context, app int64, owner string, both bool) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if both {
			if _, err := tx.ExecContext(ctx, s.q(`
				DELETE FROM sns_friends WHERE app = ? AND peer = ? AND owner IN
					(SELECT peer FROM sns_friends WHERE app = ? AND owner = ?)`), app, owner, app, owner); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM sns_friends WHERE app = ? AND owner = ?`), app, owner)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, snsWrap("delete all friends", err)
	}
	return int(n), nil
}

// GetFriends implements store.SNS.
func (s *Store) GetFriends(ctx context.Context, app int64, owner string, peers []string) (map[string]store.Friend, error) {
	out := make(map[string]store.Friend, len(peers))
	for _, part := range chunksOf(peers, maxInList) {
		args := []any{app, owner}
		for _, p := range part {
			args = append(args, p)
		}
		rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+friendCols+` FROM sns_friends WHERE app = ? AND owner = ? AND peer IN (`+placeholders(len(part))+`)`), args...)
		if err != nil {
			return nil, wrap("get friends", err)
		}
		for rows.Next() {
			f, err := scanFriend(rows)
			if err != nil {
				rows.Close()
				return nil, wrap("get friends", err)
			}
			out[f.Peer] = f
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, wrap("get friends", err)
		}
	}
	return out, nil
}

// ListFriends implements store.SNS.
func (s *Store) ListFriends(ctx context.Context, app int64, owner string, offset, limit int) ([]store.Friend, int, error) {
	var total int
	if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM sns_friends WHERE app = ? AND owner = ?`), app, owner).Scan(&total); err != nil {
		return nil, 0, wrap("list friends", err)
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+friendCols+` FROM sns_friends WHERE app = ? AND owner = ?
		ORDER BY add_time, peer LIMIT ? OFFSET ?`), app, owner, limit, offset)
	if err != nil {
		return nil, 0, wrap("list friends", err)
	}
	defer rows.Close()
	out := []store.Friend{}
	for rows.Next() {
		f, err := scanFriend(rows)
		if err != nil {
			return nil, 0, wrap("list friends", err)
		}
		out = append(out, f)
	}
	return out, total, wrap("list friends", rows.Err())
}

// relations answers FriendRelations and BlockRelations from table.
func (s *Store) relations(ctx context.Context, table string, app int64, user string, others []string) (map[string]store.Relation, error) {
	out := make(map[string]store.Relation, len(others))
	for _, o := range others {
		out[o] = store.Relation{}
	}
	for _, part := range chunksOf(others, maxInList) {
		args := []any{app, user}
		for _, p := range part {
			args = append(args, p)
		}
		args = append(args, app, user)
		for _, p := range part {
			args = append(args, p)
		}
		in := placeholders(len(part))
		rows, err := s.r.QueryContext(ctx, s.q(`
			SELECT owner, peer FROM `+table+` WHERE app = ? AND owner = ? AND peer IN (`+in+`)
			UNION ALL
			SELECT owner, peer FROM `+table+` WHERE app = ? AND peer = ? AND owner IN (`+in+`)`), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var o, p string
			if err := rows.Scan(&o, &p); err != nil {
				rows.Close()
				return nil, err
			}
			if o == user {
				r := out[p]
				r.Mine = true
				out[p] = r
			}
			if p == user {
				r := out[o]
				r.Theirs = true
				out[o] = r
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// FriendRelations implements store.SNS.
func (s *Store) FriendRelations(ctx context.Context, app int64, user string, others []string) (map[string]store.Relation, error) {
	out, err := s.relations(ctx, "sns_friends", app, user, others)
	return out, wrap("friend relations", err)
}

// BlockRelations implements store.SNS.
func (s *Store) BlockRelations(ctx context.Context, app int64, user string, others []string) (map[string]store.Relation, error) {
	out, err := s.relations(ctx, "sns_blocks", app, user, others)
	return out, wrap("block relations", err)
}

// AddBlocks implements store.SNS. Its applied items (store.WithCallbacksFor)
// are the peers it blocked.
func (s *Store) AddBlocks(ctx context.Context, app int64, owner string, peers []string, at time.Time, max int) (map[string]error, error) {
	var out map[string]error
	err := s.inTxApplied(ctx, func(tx *sql.Tx) ([]string, error) {
		out = make(map[string]error, len(peers))
		var blocked []string
		// The owner for the count, the peers so that none is deleted before
		// this commits (DeleteUsers then deletes the new rows with it).
		missing, err := s.lockUserRows(ctx, tx, app, []string{owner}, peers)
		if err != nil {
			return nil, err
		}
		if missing[owner] {
			return nil, errs.ErrNotFound
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM sns_blocks WHERE app = ? AND owner = ?`), app, owner).Scan(&n); err != nil {
			return nil, err
		}
		for _, p := range peers {
			if _, done := out[p]; done {
				continue
			}
			if missing[p] {
				out[p] = errs.ErrNotFound
				continue
			}
			var one int
			err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM sns_blocks WHERE app = ? AND owner = ? AND peer = ?`), app, owner, p).Scan(&one)
			if err == nil {
				out[p] = errs.ErrExists
				continue
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return nil, err
			}
			if max > 0 && n >= max {
				out[p] = errs.ErrLimit
				continue
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO sns_blocks (app, owner, peer, at) VALUES (?, ?, ?, ?)`), app, owner, p, toMs(at)); err != nil {
				return nil, err
			}
			n++
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM sns_friends WHERE app = ? AND ((owner = ? AND peer = ?) OR (owner = ? AND peer = ?))`),
				app, owner, p, p, owner); err != nil {
				return nil, err
			}
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE sns_requests SET status = ? WHERE app = ? AND status = ?
				AND ((from_user = ? AND to_user = ?) OR (from_user = ? AND to_user = ?))`),
				store.RequestRefused, app, store.RequestPending, owner, p, p, owner); err != nil {
				return nil, err
			}
			out[p] = nil
			blocked = append(blocked, p)
		}
		return blocked, nil
	})
	if err != nil {
		return nil, snsWrap("add blocks", err)
	}
	return out, nil
}

// DeleteBlocks implements store.SNS.
func (s *Store) DeleteBlocks(ctx context.Context, app int64, owner string, peers []string) (map[string]bool, error) {
	out := make(map[string]bool, len(peers))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, p := range peers {
			res, err := tx.ExecContext(ctx, s.q(`DELETE FROM sns_blocks WHERE app = ? AND owner = ? AND peer = ?`), app, owner, p)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				out[p] = true
			} else if _, seen := out[p]; !seen {
				out[p] = false
			}
		}
		return nil
	})
	if err != nil {
		return nil, snsWrap("delete blocks", err)
	}
	return out, nil
}

// ListBlocks implements store.SNS.
func (s *Store) ListBlocks(ctx context.Context, app int64, owner string, offset, limit int) ([]store.Block, int, error) {
	var total int
	if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM sns_blocks WHERE app = ? AND owner = ?`), app, owner).Scan(&total); err != nil {
		return nil, 0, wrap("list blocks", err)
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT peer, at FROM sns_blocks WHERE app = ? AND owner = ?
		ORDER BY at, peer LIMIT ? OFFSET ?`), app, owner, limit, offset)
	if err != nil {
		return nil, 0, wrap("list blocks", err)
	}
	defer rows.Close()
	out := []store.Block{}
	for rows.Next() {
		b := store.Block{Owner: owner}
		var at int64
		if err := rows.Scan(&b.Peer, &at); err != nil {
			return nil, 0, wrap("list blocks", err)
		}
		b.At = fromMs(at)
		out = append(out, b)
	}
	return out, total, wrap("list blocks", rows.Err())
}

// AddFriendLists implements store.SNS.
func (s *Store) AddFriendLists(ctx context.Context, app int64, owner string, names, peers []string, max int) (map[string]bool, error) {
	var out map[string]bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		out = make(map[string]bool, len(peers))
		if err := s.lockUsers(ctx, tx, app, owner); err != nil {
			return err
		}
		if err := s.ensureLists(ctx, tx, app, owner, names, max); err != nil {
			return err
		}
		for _, p := range peers {
			var groups string
			err := tx.QueryRowContext(ctx, s.q(`SELECT lists FROM sns_friends WHERE app = ? AND owner = ? AND peer = ?`), app, owner, p).Scan(&groups)
			if errors.Is(err, sql.ErrNoRows) {
				out[p] = false
				continue
			}
			if err != nil {
				return err
			}
			var g []string
			if err := json.Unmarshal([]byte(groups), &g); err != nil {
				return err
			}
			for _, n := range names {
				if !slices.Contains(g, n) {
					g = append(g, n)
				}
			}
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE sns_friends SET lists = ? WHERE app = ? AND owner = ? AND peer = ?`), encodeGroups(g), app, owner, p); err != nil {
				return err
			}
			out[p] = true
		}
		return nil
	})
	if err != nil {
		return nil, snsWrap("add friend lists", err)
	}
	return out, nil
}

// DeleteFriendLists implements store.SNS.
func (s *Store) DeleteFriendLists(ctx context.Context, app int64, owner string, names []string) (map[string]bool, error) {
	out := make(map[string]bool, len(names))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, n := range names {
			res, err := tx.ExecContext(ctx, s.q(`DELETE FROM sns_lists WHERE app = ? AND owner = ? AND name = ?`), app, owner, n)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k > 0 {
				out[n] = true
			} else if _, seen := out[n]; !seen {
				out[n] = false
			}
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT peer, lists FROM sns_friends WHERE app = ? AND owner = ? AND lists <> '[]'`), app, owner)
		if err != nil {
			return err
		}
		type upd struct{ peer, groups string }
		var ups []upd
		for rows.Next() {
			var p, groups string
			if err := rows.Scan(&p, &groups); err != nil {
				rows.Close()
				return err
			}
			var g []string
			if err := json.Unmarshal([]byte(groups), &g); err != nil {
				rows.Close()
				return err
			}
			kept := slices.DeleteFunc(slices.Clone(g), func(x string) bool { return slices.Contains(names, x) })
			if len(kept) != len(g) {
				ups = append(ups, upd{p, encodeGroups(kept)})
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
		for _, u := range ups {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE sns_friends SET lists = ? WHERE app = ? AND owner = ? AND peer = ?`), u.groups, app, owner, u.peer); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, snsWrap("delete friend lists", err)
	}
	return out, nil
}

// FriendLists implements store.SNS.
func (s *Store) FriendLists(ctx context.Context, app int64, owner string) ([]string, error) {
	out, err := s.lists(ctx, s.r, app, owner)
	return out, wrap("friend lists", err)
}

const requestCols = `from_user, to_user, add_type, add_source, add_wording, remark, group_name, status, at`

func scanRequest(row scanner) (store.FriendRequest, error) {
	var r store.FriendRequest
	var at int64
	err := row.Scan(&r.From, &r.To, &r.AddType, &r.AddSource, &r.AddWording, &r.Remark, &r.GroupName, &r.Status, &at)
	r.At = fromMs(at)
	return r, err
}

// PutFriendRequest implements store.SNS.
func (s *Store) PutFriendRequest(ctx context.Context, app int64, r store.FriendRequest, max int) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockUsers(ctx, tx, app, r.From, r.To); err != nil {
			return err
		}
		var status string
		err := tx.QueryRowContext(ctx, s.q(`SELECT status FROM sns_requests WHERE app = ? AND from_user = ? AND to_user = ?`), app, r.From, r.To).Scan(&status)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if status != store.RequestPending && max > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM sns_requests WHERE app = ? AND to_user = ? AND status = ?`), app, r.To, store.RequestPending).Scan(&n); err != nil {
				return err
			}
			if n >= max {
				return &store.ListFull{User: r.To, Kind: errs.ErrLimit}
			}
		}
		_, err = tx.ExecContext(ctx, s.q(`
			INSERT INTO sns_requests (app, `+requestCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (app, from_user, to_user) DO UPDATE SET add_type = excluded.add_type,
				add_source = excluded.add_source, add_wording = excluded.add_wording, remark = excluded.remark,
				group_name = excluded.group_name, status = excluded.status, at = excluded.at`),
			app, r.From, r.To, r.AddType, r.AddSource, r.AddWording, r.Remark, r.GroupName, store.RequestPending, toMs(r.At))
		return err
	})
	return snsWrap("put friend request", err)
}

// FriendRequests implements store.SNS.
func (s *Store) FriendRequests(ctx context.Context, app int64, user string, incoming bool) ([]store.FriendRequest, error) {
	col := "from_user"
	if incoming {
		col = "to_user"
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+requestCols+` FROM sns_requests WHERE app = ? AND `+col+` = ? AND status = ?
		ORDER BY at, from_user, to_user`), app, user, store.RequestPending)
	if err != nil {
		return nil, wrap("friend requests", err)
	}
	defer rows.Close()
	out := []store.FriendRequest{}
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, wrap("friend requests", err)
		}
		out = append(out, r)
	}
	return out, wrap("friend requests", rows.Err())
}

// GetFriendRequest implements store.SNS.
func (s *Store) GetFriendRequest(ctx context.Context, app int64, from, to string) (store.FriendRequest, error) {
	r, err := scanRequest(s.r.QueryRowContext(ctx, s.q(`SELECT `+requestCols+` FROM sns_requests
		WHERE app = ? AND from_user = ? AND to_user = ? AND status = ?`), app, from, to, store.RequestPending))
	if errors.Is(err, sql.ErrNoRows) {
		return r, errs.ErrNotFound
	}
	return r, wrap("get friend request", err)
}

// DecideFriendRequest implements store.SNS.
func (s *Store) DecideFriendRequest(ctx context.Context, app int64, from, to, status string, at time.Time) error {
	res, err := s.wexec(ctx, s.q(`UPDATE sns_requests SET status = ?, at = ? WHERE app = ? AND from_user = ? AND to_user = ? AND status = ?`),
		status, toMs(at), app, from, to, store.RequestPending)
	if err != nil {
		return wrap("decide friend request", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.ErrNotFound
	}
	return nil
}

// SetAppSettings implements store.AppSettings.
func (s *Store) SetAppSettings(ctx context.Context, app int64, kv map[string]string) error {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.liveApp(ctx, tx, app, s.d.forShare(), false); err != nil {
			return err
		}
		for _, k := range keys {
			var err error
			if kv[k] == "" {
				_, err = tx.ExecContext(ctx, s.q(`DELETE FROM app_settings WHERE app = ? AND name = ?`), app, k)
			} else {
				_, err = tx.ExecContext(ctx, s.q(`INSERT INTO app_settings (app, name, value) VALUES (?, ?, ?)
					ON CONFLICT (app, name) DO UPDATE SET value = excluded.value`), app, k, kv[k])
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !isSentinel(err) {
		return wrap("set app settings", err)
	}
	return err
}

// GetAppSettings implements store.AppSettings.
func (s *Store) GetAppSettings(ctx context.Context, app int64) (map[string]string, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT name, value FROM app_settings WHERE app = ?`), app)
	if err != nil {
		return nil, wrap("app settings", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, wrap("app settings", err)
		}
		out[k] = v
	}
	return out, wrap("app settings", rows.Err())
}
