package im

import (
	"context"
	"errors"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// What users do to groups from their devices (the WebSocket edge calls these;
// reference §4): join, apply, decide applications and invitations, quit, kick.

// JoinGroup lets user join the group: at once where the type lets users join
// freely (Meeting, Community, AVChatRoom; a Public group whose ApplyJoinOption is
// FreeAccess), else (Public, NeedPermission) by a pending application for the
// owner and admins to decide: joined reports which. Refusals: 10010, 10013
// already a member, 10007 (Work groups, DisableApply, a user banned from the
// live room: BanMembers), 10004, and the limits
// (10014, 10037, 10038).
func (s *Service) JoinGroup(ctx context.Context, app store.App, user, groupID, wording string) (joined bool, err error) {
	if err := checkGroupUser("user", user); err != nil {
		return false, err
	}
	if err := checkGroupText("ApplyMsg", wording, MaxApplicationWording); err != nil {
		return false, err
	}
	g, me, err := s.loadForAction(ctx, app, Actor{User: user}, groupID, "")
	if err != nil {
		return false, err
	}
	if me != nil {
		return false, errs.New(errs.GroupAlreadyMember, "%q is already a member of group %q", user, groupID)
	}
	if err := s.beforeApplyJoin(ctx, app, g, user); err != nil {
		return false, err
	}
	if !freeJoin(g) {
		if g.Type != "Public" || g.ApplyJoinOption != ApplyNeedPermission {
			return false, noPermission("group %q (%s, %s) takes no applications", groupID, g.Type, g.ApplyJoinOption)
		}
		err := s.store.PutGroupRequest(ctx, app.SDKAppID, store.GroupRequest{GroupID: groupID, UserID: user,
			Kind: store.GroupApply, Wording: wording, At: s.clock.Now()})
		if errors.Is(err, errs.ErrNotFound) {
			return false, groupNotFound(groupID)
		}
		if err != nil {
			return false, storageErr(err)
		}
		s.noticeApplication(ctx, app.SDKAppID, g, user, wording)
		return false, nil
	}
	if err := s.checkNotBanned(ctx, app.SDKAppID, g, user); err != nil {
		return false, err
	}
	if err := s.addOne(ctx, app, g, user, user, joinApply); err != nil {
		return true, err
	}
	s.sendLiveHistory(app, g, user) // a live room's recent messages (liveroom_history.go)
	return true, nil
}

// addOne adds user to g (operator for the tip) with the
// Group.CallbackAfterNewMemberJoin of joinType, and sends the join tip.
func (s *Service) addOne(ctx context.Context, app store.App, g store.Group, user, operator, joinType string) error {
	joinSeq := s.joinSeq(ctx, app.SDKAppID, g)
	ch := s.groupMembers.begin(groupKey{app.SDKAppID, g.GroupID}, []string{user})
	res, err := s.store.AddGroupMembers(s.withJoin(ctx, app, g, operator, joinType), app.SDKAppID, g.GroupID,
		[]store.GroupMember{{UserID: user, Role: store.RoleMember, JoinTime: s.clock.Now(), JoinSeq: joinSeq}}, s.groupQuota(app))
	if err != nil {
		s.abortMembers(ch)
		if errors.Is(err, errs.ErrNotFound) {
			return groupNotFound(g.GroupID)
		}
		return storageErr(err)
	}
	switch e := res[0]; {
	case errors.Is(e, errs.ErrExists):
		s.groupMembers.end(ch, []string{user}, nil) // no change
		return errs.New(errs.GroupAlreadyMember, "%q is already a member of group %q", user, g.GroupID)
	case errors.Is(e, errs.ErrNotFound):
		s.groupMembers.end(ch, nil, nil) // no change
		return notImported(user)
	case e != nil:
		s.abortMembers(ch)
		if le, ok := s.groupLimitErr(app, e); ok {
			return le
		}
		return storageErr(e)
	}
	s.endMembers(ch, []string{user}, nil) // the member list in place (group_membercache.go)
	s.tipMembers(ctx, app.SDKAppID, g.GroupID, GroupTip{Type: TipJoin, Operator: operator, Users: []string{user}}, nil)
	return nil
}

// GroupApplications lists a group's pending applications and invitations
// for its owner and admins (10007 otherwise).
func (s *Service) GroupApplications(ctx context.Context, app store.App, a Actor, groupID string) ([]store.GroupRequest, error) {
	if _, _, err := s.loadForAction(ctx, app, a, groupID, actApprove); err != nil {
		return nil, err
	}
	rs, err := s.store.GroupRequests(ctx, app.SDKAppID, groupID)
	if err != nil {
		return nil, storageErr(err)
	}
	return rs, nil
}

// DecideApplication approves (the applicant joins, within the limits) or
// refuses a pending application; the owner and admins decide (10007).
// 10024 when there is no pending application.
func (s *Service) DecideApplication(ctx context.Context, app store.App, a Actor, groupID, applicant string, approve bool) error {
	if err := checkGroupUser("applicant", applicant); err != nil {
		return err
	}
	g, _, err := s.loadForAction(ctx, app, a, groupID, actApprove)
	if err != nil {
		return err
	}
	if _, err := s.store.TakeGroupRequest(ctx, app.SDKAppID, groupID, applicant, store.GroupApply); errors.Is(err, errs.ErrNotFound) {
		return errs.New(errs.GroupRequestHandled, "no pending application of %q to group %q", applicant, groupID)
	} else if err != nil {
		return storageErr(err)
	}
	if !approve {
		return nil
	}
	return s.addOne(ctx, app, g, applicant, operatorOf(app, a), joinApply)
}

// DecideInvitation accepts (user joins) or declines a pending invitation of
// user to the group; 10024 when there is none.
func (s *Service) DecideInvitation(ctx context.Context, app store.App, user, groupID string, accept bool) error {
	if err := checkGroupUser("user", user); err != nil {
		return err
	}
	g, _, err := s.loadForAction(ctx, app, Actor{User: user}, groupID, "")
	if err != nil {
		return err
	}
	r, err := s.store.TakeGroupRequest(ctx, app.SDKAppID, groupID, user, store.GroupInvite)
	if errors.Is(err, errs.ErrNotFound) {
		return errs.New(errs.GroupRequestHandled, "no pending invitation of %q to group %q", user, groupID)
	} else if err != nil {
		return storageErr(err)
	}
	if !accept {
		return nil
	}
	return s.addOne(ctx, app, g, user, r.Operator, joinInvited)
}

// QuitGroup lets user leave the group. The owner may quit a Work group only
// (10009 otherwise): the ownership passes to the earliest-joined member, or
// the group is disbanded when no one else is in it. 10007 not a member.
func (s *Service) QuitGroup(ctx context.Context, app store.App, user, groupID string) error {
	if err := checkGroupUser("user", user); err != nil {
		return err
	}
	g, me, err := s.loadForAction(ctx, app, Actor{User: user}, groupID, "")
	if err != nil {
		return err
	}
	if me == nil {
		return noPermission("%q is not a member of group %q", user, groupID)
	}
	if me.Role == store.RoleOwner && !ownerMayQuit(g.Type) {
		return errs.New(errs.GroupOwnerCannotQuit, "the owner may not quit a %s group; transfer the ownership or disband it", g.Type)
	}
	ch := s.groupMembers.begin(groupKey{app.SDKAppID, groupID}, []string{user})
	// The exit, and the group's end when this disbands it: both in the
	// removal's transaction.
	rctx := s.withLastQuit(s.withExit(ctx, app, g, user, exitQuit, []string{user}), app, g, user)
	r, err := s.store.RemoveGroupMembers(rctx, app.SDKAppID, groupID, []string{user}, s.groupQuota(app))
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
	if len(r.Removed) == 0 {
		return nil
	}
	if r.Disbanded { // the last member left: the group is gone
		s.groupTips(ctx, app.SDKAppID, groupID, GroupTip{Type: TipDisband, Operator: user, To: []string{user}})
		return nil
	}
	s.tipMembers(ctx, app.SDKAppID, groupID, GroupTip{Type: TipQuit, Operator: user, Users: []string{user}}, []string{user})
	if r.NewOwner != "" {
		s.tipMembers(ctx, app.SDKAppID, groupID, GroupTip{Type: TipOwner, Operator: user, Users: []string{r.NewOwner}}, nil)
	}
	return nil
}

// KickMembers lets user remove members as the group type allows (§4: Work
// the owner; Public and Community the owner and admins, admins only members;
// not in Meeting groups and live rooms): DeleteGroupMembers with user as actor.
func (s *Service) KickMembers(ctx context.Context, app store.App, user, groupID string, members []string, reason string) error {
	if err := checkGroupUser("user", user); err != nil {
		return err
	}
	return s.DeleteGroupMembers(ctx, app, Actor{User: user}, groupID, members, false, reason)
}
