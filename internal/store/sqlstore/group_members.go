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

const memberCols = `user_id, role, join_time, name_card, msg_flag, muted_until, app_data, join_seq, read_seq, last_send`

func scanMember(app int64, groupID string) func(scanner) (store.GroupMember, error) {
	return func(row scanner) (store.GroupMember, error) {
		m := store.GroupMember{App: app, GroupID: groupID}
		var join int64
		var data string
		err := row.Scan(&m.UserID, &m.Role, &join, &m.NameCard, &m.MsgFlag, &m.MutedUntil, &data, &m.JoinSeq, &m.ReadSeq, &m.LastSendTime)
		if err != nil {
			return m, err
		}
		if join != 0 {
			m.JoinTime = time.Unix(join, 0).UTC()
		}
		m.AppMemberDefinedData, err = decodeProfile(data)
		return m, err
	}
}

func (s *Store) insertMember(ctx context.Context, tx *sql.Tx, app int64, groupID, groupType string, m store.GroupMember) error {
	if m.MsgFlag == "" {
		m.MsgFlag = "AcceptAndNotify"
	}
	var join int64
	if !m.JoinTime.IsZero() {
		join = m.JoinTime.Unix()
	}
	_, err := tx.ExecContext(ctx, s.q(`
		INSERT INTO im_group_members (app, group_id, `+memberCols+`, counted)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		app, groupID, m.UserID, m.Role, join, m.NameCard, m.MsgFlag, m.MutedUntil, encodeCustom(m.AppMemberDefinedData),
		m.JoinSeq, m.ReadSeq, m.LastSendTime, countedFlag(groupType))
	return err
}

// AddGroupMembers implements store.Groups. The users' rows are locked first
// (their group counts hold until commit), then the group's. Its applied
// items (store.WithCallbacksFor) are the UserIDs it added.
func (s *Store) AddGroupMembers(ctx context.Context, app int64, groupID string, ms []store.GroupMember, q store.GroupQuota) ([]error, error) {
	out := make([]error, len(ms))
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	err := s.inTxApplied(ctx, func(tx *sql.Tx) ([]string, error) {
		if err := s.liveApp(ctx, tx, app, s.d.forShare(), false); err != nil {
			return nil, err
		}
		missing, err := s.lockUserRows(ctx, tx, app, ids, nil)
		if err != nil {
			return nil, err
		}
		g, err := s.lockGroup(ctx, tx, app, groupID)
		if err != nil {
			return nil, err
		}
		existing, err := s.groupMembersIn(ctx, tx, app, groupID, ids)
		if err != nil {
			return nil, err
		}
		n := g.MemberNum
		var added []string
		for i, m := range ms {
			switch {
			case missing[m.UserID]:
				out[i] = errs.ErrNotFound
				continue
			case existing[m.UserID]:
				out[i] = errs.ErrExists
				continue
			case memberBound(g.Type) && q.MembersPerGroup > 0 && n >= q.MembersPerGroup:
				out[i] = groupLimit(store.LimitMembers, "")
				continue
			case g.MaxMemberNum > 0 && n >= g.MaxMemberNum:
				out[i] = groupLimit(store.LimitFull, "")
				continue
			}
			if q.GroupsPerUser > 0 && countedFlag(g.Type) == 1 {
				c, err := s.joinedCount(ctx, tx, app, m.UserID)
				if err != nil {
					return nil, err
				}
				if c >= q.GroupsPerUser {
					out[i] = groupLimit(store.LimitJoined, m.UserID)
					continue
				}
			}
			if m.Role == "" || m.Role == store.RoleOwner {
				m.Role = store.RoleMember
			}
			if err := s.insertMember(ctx, tx, app, groupID, g.Type, m); err != nil {
				return nil, err
			}
			existing[m.UserID] = true
			added = append(added, m.UserID)
			n++
		}
		if len(added) == 0 {
			return nil, nil
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE im_groups SET member_num = ? WHERE app = ? AND group_id = ?`), n, app, groupID); err != nil {
			return nil, err
		}
		for _, part := range chunksOf(added, maxInList) {
			args := []any{app, groupID}
			for _, id := range part {
				args = append(args, id)
			}
			if _, err := tx.ExecContext(ctx, s.q(`
				DELETE FROM im_group_requests WHERE app = ? AND group_id = ? AND user_id IN (`+placeholders(len(part))+`)`), args...); err != nil {
				return nil, err
			}
		}
		return added, nil
	})
	if err != nil {
		return nil, groupWrap("add group members", err)
	}
	return out, nil
}

// groupMembersIn answers which of users are members (through db).
func (s *Store) groupMembersIn(ctx context.Context, db queryer, app int64, groupID string, users []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, part := range chunksOf(users, maxInList) {
		args := []any{app, groupID}
		for _, id := range part {
			args = append(args, id)
		}
		ids, err := queryAll(ctx, db, s.q(`SELECT user_id FROM im_group_members WHERE app = ? AND group_id = ? AND user_id IN (`+placeholders(len(part))+`)`),
			"group members", func(r scanner) (string, error) {
				var id string
				return id, r.Scan(&id)
			}, args...)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			out[id] = true
		}
	}
	return out, nil
}

// RemoveGroupMembers implements store.Groups. Its applied items
// (store.WithCallbacksFor) are the GroupID when it disbanded the group.
func (s *Store) RemoveGroupMembers(ctx context.Context, app int64, groupID string, users []string, q store.GroupQuota) (store.GroupRemoval, error) {
	var r store.GroupRemoval
	err := s.inTxApplied(ctx, func(tx *sql.Tx) ([]string, error) {
		g, err := s.lockGroup(ctx, tx, app, groupID)
		if err != nil {
			return nil, err
		}
		if r, err = s.removeMembers(ctx, tx, app, g, users, q.Day, q.At); err != nil || !r.Disbanded {
			return nil, err
		}
		return []string{groupID}, nil
	})
	if err != nil {
		return store.GroupRemoval{}, groupWrap("remove group members", err)
	}
	return r, nil
}

// removeMembers removes users from the locked group g, passing ownership on or
// disbanding it when its owner leaves.
func (s *Store) removeMembers(ctx context.Context, tx *sql.Tx, app int64, g store.Group, users []string, day string, at time.Time) (store.GroupRemoval, error) {
	var r store.GroupRemoval
	users = slices.Clone(users)
	slices.Sort(users)
	users = slices.Compact(users)
	for _, u := range users {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM im_group_members WHERE app = ? AND group_id = ? AND user_id = ?`), app, g.GroupID, u)
		if err != nil {
			return r, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return r, err
		} else if n > 0 {
			r.Removed = append(r.Removed, u)
		}
	}
	if len(r.Removed) == 0 {
		return r, nil
	}
	left := g.MemberNum - len(r.Removed)
	ownerLeft := g.Owner != "" && slices.Contains(r.Removed, g.Owner)
	if ownerLeft && left <= 0 {
		r.Disbanded = true
		return r, s.disband(ctx, tx, app, g, day)
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE im_groups SET member_num = ? WHERE app = ? AND group_id = ?`), left, app, g.GroupID); err != nil {
		return r, err
	}
	if !ownerLeft {
		return r, nil
	}
	err := tx.QueryRowContext(ctx, s.q(`
		SELECT user_id FROM im_group_members WHERE app = ? AND group_id = ?
		ORDER BY CASE role WHEN 'Admin' THEN 0 ELSE 1 END, join_time, user_id LIMIT 1`), app, g.GroupID).Scan(&r.NewOwner)
	if err != nil {
		return r, err
	}
	g.Owner = "" // gone already
	return r, s.setOwner(ctx, tx, app, g, r.NewOwner, at)
}

// leaveAllGroups is the user-deletion hook: the users leave every group they
// are in (ownership passes on; a group left empty by its owner is disbanded,
// without freeing a day's net increase). Their rows are already locked by the
// deletion; the groups are locked in GroupID order.
func leaveAllGroups(ctx context.Context, s *Store, tx *sql.Tx, app int64, ids []string) error {
	args := []any{app}
	for _, id := range ids {
		args = append(args, id)
	}
	groups, err := queryAll(ctx, tx, s.q(`
		SELECT DISTINCT group_id FROM im_group_members WHERE app = ? AND user_id IN (`+placeholders(len(ids))+`) ORDER BY group_id`),
		"groups of deleted users", func(r scanner) (string, error) {
			var id string
			return id, r.Scan(&id)
		}, args...)
	if err != nil {
		return err
	}
	for _, gid := range groups {
		g, err := s.lockGroup(ctx, tx, app, gid)
		if errors.Is(err, errs.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if _, err := s.removeMembers(ctx, tx, app, g, ids, "", time.Time{}); err != nil {
			return err
		}
	}
	return nil
}

// GetGroupMember implements store.Groups.
func (s *Store) GetGroupMember(ctx context.Context, app int64, groupID, userID string) (store.GroupMember, error) {
	m, err := scanMember(app, groupID)(s.r.QueryRowContext(ctx, s.q(`
		SELECT `+memberCols+` FROM im_group_members WHERE app = ? AND group_id = ? AND user_id = ?`), app, groupID, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return store.GroupMember{}, errs.ErrNotFound
	}
	return m, groupWrap("get group member", err)
}

// GroupMembers implements store.Groups.
func (s *Store) GroupMembers(ctx context.Context, app int64, groupID string, users []string) (map[string]store.GroupMember, error) {
	if _, err := s.GetGroup(ctx, app, groupID); err != nil {
		return nil, err
	}
	out := map[string]store.GroupMember{}
	for _, part := range chunksOf(users, maxInList) {
		args := []any{app, groupID}
		for _, id := range part {
			args = append(args, id)
		}
		ms, err := queryAll(ctx, s.r, s.q(`SELECT `+memberCols+` FROM im_group_members WHERE app = ? AND group_id = ? AND user_id IN (`+placeholders(len(part))+`)`),
			"group members", scanMember(app, groupID), args...)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			out[m.UserID] = m
		}
	}
	return out, nil
}

// GroupMemberIDs implements store.Groups.
func (s *Store) GroupMemberIDs(ctx context.Context, app int64, groupID string) ([]string, error) {
	if _, err := s.GetGroup(ctx, app, groupID); err != nil {
		return nil, err
	}
	ids, err := s.memberIDs(ctx, s.r, app, groupID)
	if ids == nil && err == nil {
		ids = []string{}
	}
	return ids, err
}

// ListGroupMembers implements store.Groups.
func (s *Store) ListGroupMembers(ctx context.Context, app int64, groupID string, p store.MemberPage) ([]store.GroupMember, int, error) {
	if _, err := s.GetGroup(ctx, app, groupID); err != nil {
		return nil, 0, err
	}
	where, args := `app = ? AND group_id = ?`, []any{app, groupID}
	if len(p.Roles) > 0 {
		where += ` AND role IN (` + placeholders(len(p.Roles)) + `)`
		for _, r := range p.Roles {
			args = append(args, r)
		}
	}
	var total int
	if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM im_group_members WHERE `+where), args...).Scan(&total); err != nil {
		return nil, 0, wrap("list group members", err)
	}
	var q string
	if p.ByUserID || p.After != "" {
		q = `SELECT ` + memberCols + ` FROM im_group_members WHERE ` + where + ` AND user_id > ? ORDER BY user_id LIMIT ?`
		args = append(args, p.After, p.Limit)
	} else {
		q = `SELECT ` + memberCols + ` FROM im_group_members WHERE ` + where + ` ORDER BY join_time, user_id LIMIT ? OFFSET ?`
		args = append(args, p.Limit, p.Offset)
	}
	ms, err := queryAll(ctx, s.r, s.q(q), "list group members", scanMember(app, groupID), args...)
	return ms, total, err
}

// UpdateGroupMember implements store.Groups.
func (s *Store) UpdateGroupMember(ctx context.Context, app int64, groupID, userID string, u store.GroupMemberUpdate) (store.GroupMember, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		m, err := scanMember(app, groupID)(tx.QueryRowContext(ctx, s.q(`
			SELECT `+memberCols+` FROM im_group_members WHERE app = ? AND group_id = ? AND user_id = ?`+s.d.forUpdate()), app, groupID, userID))
		if errors.Is(err, sql.ErrNoRows) {
			return errs.ErrNotFound
		}
		if err != nil {
			return err
		}
		if u.Role != nil {
			m.Role = *u.Role
		}
		if u.NameCard != nil {
			m.NameCard = *u.NameCard
		}
		if u.MsgFlag != nil {
			m.MsgFlag = *u.MsgFlag
		}
		if u.MutedUntil != nil {
			m.MutedUntil = *u.MutedUntil
		}
		mergeData(m.AppMemberDefinedData, u.AppMemberDefinedData)
		_, err = tx.ExecContext(ctx, s.q(`
			UPDATE im_group_members SET role = ?, name_card = ?, msg_flag = ?, muted_until = ?, app_data = ?
			WHERE app = ? AND group_id = ? AND user_id = ?`),
			m.Role, m.NameCard, m.MsgFlag, m.MutedUntil, encodeCustom(m.AppMemberDefinedData), app, groupID, userID)
		return err
	})
	if err != nil {
		return store.GroupMember{}, groupWrap("update group member", err)
	}
	return s.GetGroupMember(ctx, app, groupID, userID)
}

// SetGroupReadSeq implements store.Groups.
func (s *Store) SetGroupReadSeq(ctx context.Context, app int64, groupID, userID string, seq int64) error {
	res, err := s.wexec(ctx, s.q(`
		UPDATE im_group_members SET read_seq = CASE WHEN read_seq < ? THEN ? ELSE read_seq END
		WHERE app = ? AND group_id = ? AND user_id = ?`), seq, seq, app, groupID, userID)
	return affected("set group read seq", res, err, errs.ErrNotFound)
}

// UserGroups implements store.Groups.
func (s *Store) UserGroups(ctx context.Context, app int64, userID string) ([]store.GroupMember, error) {
	return queryAll(ctx, s.r, s.q(`
		SELECT group_id, `+memberCols+` FROM im_group_members WHERE app = ? AND user_id = ? ORDER BY group_id`),
		"user groups", func(r scanner) (store.GroupMember, error) {
			var gid string
			m, err := scanMember(app, "")(prefixScanner{r, &gid})
			m.GroupID = gid
			return m, err
		}, app, userID)
}

// prefixScanner scans a leading column into first, the rest as the wrapped scanner's caller asks.
type prefixScanner struct {
	r     scanner
	first *string
}

func (p prefixScanner) Scan(dest ...any) error { return p.r.Scan(append([]any{p.first}, dest...)...) }

// PutGroupRequest implements store.Groups.
func (s *Store) PutGroupRequest(ctx context.Context, app int64, r store.GroupRequest) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.shareUser(ctx, tx, app, r.UserID); err != nil {
			return err
		}
		var one int
		err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM im_groups WHERE app = ? AND group_id = ?`+s.d.forShare()), app, r.GroupID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`
			INSERT INTO im_group_requests (app, group_id, user_id, kind, operator, wording, at) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (app, group_id, user_id, kind) DO UPDATE SET operator = excluded.operator, wording = excluded.wording, at = excluded.at`),
			app, r.GroupID, r.UserID, r.Kind, r.Operator, r.Wording, toMs(r.At))
		return err
	})
	return groupWrap("put group request", err)
}

const groupRequestCols = `group_id, user_id, kind, operator, wording, at`

func scanGroupRequest(r scanner) (store.GroupRequest, error) {
	var q store.GroupRequest
	var at int64
	err := r.Scan(&q.GroupID, &q.UserID, &q.Kind, &q.Operator, &q.Wording, &at)
	q.At = fromMs(at)
	return q, err
}

// GroupRequests implements store.Groups.
func (s *Store) GroupRequests(ctx context.Context, app int64, groupID string) ([]store.GroupRequest, error) {
	return queryAll(ctx, s.r, s.q(`SELECT `+groupRequestCols+` FROM im_group_requests WHERE app = ? AND group_id = ? ORDER BY at, user_id`),
		"group requests", scanGroupRequest, app, groupID)
}

// TakeGroupRequest implements store.Groups.
func (s *Store) TakeGroupRequest(ctx context.Context, app int64, groupID, userID, kind string) (store.GroupRequest, error) {
	r, err := scanGroupRequest(s.w.QueryRowContext(ctx, s.q(`
		DELETE FROM im_group_requests WHERE app = ? AND group_id = ? AND user_id = ? AND kind = ? RETURNING `+groupRequestCols),
		app, groupID, userID, kind))
	if errors.Is(err, sql.ErrNoRows) {
		return store.GroupRequest{}, errs.ErrNotFound
	}
	return r, groupWrap("take group request", err)
}
