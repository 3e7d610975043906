package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// groupSchema holds groups (reference rest-api.md §3.7). The counters an
// edition bounds live in rows the changes lock: im_group_quota (one per app:
// groups at once, live rooms, the creation serial) and im_group_daily (the net
// increase of a UTC day); a group's member count is its member_num, and a
// user's groups are counted under the lock of the user's row (counted = 0 for
// live rooms, which do not count). Lock order, everywhere: users, then the
// group, then the app's quota row. Times are Unix milliseconds except
// join_time (Unix seconds, like muted_until and last_send).
const groupSchema = `
CREATE TABLE IF NOT EXISTS im_groups (
	app            BIGINT NOT NULL,
	group_id       TEXT NOT NULL,
	serial         BIGINT NOT NULL,
	type           TEXT NOT NULL,
	name           TEXT NOT NULL,
	introduction   TEXT NOT NULL,
	notification   TEXT NOT NULL,
	face_url       TEXT NOT NULL,
	owner          TEXT NOT NULL,
	max_members    BIGINT NOT NULL,
	apply_join     TEXT NOT NULL,
	invite_join    TEXT NOT NULL,
	mute_all       BOOLEAN NOT NULL,
	app_data       TEXT NOT NULL,
	support_topic  BOOLEAN NOT NULL,
	created_at     BIGINT NOT NULL,
	created_day    TEXT NOT NULL,
	info_seq       BIGINT NOT NULL,
	last_info_time BIGINT NOT NULL,
	member_num     BIGINT NOT NULL,
	PRIMARY KEY (app, group_id)
);
CREATE INDEX IF NOT EXISTS im_groups_by_serial ON im_groups (app, serial);
CREATE INDEX IF NOT EXISTS im_groups_by_type ON im_groups (app, type, serial);

CREATE TABLE IF NOT EXISTS im_group_members (
	app          BIGINT NOT NULL,
	group_id     TEXT NOT NULL,
	user_id      TEXT NOT NULL,
	role         TEXT NOT NULL,
	join_time    BIGINT NOT NULL,
	name_card    TEXT NOT NULL,
	msg_flag     TEXT NOT NULL,
	muted_until  BIGINT NOT NULL,
	app_data     TEXT NOT NULL,
	join_seq     BIGINT NOT NULL,
	read_seq     BIGINT NOT NULL,
	last_send    BIGINT NOT NULL,
	counted      BIGINT NOT NULL,
	PRIMARY KEY (app, group_id, user_id)
);
CREATE INDEX IF NOT EXISTS im_group_members_by_user ON im_group_members (app, user_id, counted);
CREATE INDEX IF NOT EXISTS im_group_members_by_join ON im_group_members (app, group_id, join_time, user_id);

CREATE TABLE IF NOT EXISTS im_group_quota (
	app        BIGINT NOT NULL PRIMARY KEY,
	serial     BIGINT NOT NULL,
	group_count BIGINT NOT NULL,
	live_rooms BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS im_group_daily (
	app BIGINT NOT NULL,
	day TEXT NOT NULL,
	net BIGINT NOT NULL,
	PRIMARY KEY (app, day)
);

CREATE TABLE IF NOT EXISTS im_group_requests (
	app      BIGINT NOT NULL,
	group_id TEXT NOT NULL,
	user_id  TEXT NOT NULL,
	kind     TEXT NOT NULL,
	operator TEXT NOT NULL,
	wording  TEXT NOT NULL,
	at       BIGINT NOT NULL,
	PRIMARY KEY (app, group_id, user_id, kind)
);
CREATE INDEX IF NOT EXISTS im_group_requests_by_user ON im_group_requests (app, user_id)`

func init() {
	extraSchemas = append(extraSchemas, groupSchema)
	for _, t := range []string{"im_groups", "im_group_members", "im_group_quota", "im_group_daily", "im_group_requests"} {
		appTables = append(appTables, struct{ table, col string }{t, "app"})
	}
	// A deleted user leaves every group (leaveAllGroups, run first, moves
	// ownership and fixes the counts) and its requests go.
	userTables = append(userTables, struct{ table, col string }{"im_group_members", "user_id"},
		struct{ table, col string }{"im_group_requests", "user_id"})
	userDeleteHooks = append(userDeleteHooks, leaveAllGroups)
}

const groupCols = `group_id, serial, type, name, introduction, notification, face_url, owner, max_members,
	apply_join, invite_join, mute_all, app_data, support_topic, created_at, info_seq, last_info_time, member_num`

func scanGroup(app int64) func(scanner) (store.Group, error) {
	return func(row scanner) (store.Group, error) {
		g := store.Group{App: app}
		var data string
		var created, last int64
		err := row.Scan(&g.GroupID, &g.Serial, &g.Type, &g.Name, &g.Introduction, &g.Notification, &g.FaceURL,
			&g.Owner, &g.MaxMemberNum, &g.ApplyJoinOption, &g.InviteJoinOption, &g.MuteAllMember, &data,
			&g.SupportTopic, &created, &g.InfoSeq, &last, &g.MemberNum)
		if err != nil {
			return g, err
		}
		g.CreatedAt, g.LastInfoTime = fromMs(created), fromMs(last)
		g.AppDefinedData, err = decodeProfile(data)
		return g, err
	}
}

func groupWrap(op string, err error) error {
	var lim *store.GroupLimitError
	if err == nil || isSentinel(err) || errors.As(err, &lim) {
		return err
	}
	return wrap(op, err)
}

func groupLimit(limit, user string) error {
	return &store.GroupLimitError{Limit: limit, User: user, Kind: errs.ErrLimit}
}

// lockQuota locks (creating it) the app's quota row and returns it.
func (s *Store) lockQuota(ctx context.Context, tx *sql.Tx, app int64) (serial, groups, live int64, err error) {
	if _, err = tx.ExecContext(ctx, s.q(`
		INSERT INTO im_group_quota (app, serial, group_count, live_rooms) VALUES (?, 0, 0, 0)
		ON CONFLICT (app) DO NOTHING`), app); err != nil {
		return
	}
	err = tx.QueryRowContext(ctx, s.q(`
		SELECT serial, group_count, live_rooms FROM im_group_quota WHERE app = ?`+s.d.forUpdate()), app).Scan(&serial, &groups, &live)
	return
}

// dailyNet returns the net increase of the app's day (locked by the quota row).
func (s *Store) dailyNet(ctx context.Context, tx *sql.Tx, app int64, day string) (int64, error) {
	var n int64
	err := tx.QueryRowContext(ctx, s.q(`SELECT net FROM im_group_daily WHERE app = ? AND day = ?`), app, day).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

func (s *Store) addDaily(ctx context.Context, tx *sql.Tx, app int64, day string, delta int64) error {
	_, err := tx.ExecContext(ctx, s.q(`
		INSERT INTO im_group_daily (app, day, net) VALUES (?, ?, ?)
		ON CONFLICT (app, day) DO UPDATE SET net = im_group_daily.net + excluded.net`), app, day, delta)
	return err
}

// joinedCount counts the user's groups that count against GroupsPerUser (the
// caller holds the user's row lock).
func (s *Store) joinedCount(ctx context.Context, tx *sql.Tx, app int64, user string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, s.q(`
		SELECT COUNT(*) FROM im_group_members WHERE app = ? AND user_id = ? AND counted = 1`), app, user).Scan(&n)
	return n, err
}

func memberBound(t string) bool { return t != store.GroupAVChatRoom && t != store.GroupCommunity }

func countedFlag(t string) int {
	if t == store.GroupAVChatRoom {
		return 0
	}
	return 1
}

// CreateGroup implements store.Groups.
func (s *Store) CreateGroup(ctx context.Context, g store.Group, members []store.GroupMember, q store.GroupQuota) (store.Group, error) {
	ms := make([]store.GroupMember, 0, len(members)+1)
	seen := map[string]bool{}
	if g.Owner != "" {
		ms = append(ms, store.GroupMember{UserID: g.Owner, Role: store.RoleOwner, JoinTime: g.CreatedAt})
		seen[g.Owner] = true
	}
	for _, m := range members {
		if seen[m.UserID] {
			continue
		}
		seen[m.UserID] = true
		if m.Role == "" || m.Role == store.RoleOwner {
			m.Role = store.RoleMember
		}
		ms = append(ms, m)
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.liveApp(ctx, tx, g.App, s.d.forShare(), false); err != nil {
			return err
		}
		if err := s.lockUsers(ctx, tx, g.App, ids...); err != nil {
			return err
		}
		var one int
		err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM im_groups WHERE app = ? AND group_id = ?`), g.App, g.GroupID).Scan(&one)
		if err == nil {
			return errs.ErrExists
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		serial, groups, live, err := s.lockQuota(ctx, tx, g.App)
		if err != nil {
			return err
		}
		if g.Type == store.GroupAVChatRoom {
			if q.LiveRooms > 0 && live >= int64(q.LiveRooms) {
				return groupLimit(store.LimitLiveRooms, "")
			}
		} else if q.GroupsPerApp > 0 && groups >= int64(q.GroupsPerApp) {
			return groupLimit(store.LimitGroups, "")
		}
		if q.DailyNet > 0 {
			n, err := s.dailyNet(ctx, tx, g.App, q.Day)
			if err != nil {
				return err
			}
			if n >= int64(q.DailyNet) {
				return groupLimit(store.LimitDaily, "")
			}
		}
		if memberBound(g.Type) && q.MembersPerGroup > 0 && len(ms) > q.MembersPerGroup {
			return groupLimit(store.LimitMembers, "")
		}
		if g.MaxMemberNum > 0 && len(ms) > g.MaxMemberNum {
			return groupLimit(store.LimitFull, "")
		}
		if q.GroupsPerUser > 0 && countedFlag(g.Type) == 1 {
			for _, id := range ids {
				n, err := s.joinedCount(ctx, tx, g.App, id)
				if err != nil {
					return err
				}
				if n >= q.GroupsPerUser {
					return groupLimit(store.LimitJoined, id)
				}
			}
		}
		g.Serial = serial + 1
		dg, dl := int64(1), int64(0)
		if g.Type == store.GroupAVChatRoom {
			dg, dl = 0, 1
		}
		if _, err := tx.ExecContext(ctx, s.q(`
			UPDATE im_group_quota SET serial = ?, group_count = group_count + ?, live_rooms = live_rooms + ? WHERE app = ?`),
			g.Serial, dg, dl, g.App); err != nil {
			return err
		}
		if err := s.addDaily(ctx, tx, g.App, q.Day, 1); err != nil {
			return err
		}
		g.InfoSeq, g.MemberNum = 1, len(ms)
		if g.LastInfoTime.IsZero() {
			g.LastInfoTime = g.CreatedAt
		}
		if _, err := tx.ExecContext(ctx, s.q(`
			INSERT INTO im_groups (app, `+groupCols+`, created_day)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			g.App, g.GroupID, g.Serial, g.Type, g.Name, g.Introduction, g.Notification, g.FaceURL, g.Owner,
			g.MaxMemberNum, g.ApplyJoinOption, g.InviteJoinOption, g.MuteAllMember, encodeCustom(g.AppDefinedData),
			g.SupportTopic, toMs(g.CreatedAt), g.InfoSeq, toMs(g.LastInfoTime), g.MemberNum, q.Day); err != nil {
			return err
		}
		for _, m := range ms {
			if err := s.insertMember(ctx, tx, g.App, g.GroupID, g.Type, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.Group{}, groupWrap("create group", err)
	}
	return s.GetGroup(ctx, g.App, g.GroupID)
}

// GetGroup implements store.Groups.
func (s *Store) GetGroup(ctx context.Context, app int64, groupID string) (store.Group, error) {
	g, err := scanGroup(app)(s.r.QueryRowContext(ctx, s.q(`SELECT `+groupCols+` FROM im_groups WHERE app = ? AND group_id = ?`), app, groupID))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Group{}, errs.ErrNotFound
	}
	return g, groupWrap("get group", err)
}

// GetGroups implements store.Groups.
func (s *Store) GetGroups(ctx context.Context, app int64, ids []string) (map[string]store.Group, error) {
	out := make(map[string]store.Group, len(ids))
	for _, part := range chunksOf(ids, maxInList) {
		args := []any{app}
		for _, id := range part {
			args = append(args, id)
		}
		gs, err := queryAll(ctx, s.r, s.q(`SELECT `+groupCols+` FROM im_groups WHERE app = ? AND group_id IN (`+placeholders(len(part))+`)`),
			"get groups", scanGroup(app), args...)
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			out[g.GroupID] = g
		}
	}
	return out, nil
}

// ListGroups implements store.Groups.
func (s *Store) ListGroups(ctx context.Context, app int64, groupType string, after int64, limit int) ([]store.Group, int, error) {
	where, args := `app = ?`, []any{app}
	if groupType != "" {
		where, args = where+` AND type = ?`, append(args, groupType)
	}
	var total int
	if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM im_groups WHERE `+where), args...).Scan(&total); err != nil {
		return nil, 0, wrap("list groups", err)
	}
	gs, err := queryAll(ctx, s.r, s.q(`SELECT `+groupCols+` FROM im_groups WHERE `+where+` AND serial > ? ORDER BY serial LIMIT ?`),
		"list groups", scanGroup(app), append(args, after, limit)...)
	return gs, total, err
}

// lockGroup locks the group's row and returns its type and owner.
func (s *Store) lockGroup(ctx context.Context, tx *sql.Tx, app int64, groupID string) (store.Group, error) {
	g, err := scanGroup(app)(tx.QueryRowContext(ctx, s.q(`SELECT `+groupCols+` FROM im_groups WHERE app = ? AND group_id = ?`+s.d.forUpdate()), app, groupID))
	if errors.Is(err, sql.ErrNoRows) {
		return g, errs.ErrNotFound
	}
	return g, err
}

// UpdateGroup implements store.Groups.
func (s *Store) UpdateGroup(ctx context.Context, app int64, groupID string, u store.GroupUpdate) (store.Group, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		g, err := s.lockGroup(ctx, tx, app, groupID)
		if err != nil {
			return err
		}
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&g.Name, u.Name)
		set(&g.Introduction, u.Introduction)
		set(&g.Notification, u.Notification)
		set(&g.FaceURL, u.FaceURL)
		set(&g.ApplyJoinOption, u.ApplyJoinOption)
		set(&g.InviteJoinOption, u.InviteJoinOption)
		if u.MaxMemberNum != nil {
			g.MaxMemberNum = *u.MaxMemberNum
		}
		if u.MuteAllMember != nil {
			g.MuteAllMember = *u.MuteAllMember
		}
		mergeData(g.AppDefinedData, u.AppDefinedData)
		_, err = tx.ExecContext(ctx, s.q(`
			UPDATE im_groups SET name = ?, introduction = ?, notification = ?, face_url = ?, max_members = ?,
				apply_join = ?, invite_join = ?, mute_all = ?, app_data = ?, info_seq = info_seq + 1, last_info_time = ?
			WHERE app = ? AND group_id = ?`),
			g.Name, g.Introduction, g.Notification, g.FaceURL, g.MaxMemberNum, g.ApplyJoinOption, g.InviteJoinOption,
			g.MuteAllMember, encodeCustom(g.AppDefinedData), toMs(u.At), app, groupID)
		return err
	})
	if err != nil {
		return store.Group{}, groupWrap("update group", err)
	}
	return s.GetGroup(ctx, app, groupID)
}

// mergeData merges upd into m: an empty value deletes the key.
func mergeData(m, upd map[string]string) {
	for k, v := range upd {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
}

// ChangeGroupOwner implements store.Groups.
func (s *Store) ChangeGroupOwner(ctx context.Context, app int64, groupID, newOwner string, at time.Time) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		g, err := s.lockGroup(ctx, tx, app, groupID)
		if err != nil {
			return err
		}
		return s.setOwner(ctx, tx, app, g, newOwner, at)
	})
	return groupWrap("change group owner", err)
}

// setOwner makes newOwner (a member) the owner of the locked group g.
func (s *Store) setOwner(ctx context.Context, tx *sql.Tx, app int64, g store.Group, newOwner string, at time.Time) error {
	res, err := tx.ExecContext(ctx, s.q(`
		UPDATE im_group_members SET role = ? WHERE app = ? AND group_id = ? AND user_id = ?`),
		store.RoleOwner, app, g.GroupID, newOwner)
	if err := affected("set owner", res, err, errs.ErrNotFound); err != nil {
		return err
	}
	if g.Owner != "" && g.Owner != newOwner {
		if _, err := tx.ExecContext(ctx, s.q(`
			UPDATE im_group_members SET role = ? WHERE app = ? AND group_id = ? AND user_id = ?`),
			store.RoleMember, app, g.GroupID, g.Owner); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, s.q(`
		UPDATE im_groups SET owner = ?, info_seq = info_seq + 1, last_info_time = ? WHERE app = ? AND group_id = ?`),
		newOwner, toMs(at), app, g.GroupID)
	return err
}

// DeleteGroup implements store.Groups.
func (s *Store) DeleteGroup(ctx context.Context, app int64, groupID string, q store.GroupQuota) ([]string, error) {
	var members []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		g, err := s.lockGroup(ctx, tx, app, groupID)
		if err != nil {
			return err
		}
		if members, err = s.memberIDs(ctx, tx, app, groupID); err != nil {
			return err
		}
		return s.disband(ctx, tx, app, g, q.Day)
	})
	return members, groupWrap("delete group", err)
}

// disband deletes the locked group g, its members and requests, its topics,
// attributes and counters (groupOwnedTables), and gives back
// its counts (the day's net increase when it was created on day).
func (s *Store) disband(ctx context.Context, tx *sql.Tx, app int64, g store.Group, day string) error {
	var createdDay string
	if err := tx.QueryRowContext(ctx, s.q(`SELECT created_day FROM im_groups WHERE app = ? AND group_id = ?`), app, g.GroupID).Scan(&createdDay); err != nil {
		return err
	}
	for _, t := range slices.Concat(groupOwnedTables, []string{"im_group_members", "im_group_requests", "im_groups"}) {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM `+t+` WHERE app = ? AND group_id = ?`), app, g.GroupID); err != nil {
			return err
		}
	}
	if _, _, _, err := s.lockQuota(ctx, tx, app); err != nil {
		return err
	}
	dg, dl := int64(1), int64(0)
	if g.Type == store.GroupAVChatRoom {
		dg, dl = 0, 1
	}
	if _, err := tx.ExecContext(ctx, s.q(`
		UPDATE im_group_quota SET group_count = group_count - ?, live_rooms = live_rooms - ? WHERE app = ?`), dg, dl, app); err != nil {
		return err
	}
	if day != "" && createdDay == day {
		return s.addDaily(ctx, tx, app, day, -1)
	}
	return nil
}

func (s *Store) memberIDs(ctx context.Context, db queryer, app int64, groupID string) ([]string, error) {
	return queryAll(ctx, db, s.q(`SELECT user_id FROM im_group_members WHERE app = ? AND group_id = ? ORDER BY user_id`),
		"group member ids", func(r scanner) (string, error) {
			var id string
			return id, r.Scan(&id)
		}, app, groupID)
}
