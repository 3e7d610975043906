package im

import (
	"context"
	"errors"
	"slices"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
)

// Results of add_group_member and import_group_member (reference §3.7).
const (
	AddFailed  = 0 // not added (not imported, the user's group limit, the group full)
	AddAdded   = 1
	AddAlready = 2 // already a member
	AddPending = 3 // invited: waits for the invitee's consent (inviteNeedsConsent)
)

// MemberResult is one account's Result.
type MemberResult struct {
	UserID string
	Result int
}

// AddGroupMembers adds users (add_group_member, at most 300: 10005): per
// account Result 1 added, 2 already a member, 3 invited (the group's
// InviteJoinOption is NeedPermission, not a Work group), 0 failed. When no one
// could be added because the group is full, the whole call fails with the
// limit's code (10014, 10038); another's group limit fails only that account.
// silence sends no join tip. Refusals: 10010, 10007 (live rooms: users join
// them), 10004, 10005.
func (s *Service) AddGroupMembers(ctx context.Context, app store.App, a Actor, groupID string, users []string, silence bool) ([]MemberResult, error) {
	if len(users) == 0 {
		return nil, groupBad("MemberList is empty")
	}
	users, err := uniqueUsers("MemberList", users, MaxAddMembers)
	if err != nil {
		return nil, err
	}
	g, _, err := s.loadForAction(ctx, app, a, groupID, actInvite)
	if err != nil {
		return nil, err
	}
	have, err := s.imported(ctx, app.SDKAppID, users...)
	if err != nil {
		return nil, err
	}
	existing, err := s.membersAmong(ctx, app.SDKAppID, groupID, users)
	if err != nil {
		return nil, err
	}
	refused, err := s.beforeInvite(ctx, app, a, g, users, have, existing)
	if err != nil {
		return nil, err
	}
	out := make([]MemberResult, len(users))
	var add []store.GroupMember
	var invited []string
	idx := map[string]int{}
	now := s.clock.Now()
	for i, u := range users {
		out[i].UserID = u
		switch _, member := existing[u]; {
		case !have[u]:
			out[i].Result = AddFailed
		case member:
			out[i].Result = AddAlready
		case refused[u]: // by the app's Group.CallbackBeforeInviteJoinGroup
			out[i].Result = AddFailed
		case inviteNeedsConsent(g):
			err := s.store.PutGroupRequest(ctx, app.SDKAppID, store.GroupRequest{GroupID: groupID, UserID: u,
				Kind: store.GroupInvite, Operator: a.User, At: now})
			if err != nil && !errors.Is(err, errs.ErrNotFound) {
				return nil, storageErr(err)
			}
			if err == nil {
				out[i].Result = AddPending
				invited = append(invited, u)
			}
		default:
			idx[u] = i
			add = append(add, store.GroupMember{UserID: u, Role: store.RoleMember, JoinTime: now, JoinSeq: s.joinSeq(ctx, app.SDKAppID, g)})
		}
	}
	operator := a.User
	if operator == "" {
		operator = app.AdminUser
	}
	s.noticeInvitation(app.SDKAppID, groupID, operator, invited)
	if len(add) == 0 {
		return out, nil
	}
	names := make([]string, len(add))
	for j, m := range add {
		names[j] = m.UserID
	}
	ch := s.groupMembers.begin(groupKey{app.SDKAppID, groupID}, names)
	res, err := s.store.AddGroupMembers(s.withJoin(ctx, app, g, operator, joinInvited), app.SDKAppID, groupID, add, s.groupQuota(app))
	if err != nil {
		s.abortMembers(ch)
		if errors.Is(err, errs.ErrNotFound) {
			return nil, groupNotFound(groupID)
		}
		return nil, storageErr(err)
	}
	var added, members []string // added by this call; members: members now
	var full error
	for j, m := range add {
		i := idx[m.UserID]
		switch e := res[j]; {
		case e == nil:
			out[i].Result = AddAdded
			added = append(added, m.UserID)
			members = append(members, m.UserID)
		case errors.Is(e, errs.ErrExists):
			out[i].Result = AddAlready
			members = append(members, m.UserID)
		default:
			var l *store.GroupLimitError
			if errors.As(e, &l) && (l.Limit == store.LimitFull || l.Limit == store.LimitMembers) && full == nil {
				full, _ = s.groupLimitErr(app, e)
			}
			out[i].Result = AddFailed
		}
	}
	s.endMembersTold(ch, members, nil, added) // the member list in place (group_membercache.go)
	if len(added) == 0 && full != nil {
		return nil, full
	}
	if len(added) > 0 && !silence {
		s.tipMembers(ctx, app.SDKAppID, groupID, GroupTip{Type: TipJoin, Operator: a.User, Users: added}, nil)
	}
	return out, nil
}

// DeleteGroupMembers removes users (delete_group_member, at most 500: 10005).
// Every one must be a member (10019) and none the owner (10007); the actor
// must be allowed to kick each (§4). silence sends no tip. reason goes in the
// tip.
func (s *Service) DeleteGroupMembers(ctx context.Context, app store.App, a Actor, groupID string, users []string, silence bool, reason string) error {
	if len(users) == 0 {
		return groupBad("MemberToDel_Account is empty")
	}
	users, err := uniqueUsers("MemberToDel_Account", users, MaxDeleteMembers)
	if err != nil {
		return err
	}
	if err := checkGroupText("Reason", reason, MaxDeleteReasonBytes); err != nil {
		return err
	}
	g, me, err := s.loadForAction(ctx, app, a, groupID, "")
	if err != nil {
		return err
	}
	ms, err := s.requireMembers(ctx, app.SDKAppID, groupID, users)
	if err != nil {
		return err
	}
	for _, u := range users {
		m := ms[u]
		if m.Role == store.RoleOwner {
			return noPermission("the owner %q cannot be removed; change the owner or disband the group", u)
		}
		if err := groupAllow(g, a, me, actKick, &m); err != nil {
			return err
		}
	}
	ch := s.groupMembers.begin(groupKey{app.SDKAppID, groupID}, users)
	rctx := s.withExit(ctx, app, g, operatorOf(app, a), exitKicked, users)
	r, err := s.store.RemoveGroupMembers(rctx, app.SDKAppID, groupID, users, s.groupQuota(app))
	if err != nil || r.Disbanded {
		s.abortMembers(ch)
		if err == nil {
			s.groupChanged(app.SDKAppID, groupID) // the last member left: disbanded
		}
	} else {
		s.endMembers(ch, nil, r.Removed) // the member list in place (group_membercache.go)
	}
	if errors.Is(err, errs.ErrNotFound) {
		return groupNotFound(groupID)
	}
	if err != nil {
		return storageErr(err)
	}
	if len(r.Removed) > 0 {
		if !silence {
			tip := GroupTip{Type: TipKick, Operator: a.User, Users: r.Removed}
			if reason != "" {
				tip.Changed = map[string]string{"Reason": reason}
			}
			s.tipMembers(ctx, app.SDKAppID, groupID, tip, r.Removed)
		}
	}
	return nil
}

// MemberChange is modify_group_member_info: nil fields stay.
type MemberChange struct {
	Role, NameCard, MsgFlag *string
	MuteTime                *int64 // seconds; 0 lifts; 4294967295 for ever
	// MuteUntil is the end of the mute as a Unix second (the dobyte SDK's
	// ShutUpUntil): at or before now lifts it; 4294967295 for ever. MuteTime wins.
	MuteUntil            *int64
	AppMemberDefinedData []KeyValue
}

// ModifyGroupMember changes a member (modify_group_member_info). Refusals:
// 10010; 10019 not a member; 10004 bad fields (Role on a group without admins,
// Role Owner); 10007 the owner's role, or the actor may not.
func (s *Service) ModifyGroupMember(ctx context.Context, app store.App, a Actor, groupID, user string, c MemberChange) error {
	if err := checkGroupUser("Member_Account", user); err != nil {
		return err
	}
	g, me, err := s.loadForAction(ctx, app, a, groupID, "")
	if err != nil {
		return err
	}
	m, err := s.store.GetGroupMember(ctx, app.SDKAppID, groupID, user)
	if errors.Is(err, errs.ErrNotFound) {
		return notMember(user, groupID)
	}
	if err != nil {
		return storageErr(err)
	}
	var u store.GroupMemberUpdate
	var tips []GroupTip
	if c.Role != nil {
		role, err := checkRole(g.Type, *c.Role, false)
		if err != nil {
			return err
		}
		if m.Role == store.RoleOwner {
			return noPermission("the owner's role changes with change_group_owner only")
		}
		if err := groupAllow(g, a, me, actSetRole, &m); err != nil {
			return err
		}
		if role != m.Role {
			u.Role = &role
			tips = append(tips, GroupTip{Type: TipRole, Operator: a.User, Users: []string{user}, Role: role})
		}
	}
	if c.NameCard != nil || c.MsgFlag != nil || c.AppMemberDefinedData != nil {
		if c.MsgFlag != nil && !a.Admin && a.User != user {
			return noPermission("only %q sets its own MsgFlag", user)
		}
		if err := groupAllow(g, a, me, actSetMember, &m); err != nil {
			return err
		}
	}
	if c.NameCard != nil {
		if err := checkGroupText("NameCard", *c.NameCard, MaxNameCardBytes); err != nil {
			return err
		}
		u.NameCard = c.NameCard
	}
	if c.MsgFlag != nil {
		if !msgFlags[*c.MsgFlag] {
			return groupBad("MsgFlag %q must be AcceptAndNotify, AcceptNotNotify or Discard", *c.MsgFlag)
		}
		u.MsgFlag = c.MsgFlag
	}
	if c.AppMemberDefinedData != nil {
		data, err := checkAppData("AppMemberDefinedData", c.AppMemberDefinedData, true)
		if err != nil {
			return err
		}
		merged := maps(m.AppMemberDefinedData)
		mergeKV(merged, data)
		if len(merged) > MaxAppDataKeys {
			return groupBad("AppMemberDefinedData would have %d keys; at most %d", len(merged), MaxAppDataKeys)
		}
		u.AppMemberDefinedData = data
	}
	if c.MuteTime == nil && c.MuteUntil != nil {
		sec := max(*c.MuteUntil-s.clock.Now().Unix(), 0)
		if *c.MuteUntil == store.MutedForever {
			sec = store.MutedForever
		}
		c.MuteTime = &sec
	}
	if c.MuteTime != nil {
		if err := checkMuteTime(*c.MuteTime); err != nil {
			return err
		}
		if err := groupAllow(g, a, me, actMute, &m); err != nil {
			return err
		}
		until := mutedUntil(*c.MuteTime, s.clock.Now().Unix())
		u.MutedUntil = &until
		tips = append(tips, GroupTip{Type: TipMute, Operator: a.User, Users: []string{user}, MuteTime: *c.MuteTime})
	}
	if _, err := s.store.UpdateGroupMember(ctx, app.SDKAppID, groupID, user, u); err != nil {
		if errors.Is(err, errs.ErrNotFound) {
			return notMember(user, groupID)
		}
		return storageErr(err)
	}
	for _, t := range tips {
		s.tipMembers(ctx, app.SDKAppID, groupID, t, nil)
	}
	return nil
}

// MemberQuery is a page of get_group_member_info.
type MemberQuery struct {
	Roles  []string // MemberRoleFilter: Owner, Admin, Member; none = all
	Limit  int      // 1..200; 0 = every member (a Community: 200 a page)
	Offset int
	Next   string // a Community's cursor ("" first)
}

// GroupMembersPage answers get_group_member_info: the page, MemberNum (all
// members matching the role filter, on every page) and, for a Community, the
// Next cursor ("" at the end). Refusals: 10010, 10007 (a user not a member),
// 10004 (Limit over 200, bad role, negative Offset).
func (s *Service) GroupMembersPage(ctx context.Context, app store.App, a Actor, groupID string, q MemberQuery) ([]store.GroupMember, int, string, error) {
	if q.Limit < 0 || q.Limit > MaxMemberPage {
		return nil, 0, "", groupBad("Limit %d must be 0 to %d", q.Limit, MaxMemberPage)
	}
	if q.Offset < 0 {
		return nil, 0, "", groupBad("Offset %d is negative", q.Offset)
	}
	for _, r := range q.Roles {
		if r != store.RoleOwner && r != store.RoleAdmin && r != store.RoleMember {
			return nil, 0, "", groupBad("MemberRoleFilter %q must be Owner, Admin or Member", r)
		}
	}
	if len(q.Next) > 2*MaxUserIDLen {
		return nil, 0, "", groupBad("Next is not a cursor")
	}
	g, me, err := s.loadForAction(ctx, app, a, groupID, "")
	if err != nil {
		return nil, 0, "", err
	}
	if !a.Admin && me == nil {
		return nil, 0, "", noPermission("%q is not a member of group %q", a.User, groupID)
	}
	p := store.MemberPage{Roles: q.Roles, Offset: q.Offset, Limit: q.Limit}
	community := g.Type == gate.GroupCommunity
	if community {
		p.ByUserID, p.After, p.Offset = true, q.Next, 0
		if p.Limit == 0 {
			p.Limit = DefaultMemberPage
		}
	} else if p.Limit == 0 {
		p.Limit = MaxGroupInfoMembers
	}
	limit := p.Limit
	p.Limit++
	ms, total, err := s.store.ListGroupMembers(ctx, app.SDKAppID, groupID, p)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, 0, "", groupNotFound(groupID)
	}
	if err != nil {
		return nil, 0, "", storageErr(err)
	}
	next := ""
	if len(ms) > limit {
		ms = ms[:limit]
		if community {
			next = ms[limit-1].UserID
		}
	}
	return ms, total, next, nil
}

// SpecifiedMembers answers get_specified_group_member_info: the members among
// users (at most 50: 10005), in the order asked; non-members are left out.
func (s *Service) SpecifiedMembers(ctx context.Context, app store.App, a Actor, groupID string, users []string) ([]store.GroupMember, error) {
	if len(users) == 0 {
		return nil, groupBad("Member_List_Account is empty")
	}
	users, err := uniqueUsers("Member_List_Account", users, MaxSpecifiedMembers)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.loadForAction(ctx, app, a, groupID, ""); err != nil {
		return nil, err
	}
	ms, err := s.membersAmong(ctx, app.SDKAppID, groupID, users)
	if err != nil {
		return nil, err
	}
	out := make([]store.GroupMember, 0, len(ms))
	for _, u := range users {
		if m, ok := ms[u]; ok {
			out = append(out, m)
		}
	}
	return out, nil
}

// JoinedQuery is get_joined_group_list's selection.
type JoinedQuery struct {
	Type         string // "" every type (old names accepted)
	Limit        int    // 0..5000; 0 = all
	Offset       int
	WithHuge     bool // include live rooms (AVChatRoom)
	WithNoActive bool // include Work groups with no message yet
}

// JoinedGroup is one group of a user, with the user's membership.
type JoinedGroup struct {
	Group       store.Group
	Member      store.GroupMember
	NextMsgSeq  int64
	LastMsgTime int64
}

// JoinedGroups answers get_joined_group_list: the user's groups (oldest
// first), selected by q, and the total before Limit/Offset. Refusals: 10019
// (not imported), 10004.
func (s *Service) JoinedGroups(ctx context.Context, app store.App, user string, q JoinedQuery) ([]JoinedGroup, int, error) {
	if err := s.gate.Active(app); err != nil {
		return nil, 0, err
	}
	if err := checkGroupUser("Member_Account", user); err != nil {
		return nil, 0, err
	}
	if q.Limit < 0 || q.Limit > MaxJoinedPage {
		return nil, 0, groupBad("Limit %d must be 0 to %d", q.Limit, MaxJoinedPage)
	}
	if q.Offset < 0 {
		return nil, 0, groupBad("Offset %d is negative", q.Offset)
	}
	if q.Type != "" {
		t, err := GroupType(q.Type)
		if err != nil {
			return nil, 0, err
		}
		q.Type = t
	}
	have, err := s.imported(ctx, app.SDKAppID, user)
	if err != nil {
		return nil, 0, err
	}
	if !have[user] {
		return nil, 0, notImported(user)
	}
	ms, err := s.store.UserGroups(ctx, app.SDKAppID, user)
	if err != nil {
		return nil, 0, storageErr(err)
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.GroupID
	}
	gs, err := s.store.GetGroups(ctx, app.SDKAppID, ids)
	if err != nil {
		return nil, 0, storageErr(err)
	}
	var all []JoinedGroup
	for _, m := range ms {
		g, ok := gs[m.GroupID]
		if !ok || (q.Type != "" && g.Type != q.Type) {
			continue
		}
		if g.Type == gate.GroupAVChatRoom && !q.WithHuge {
			continue
		}
		last := s.groupLastMsgTime(ctx, app.SDKAppID, g.GroupID)
		if g.Type == gate.GroupWork && last == 0 && !q.WithNoActive {
			continue
		}
		all = append(all, JoinedGroup{Group: g, Member: m, LastMsgTime: last, NextMsgSeq: s.groupNextMsgSeq(ctx, app.SDKAppID, g.GroupID)})
	}
	slices.SortFunc(all, func(x, y JoinedGroup) int {
		if c := x.Member.JoinTime.Compare(y.Member.JoinTime); c != 0 {
			return c
		}
		return int(x.Group.Serial - y.Group.Serial)
	})
	total := len(all)
	if q.Offset >= len(all) {
		return []JoinedGroup{}, total, nil
	}
	all = all[q.Offset:]
	if q.Limit > 0 && len(all) > q.Limit {
		all = all[:q.Limit]
	}
	return all, total, nil
}

// RoleNotMember is get_role_in_group's Role of a non-member.
const RoleNotMember = "NotMember"

// RolesInGroup answers get_role_in_group: each user's role, RoleNotMember for
// non-members (at most 500 users: 10005).
func (s *Service) RolesInGroup(ctx context.Context, app store.App, groupID string, users []string) ([]MemberRole, error) {
	if len(users) == 0 {
		return nil, groupBad("User_Account is empty")
	}
	users, err := uniqueUsers("User_Account", users, MaxRoleQueryAccounts)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.loadForAction(ctx, app, AdminActor, groupID, ""); err != nil {
		return nil, err
	}
	ms, err := s.membersAmong(ctx, app.SDKAppID, groupID, users)
	if err != nil {
		return nil, err
	}
	out := make([]MemberRole, len(users))
	for i, u := range users {
		out[i] = MemberRole{UserID: u, Role: RoleNotMember}
		if m, ok := ms[u]; ok {
			out[i].Role = m.Role
		}
	}
	return out, nil
}

// MemberRole is one account of get_role_in_group.
type MemberRole struct {
	UserID string
	Role   string
}

// ForbidSend mutes members for muteTime seconds (forbid_send_msg; 0 lifts,
// 4294967295 for ever). Every account must be a member (10019); at most 500
// (10005). Refusals: 10010, 10007, 10004.
func (s *Service) ForbidSend(ctx context.Context, app store.App, a Actor, groupID string, users []string, muteTime int64) error {
	if len(users) == 0 {
		return groupBad("Members_Account is empty")
	}
	users, err := uniqueUsers("Members_Account", users, MaxForbidAccounts)
	if err != nil {
		return err
	}
	if err := checkMuteTime(muteTime); err != nil {
		return err
	}
	g, me, err := s.loadForAction(ctx, app, a, groupID, "")
	if err != nil {
		return err
	}
	ms, err := s.requireMembers(ctx, app.SDKAppID, groupID, users)
	if err != nil {
		return err
	}
	for _, u := range users {
		m := ms[u]
		if err := groupAllow(g, a, me, actMute, &m); err != nil {
			return err
		}
	}
	until := mutedUntil(muteTime, s.clock.Now().Unix())
	var done []string
	for _, u := range users {
		if _, err := s.store.UpdateGroupMember(ctx, app.SDKAppID, groupID, u, store.GroupMemberUpdate{MutedUntil: &until}); err != nil {
			if errors.Is(err, errs.ErrNotFound) {
				continue // left meanwhile
			}
			return storageErr(err)
		}
		done = append(done, u)
	}
	if len(done) > 0 {
		s.tipMembers(ctx, app.SDKAppID, groupID, GroupTip{Type: TipMute, Operator: a.User, Users: done, MuteTime: muteTime}, nil)
	}
	return nil
}

// MutedMembers answers get_group_muted_account: the members muted now, with
// MutedUntil (4294967295 for ever), by UserID.
func (s *Service) MutedMembers(ctx context.Context, app store.App, groupID string) ([]store.GroupMember, error) {
	g, _, err := s.loadForAction(ctx, app, AdminActor, groupID, "")
	if err != nil {
		return nil, err
	}
	now := s.clock.Now().Unix()
	var out []store.GroupMember
	after := ""
	for range g.MemberNum/1000 + 2 {
		ms, _, err := s.store.ListGroupMembers(ctx, app.SDKAppID, groupID, store.MemberPage{ByUserID: true, After: after, Limit: 1000})
		if errors.Is(err, errs.ErrNotFound) {
			return nil, groupNotFound(groupID)
		}
		if err != nil {
			return nil, storageErr(err)
		}
		for _, m := range ms {
			if m.MutedUntil > now {
				out = append(out, m)
			}
		}
		if len(ms) < 1000 {
			break
		}
		after = ms[len(ms)-1].UserID
	}
	return out, nil
}

// ImportGroupMembers imports members with their JoinTime (import_group_member,
// at most 300: 10005): per account Result 1 imported, 2 already a member, 0
// failed. Not for live rooms (10007). Role Admin where the type has admins.
func (s *Service) ImportGroupMembers(ctx context.Context, app store.App, groupID string, members []MemberSpec) ([]MemberResult, error) {
	if len(members) == 0 {
		return nil, groupBad("MemberList is empty")
	}
	if len(members) > MaxAddMembers {
		return nil, errs.New(errs.GroupTooManyAccounts, "MemberList has %d members; at most %d", len(members), MaxAddMembers)
	}
	g, _, err := s.loadForAction(ctx, app, AdminActor, groupID, "")
	if err != nil {
		return nil, err
	}
	if g.Type == gate.GroupAVChatRoom {
		return nil, noPermission("members of a live room cannot be imported")
	}
	now := s.clock.Now().Unix()
	var add []store.GroupMember
	seen := map[string]bool{}
	for _, m := range members {
		if err := checkGroupUser("Member_Account", m.UserID); err != nil {
			return nil, err
		}
		role, err := checkRole(g.Type, m.Role, false)
		if err != nil {
			return nil, err
		}
		if m.JoinTime < 0 || m.JoinTime > now {
			return nil, groupBad("JoinTime %d is not a past Unix time", m.JoinTime)
		}
		if m.UnreadMsgNum < 0 {
			return nil, groupBad("UnreadMsgNum %d is negative", m.UnreadMsgNum)
		}
		if seen[m.UserID] {
			continue
		}
		seen[m.UserID] = true
		jt := m.JoinTime
		if jt == 0 {
			jt = now
		}
		gm := store.GroupMember{UserID: m.UserID, Role: role, JoinTime: unixTime(jt), JoinSeq: s.joinSeq(ctx, app.SDKAppID, g)}
		// UnreadMsgNum: the read position that leaves that many of the log's
		// messages unread (fewer when the log has fewer); the member may read
		// those.
		if gm.ReadSeq, err = s.readSeqForUnread(ctx, app, g.GroupID, m.UserID, 0, int(min(m.UnreadMsgNum, store.MaxGroupUnreadScan))); err != nil {
			return nil, err
		}
		gm.JoinSeq = min(gm.JoinSeq, gm.ReadSeq+1)
		add = append(add, gm)
	}
	res, err := s.store.AddGroupMembers(ctx, app.SDKAppID, groupID, add, s.groupQuota(app))
	if errors.Is(err, errs.ErrNotFound) {
		return nil, groupNotFound(groupID)
	}
	if err != nil {
		return nil, storageErr(err)
	}
	out := make([]MemberResult, len(add))
	var full error
	n := 0
	for i, m := range add {
		out[i].UserID = m.UserID
		switch e := res[i]; {
		case e == nil:
			out[i].Result = AddAdded
			n++
		case errors.Is(e, errs.ErrExists):
			out[i].Result = AddAlready
		default:
			var l *store.GroupLimitError
			if errors.As(e, &l) && (l.Limit == store.LimitFull || l.Limit == store.LimitMembers) && full == nil {
				full, _ = s.groupLimitErr(app, e)
			}
		}
	}
	if n == 0 && full != nil {
		return nil, full
	}
	if n > 0 {
		added := make([]string, 0, n)
		for i := range out {
			if out[i].Result == AddAdded {
				added = append(added, out[i].UserID)
			}
		}
		s.membersAdded(app.SDKAppID, groupID, added)
	}
	return out, nil
}

// requireMembers returns the members among users of the group, keyed by
// UserID: 10010 when the group does not exist, 10019 naming the first of
// users that is not a member.
func (s *Service) requireMembers(ctx context.Context, app int64, groupID string, users []string) (map[string]store.GroupMember, error) {
	ms, err := s.membersAmong(ctx, app, groupID, users)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if _, ok := ms[u]; !ok {
			return nil, notMember(u, groupID)
		}
	}
	return ms, nil
}

// membersAmong returns the members among users of the group, keyed by
// UserID (non-members left out): 10010 when the group does not exist.
func (s *Service) membersAmong(ctx context.Context, app int64, groupID string, users []string) (map[string]store.GroupMember, error) {
	ms, err := s.store.GroupMembers(ctx, app, groupID, users)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, groupNotFound(groupID)
	}
	if err != nil {
		return nil, storageErr(err)
	}
	return ms, nil
}
