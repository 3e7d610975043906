package im

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
)

// Group management (reference rest-api.md §3.7, §4): creating, reading,
// changing and disbanding groups. Members are in group_members.go, the
// actions of users in group_user.go, the rules in group_rules.go.

// MaxCreateMembers bounds create_group's and import_group's MemberList.
const MaxCreateMembers = 500

// MaxGroupInfoMembers bounds the MemberList of one group in get_group_info.
const MaxGroupInfoMembers = 6000

// MemberSpec is one member of create_group, import_group or
// import_group_member.
type MemberSpec struct {
	UserID               string
	Role                 string
	AppMemberDefinedData []KeyValue
	JoinTime             int64 // import: Unix seconds; 0 now
	UnreadMsgNum         int64 // import_group_member: the member's unread messages (its read position)
}

// GroupSpec is a group to create (create_group) or import (import_group).
type GroupSpec struct {
	Owner            string
	Type             string // also the old names Private and ChatRoom
	GroupID          string // "" generates one
	Name             string
	Introduction     string
	Notification     string
	FaceURL          string
	MaxMemberCount   int // 0: the type's default
	ApplyJoinOption  string
	InviteJoinOption string
	AppDefinedData   []KeyValue
	Members          []MemberSpec
	SupportTopic     bool
	CreateTime       int64 // import_group: Unix seconds; 0 now
}

// groupQuota is the edition's group limits for a change happening now.
func (s *Service) groupQuota(app store.App) store.GroupQuota {
	q := s.gate.GroupQuota(app)
	now := s.clock.Now().UTC()
	return store.GroupQuota{MembersPerGroup: q.MembersPerGroup, GroupsPerUser: q.GroupsPerUser,
		GroupsPerApp: q.GroupsPerApp, LiveRooms: q.LiveRooms, DailyNet: q.DailyNet,
		Day: now.Format("2006-01-02"), At: now}
}

// groupLimitErr turns a store's *GroupLimitError into the reference's code:
// 10014 for the group's own MaxMemberNum, the gate's for the edition's limits.
func (s *Service) groupLimitErr(app store.App, err error) (error, bool) {
	var l *store.GroupLimitError
	if !errors.As(err, &l) {
		return nil, false
	}
	if l.Limit == store.LimitFull {
		return errs.New(errs.GroupFull, "the group is full (its MaxMemberNum)"), true
	}
	e := s.gate.GroupLimitErr(app, l.Limit)
	if l.User != "" {
		var ce *errs.Error
		if errors.As(e, &ce) {
			return errs.New(ce.Code, "%s: %s", l.User, ce.Msg), true
		}
	}
	return e, true
}

func groupNotFound(id string) error {
	return errs.New(errs.GroupNotFound, "group %q does not exist or was disbanded", id)
}

func notImported(id string) error {
	return errs.New(errs.GroupNoAccount, "account %q is not imported", id)
}

func notMember(id, group string) error {
	return errs.New(errs.GroupNoAccount, "%q is not a member of group %q", id, group)
}

// loadGroup returns the group (10010 when none).
func (s *Service) loadGroup(ctx context.Context, app int64, id string) (store.Group, error) {
	if err := checkGroupID(id); err != nil {
		return store.Group{}, err
	}
	g, err := s.store.GetGroup(ctx, app, id)
	if errors.Is(err, errs.ErrNotFound) {
		return g, groupNotFound(id)
	}
	if err != nil {
		return g, storageErr(err)
	}
	return g, nil
}

// actorMember returns the actor's membership of g (nil for the admin or a
// non-member).
func (s *Service) actorMember(ctx context.Context, app int64, g store.Group, a Actor) (*store.GroupMember, error) {
	if a.Admin {
		return nil, nil
	}
	m, err := s.store.GetGroupMember(ctx, app, g.GroupID, a.User)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, storageErr(err)
	}
	return &m, nil
}

// loadForAction loads the group and checks that a may do act (on target, a
// member, when set).
func (s *Service) loadForAction(ctx context.Context, app store.App, a Actor, groupID, act string) (store.Group, *store.GroupMember, error) {
	if err := s.gate.Active(app); err != nil {
		return store.Group{}, nil, err
	}
	g, err := s.loadGroup(ctx, app.SDKAppID, groupID)
	if err != nil {
		return g, nil, err
	}
	me, err := s.actorMember(ctx, app.SDKAppID, g, a)
	if err != nil {
		return g, nil, err
	}
	if act != "" {
		if err := groupAllow(g, a, me, act, nil); err != nil {
			return g, me, err
		}
	}
	return g, me, nil
}

// joinSeq is the first message seq a member joining g now may read: the
// whole history in Meeting and Community groups (§4), from now on elsewhere.
func (s *Service) joinSeq(ctx context.Context, app int64, g store.Group) int64 {
	if g.Type == gate.GroupMeeting || g.Type == gate.GroupCommunity {
		return 1
	}
	return s.groupNextMsgSeq(ctx, app, g.GroupID)
}

// CreateGroup creates a group (create_group; import_group with imported set,
// which takes CreateTime and JoinTime and sends no tips). The actor's user, if
// not the admin, becomes the owner. Refusals: 10004 bad fields, 10015 a bad
// or reserved GroupId, 10021 GroupId in use, 10019 an account not imported,
// 10005 too many members, 10059 Community on an edition without it, and the
// edition's limits (10036, 10037, 10038, 10960, 10961) or 10014.
func (s *Service) CreateGroup(ctx context.Context, app store.App, a Actor, spec GroupSpec, imported bool) (store.Group, error) {
	typ, err := GroupType(spec.Type)
	if err != nil {
		return store.Group{}, err
	}
	if typ == gate.GroupCommunity {
		if err := s.gate.GroupFeature(app, catalog.Community); err != nil {
			return store.Group{}, err
		}
	} else if err := s.gate.Active(app); err != nil {
		return store.Group{}, err
	}
	if !a.Admin {
		spec.Owner = a.User
	}
	g, members, err := s.checkGroupSpec(typ, spec, imported)
	if err != nil {
		return store.Group{}, err
	}
	ids := []string{}
	if g.Owner != "" {
		ids = append(ids, g.Owner)
	}
	for _, m := range members {
		ids = append(ids, m.UserID)
	}
	have, err := s.imported(ctx, app.SDKAppID, ids...)
	if err != nil {
		return store.Group{}, err
	}
	for _, id := range ids {
		if !have[id] {
			return store.Group{}, notImported(id)
		}
	}
	g.App = app.SDKAppID
	now := s.clock.Now().Unix()
	if g.CreatedAt.IsZero() {
		g.CreatedAt = unixTime(now)
	}
	for i := range members {
		if members[i].JoinTime.IsZero() {
			members[i].JoinTime = g.CreatedAt
		}
		members[i].JoinSeq = s.joinSeq(ctx, app.SDKAppID, g)
	}
	if !imported {
		if err := s.beforeCreateGroup(ctx, app, a, g, members); err != nil {
			return store.Group{}, err
		}
	}
	custom := g.GroupID != ""
	for try := 0; ; try++ {
		if !custom {
			g.GroupID = newGroupID(g.SupportTopic)
		}
		cctx := ctx
		if !imported {
			cctx = s.withEvent(ctx, app.SDKAppID, callback.GroupAfterCreateGroup, func() callback.Body {
				b := createGroupBody(app, a, g, members)
				b.GroupId = g.GroupID
				return b
			})
		}
		created, err := s.store.CreateGroup(cctx, g, members, s.groupQuota(app))
		switch {
		case err == nil:
			s.groupChanged(app.SDKAppID, created.GroupID)
			s.membersAdded(app.SDKAppID, created.GroupID, ids)
			return created, nil
		case errors.Is(err, errs.ErrExists):
			if custom || try >= 3 {
				return store.Group{}, errs.New(errs.GroupIDInUse, "GroupId %q is in use", g.GroupID)
			}
			continue
		case errors.Is(err, errs.ErrNotFound):
			return store.Group{}, errs.New(errs.GroupNoAccount, "an account of the group is not imported")
		}
		if e, ok := s.groupLimitErr(app, err); ok {
			return store.Group{}, e
		}
		return store.Group{}, storageErr(err)
	}
}

// checkGroupSpec validates spec for type typ and returns the group and its
// members (the owner not among them).
func (s *Service) checkGroupSpec(typ string, spec GroupSpec, imported bool) (store.Group, []store.GroupMember, error) {
	g := store.Group{Type: typ, GroupID: spec.GroupID, Name: spec.Name, Introduction: spec.Introduction,
		Notification: spec.Notification, FaceURL: spec.FaceURL, Owner: spec.Owner, SupportTopic: spec.SupportTopic}
	if spec.SupportTopic && typ != gate.GroupCommunity {
		return g, nil, groupBad("SupportTopic is for Community groups only")
	}
	if g.GroupID != "" {
		if err := checkCustomGroupID(g.GroupID, typ, spec.SupportTopic); err != nil {
			return g, nil, err
		}
	}
	if g.Name == "" {
		return g, nil, groupBad("Name is required")
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"Name", g.Name, MaxGroupNameBytes}, {"Introduction", g.Introduction, MaxIntroductionBytes},
		{"Notification", g.Notification, MaxNotificationBytes}, {"FaceUrl", g.FaceURL, MaxGroupFaceURLBytes}} {
		if err := checkGroupText(f.name, f.v, f.max); err != nil {
			return g, nil, err
		}
	}
	if g.Owner != "" {
		if err := checkGroupUser("Owner_Account", g.Owner); err != nil {
			return g, nil, err
		}
	}
	g.MaxMemberNum = maxMembersOfType[typ]
	if spec.MaxMemberCount != 0 {
		if err := checkMaxMembers(typ, spec.MaxMemberCount); err != nil {
			return g, nil, err
		}
		g.MaxMemberNum = spec.MaxMemberCount
	}
	if err := checkJoinOption(spec.ApplyJoinOption); err != nil {
		return g, nil, err
	}
	if err := checkInviteOption(spec.InviteJoinOption); err != nil {
		return g, nil, err
	}
	g.ApplyJoinOption, g.InviteJoinOption = spec.ApplyJoinOption, spec.InviteJoinOption
	if g.ApplyJoinOption == "" {
		g.ApplyJoinOption = defaultApplyOption(typ)
	}
	if g.InviteJoinOption == "" {
		g.InviteJoinOption = ApplyFree
		if typ == gate.GroupAVChatRoom {
			g.InviteJoinOption = InviteDisable
		}
	}
	var err error
	if g.AppDefinedData, err = checkAppData("AppDefinedData", spec.AppDefinedData, false); err != nil {
		return g, nil, err
	}
	if spec.CreateTime != 0 {
		if !imported {
			return g, nil, groupBad("CreateTime is for import_group only")
		}
		if spec.CreateTime < 0 || spec.CreateTime > s.clock.Now().Unix() {
			return g, nil, groupBad("CreateTime %d is not a past Unix time", spec.CreateTime)
		}
		g.CreatedAt = unixTime(spec.CreateTime)
	}
	if len(spec.Members) > MaxCreateMembers {
		return g, nil, errs.New(errs.GroupTooManyAccounts, "MemberList has %d members; at most %d", len(spec.Members), MaxCreateMembers)
	}
	if typ == gate.GroupAVChatRoom && len(spec.Members) > 0 {
		return g, nil, groupBad("a live room (AVChatRoom) is created without members; users join it")
	}
	members := make([]store.GroupMember, 0, len(spec.Members))
	seen := map[string]bool{g.Owner: true}
	for _, m := range spec.Members {
		if err := checkGroupUser("Member_Account", m.UserID); err != nil {
			return g, nil, err
		}
		role, err := checkRole(typ, m.Role, false)
		if err != nil {
			return g, nil, err
		}
		data, err := checkAppData("AppMemberDefinedData", m.AppMemberDefinedData, false)
		if err != nil {
			return g, nil, err
		}
		if seen[m.UserID] {
			continue
		}
		seen[m.UserID] = true
		gm := store.GroupMember{UserID: m.UserID, Role: role, AppMemberDefinedData: data}
		if m.JoinTime != 0 && imported {
			if m.JoinTime < 0 || m.JoinTime > s.clock.Now().Unix() {
				return g, nil, groupBad("JoinTime %d is not a past Unix time", m.JoinTime)
			}
			gm.JoinTime = unixTime(m.JoinTime)
		}
		members = append(members, gm)
	}
	return g, members, nil
}

func defaultApplyOption(t string) string {
	switch t {
	case gate.GroupWork:
		return ApplyDisable
	case gate.GroupPublic:
		return ApplyNeedPermission
	}
	return ApplyFree
}

// GroupInfo is one group of get_group_info: the group, its members when
// asked for (at most MaxGroupInfoMembers), the message counters, or Err (10010,
// 10015, 10007) for this group alone.
type GroupInfo struct {
	GroupID     string
	Group       store.Group
	Members     []store.GroupMember
	NextMsgSeq  int64
	LastMsgTime int64
	Err         error
}

// GroupInfos answers get_group_info for at most 50 groups (10005 beyond):
// each unknown group gets its own 10010. withMembers asks for MemberList.
func (s *Service) GroupInfos(ctx context.Context, app store.App, a Actor, ids []string, withMembers bool) ([]GroupInfo, error) {
	if err := s.gate.Active(app); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, groupBad("GroupIdList is empty")
	}
	if len(ids) > MaxGroupInfoIDs {
		return nil, errs.New(errs.GroupTooManyAccounts, "GroupIdList has %d groups; at most %d", len(ids), MaxGroupInfoIDs)
	}
	var valid []string
	for _, id := range ids {
		if checkGroupID(id) == nil {
			valid = append(valid, id)
		}
	}
	gs, err := s.store.GetGroups(ctx, app.SDKAppID, valid)
	if err != nil {
		return nil, storageErr(err)
	}
	out := make([]GroupInfo, len(ids))
	for i, id := range ids {
		out[i].GroupID = id
		if err := checkGroupID(id); err != nil {
			out[i].Err = err
			continue
		}
		g, ok := gs[id]
		if !ok {
			out[i].Err = groupNotFound(id)
			continue
		}
		if !a.Admin {
			me, err := s.actorMember(ctx, app.SDKAppID, g, a)
			if err != nil {
				return nil, err
			}
			if me == nil && g.Type == gate.GroupWork {
				out[i].Err = noPermission("%q is not a member of Work group %q", a.User, id)
				continue
			}
		}
		out[i].Group = g
		out[i].NextMsgSeq = s.groupNextMsgSeq(ctx, app.SDKAppID, id)
		out[i].LastMsgTime = s.groupLastMsgTime(ctx, app.SDKAppID, id)
		if withMembers {
			ms, _, err := s.store.ListGroupMembers(ctx, app.SDKAppID, id, store.MemberPage{Limit: MaxGroupInfoMembers})
			if errors.Is(err, errs.ErrNotFound) {
				out[i].Err = groupNotFound(id)
				continue
			}
			if err != nil {
				return nil, storageErr(err)
			}
			out[i].Members = ms
		}
	}
	return out, nil
}

// AppGroups answers get_appid_group_list: the app's groups of type typ ("" all)
// after the cursor next (0 first), at most limit (1..10000; 0 10000), the
// total of that type and the next cursor (0 at the end).
func (s *Service) AppGroups(ctx context.Context, app store.App, typ string, next int64, limit int) ([]string, int, int64, error) {
	if err := s.gate.Active(app); err != nil {
		return nil, 0, 0, err
	}
	if typ != "" {
		var err error
		if typ, err = GroupType(typ); err != nil {
			return nil, 0, 0, err
		}
	}
	if limit == 0 {
		limit = DefaultAppGroupPage
	}
	if limit < 0 || limit > MaxAppGroupPage {
		return nil, 0, 0, groupBad("Limit %d must be 1 to %d", limit, MaxAppGroupPage)
	}
	if next < 0 {
		return nil, 0, 0, groupBad("Next %d is not a cursor", next)
	}
	gs, total, err := s.store.ListGroups(ctx, app.SDKAppID, typ, next, limit+1)
	if err != nil {
		return nil, 0, 0, storageErr(err)
	}
	var cursor int64
	if len(gs) > limit {
		gs = gs[:limit]
		cursor = gs[limit-1].Serial
	}
	ids := make([]string, len(gs))
	for i, g := range gs {
		ids[i] = g.GroupID
	}
	return ids, total, cursor, nil
}

// GroupChange is modify_group_base_info: nil fields stay.
type GroupChange struct {
	Name, Introduction, Notification, FaceURL *string
	MaxMemberNum                              *int
	ApplyJoinOption, InviteJoinOption         *string
	MuteAllMember                             *string // "On" / "Off"
	AppDefinedData                            []KeyValue
}

// ModifyGroup changes the group's profile (modify_group_base_info): the
// AppDefinedData items are merged, an empty Value deleting the key.
// Refusals: 10010, 10007, 10004 (bad field; MaxMemberNum below the members
// there are, or over the type's bound; too many AppDefinedData keys).
func (s *Service) ModifyGroup(ctx context.Context, app store.App, a Actor, groupID string, c GroupChange) error {
	g, _, err := s.loadForAction(ctx, app, a, groupID, actEditInfo)
	if err != nil {
		return err
	}
	u := store.GroupUpdate{Name: c.Name, Introduction: c.Introduction, Notification: c.Notification, FaceURL: c.FaceURL,
		ApplyJoinOption: c.ApplyJoinOption, InviteJoinOption: c.InviteJoinOption, MaxMemberNum: c.MaxMemberNum, At: s.clock.Now()}
	changed := map[string]string{}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"Name", c.Name, MaxGroupNameBytes}, {"Introduction", c.Introduction, MaxIntroductionBytes},
		{"Notification", c.Notification, MaxNotificationBytes}, {"FaceUrl", c.FaceURL, MaxGroupFaceURLBytes}} {
		if f.v == nil {
			continue
		}
		if err := checkGroupText(f.name, *f.v, f.max); err != nil {
			return err
		}
		changed[f.name] = *f.v
	}
	if c.Name != nil && *c.Name == "" {
		return groupBad("Name may not be empty")
	}
	if c.ApplyJoinOption != nil {
		if err := checkJoinOption(*c.ApplyJoinOption); err != nil || *c.ApplyJoinOption == "" {
			return groupBad("ApplyJoinOption %q must be FreeAccess, NeedPermission or DisableApply", *c.ApplyJoinOption)
		}
		changed["ApplyJoinOption"] = *c.ApplyJoinOption
	}
	if c.InviteJoinOption != nil {
		if err := checkInviteOption(*c.InviteJoinOption); err != nil || *c.InviteJoinOption == "" {
			return groupBad("InviteJoinOption %q must be FreeAccess, NeedPermission or DisableInvite", *c.InviteJoinOption)
		}
		changed["InviteJoinOption"] = *c.InviteJoinOption
	}
	if c.MaxMemberNum != nil {
		if err := checkMaxMembers(g.Type, *c.MaxMemberNum); err != nil {
			return err
		}
		if *c.MaxMemberNum < g.MemberNum {
			return groupBad("MaxMemberNum %d is below the group's %d members", *c.MaxMemberNum, g.MemberNum)
		}
		changed["MaxMemberNum"] = strconv.Itoa(*c.MaxMemberNum)
	}
	if c.MuteAllMember != nil {
		var on bool
		switch *c.MuteAllMember {
		case "On":
			on = true
		case "Off":
		default:
			return groupBad("MuteAllMember %q must be On or Off", *c.MuteAllMember)
		}
		u.MuteAllMember = &on
		changed["MuteAllMember"] = *c.MuteAllMember
	}
	if c.AppDefinedData != nil {
		data, err := checkAppData("AppDefinedData", c.AppDefinedData, true)
		if err != nil {
			return err
		}
		merged := maps(g.AppDefinedData)
		mergeKV(merged, data)
		if len(merged) > MaxAppDataKeys {
			return groupBad("AppDefinedData would have %d keys; at most %d", len(merged), MaxAppDataKeys)
		}
		u.AppDefinedData = data
		changed["AppDefinedData"] = ""
	}
	if len(changed) == 0 {
		return nil
	}
	uctx := ctx // the callback tells of the four fields it has; other changes make none
	if c.Name != nil || c.Introduction != nil || c.Notification != nil || c.FaceURL != nil {
		uctx = s.withEvent(ctx, app.SDKAppID, callback.GroupAfterGroupInfoChanged, func() callback.Body {
			return &callback.GroupInfoChangedBody{GroupId: g.GroupID, Type: g.Type, Operator: operatorOf(app, a),
				Name: c.Name, Introduction: c.Introduction, Notification: c.Notification, FaceUrl: c.FaceURL}
		})
	}
	if _, err := s.store.UpdateGroup(uctx, app.SDKAppID, groupID, u); err != nil {
		if errors.Is(err, errs.ErrNotFound) {
			return groupNotFound(groupID)
		}
		return storageErr(err)
	}
	s.groupChanged(app.SDKAppID, groupID)
	s.tipMembers(ctx, app.SDKAppID, groupID, GroupTip{Type: TipInfo, Operator: a.User, Changed: changed}, nil)
	return nil
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func mergeKV(m, upd map[string]string) {
	for k, v := range upd {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
}

// tipMembers sends tip to the group's members now (the send path's cached
// list, group_membercache.go: no store read when it is cached) and to extra.
func (s *Service) tipMembers(ctx context.Context, app int64, groupID string, tip GroupTip, extra []string) {
	ids, err := s.groupMembers.get(groupKey{app, groupID}, func() ([]string, error) {
		return s.store.GroupMemberIDs(ctx, app, groupID)
	})
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return // the change is committed; tips are notices, a failed read loses them
	}
	tip.To, tip.all = ids, true // shared: never modified
	if len(extra) > 0 {
		tip.all = false
		to := make([]string, 0, len(ids)+len(extra))
		to = append(append(to, ids...), extra...)
		slices.Sort(to)
		tip.To = slices.Compact(to)
	}
	s.groupTips(ctx, app, groupID, tip)
}

// DestroyGroup disbands the group (destroy_group). Refusals: 10010, 10007.
func (s *Service) DestroyGroup(ctx context.Context, app store.App, a Actor, groupID string) error {
	g, _, err := s.loadForAction(ctx, app, a, groupID, actDisband)
	if err != nil {
		return err
	}
	dctx := ctx
	if s.on(ctx, app.SDKAppID, callback.GroupAfterGroupDestroyed) {
		// The members as read before the deletion (one who joins in between is
		// not listed).
		ids, err := s.store.GroupMemberIDs(ctx, app.SDKAppID, groupID)
		if err != nil && !errors.Is(err, errs.ErrNotFound) {
			return storageErr(err)
		}
		dctx = store.WithCallbacks(ctx, s.event(ctx, app.SDKAppID, callback.GroupAfterGroupDestroyed,
			&callback.GroupDestroyedBody{GroupId: g.GroupID, Type: g.Type, Owner: g.Owner, Name: g.Name, MemberList: callback.Members(ids)}))
	}
	members, err := s.store.DeleteGroup(dctx, app.SDKAppID, groupID, s.groupQuota(app))
	if errors.Is(err, errs.ErrNotFound) {
		return groupNotFound(groupID)
	}
	if err != nil {
		return storageErr(err)
	}
	s.groupMembersChanged(app.SDKAppID, groupID)
	s.groupChanged(app.SDKAppID, groupID)
	s.groupTips(ctx, app.SDKAppID, groupID, GroupTip{Type: TipDisband, Operator: a.User, To: members, Live: g.Type == gate.GroupAVChatRoom})
	return nil
}

// ChangeGroupOwner passes the ownership to newOwner, a member
// (change_group_owner). Refusals: 10010, 10007, 10019 (not imported or not a
// member), 10004.
func (s *Service) ChangeGroupOwner(ctx context.Context, app store.App, a Actor, groupID, newOwner string) error {
	if err := checkGroupUser("NewOwner_Account", newOwner); err != nil {
		return err
	}
	g, _, err := s.loadForAction(ctx, app, a, groupID, actChangeOwner)
	if err != nil {
		return err
	}
	if g.Owner == newOwner {
		return nil
	}
	octx := s.withEvent(ctx, app.SDKAppID, callback.GroupAfterChangeGroupOwner, func() callback.Body {
		return &callback.ChangeOwnerBody{GroupId: g.GroupID, Type: g.Type, Operator: operatorOf(app, a), OldOwner: g.Owner, NewOwner: newOwner}
	})
	err = s.store.ChangeGroupOwner(octx, app.SDKAppID, groupID, newOwner, s.clock.Now())
	if errors.Is(err, errs.ErrNotFound) {
		if _, gerr := s.store.GetGroup(ctx, app.SDKAppID, groupID); errors.Is(gerr, errs.ErrNotFound) {
			return groupNotFound(groupID)
		}
		return notMember(newOwner, groupID)
	}
	if err != nil {
		return storageErr(err)
	}
	s.groupMembersChanged(app.SDKAppID, groupID)
	s.tipMembers(ctx, app.SDKAppID, groupID, GroupTip{Type: TipOwner, Operator: a.User, Users: []string{newOwner}}, nil)
	return nil
}

// groupsOfUsers returns the groups the users are members of, sorted, once
// each (account deletion: they leave them all).
func (s *Service) groupsOfUsers(ctx context.Context, app int64, users []string) ([]string, error) {
	var out []string
	for _, u := range users {
		ms, err := s.store.UserGroups(ctx, app, u)
		if err != nil {
			return nil, storageErr(err)
		}
		for _, m := range ms {
			out = append(out, m.GroupID)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
