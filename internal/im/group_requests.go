package im

import (
	"context"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/store"
)

// Notices of pending group requests (docs/protocol.md "Groups"): an
// application reaches the group's owner and admins, an invitation its invitee,
// each as a frame of its own (not an entry of the group's log).
const (
	NoticeGroupApplication = "group_application" // {group, user, message}: user applied to join
	NoticeGroupInvitation  = "group_invitation"  // {group, user}: user (the operator) invited the device's user
)

// maxApplicationNotices bounds the managers told of one application.
const maxApplicationNotices = 100

// groupRequestNotice is the frame's fields beside op.
type groupRequestNotice struct {
	Group   string `json:"group"`
	User    string `json:"user,omitempty"`
	Message string `json:"message,omitempty"`
}

// noticeApplication tells g's owner and admins (at most
// maxApplicationNotices) that applicant applied. The application is stored
// first: a manager offline now finds it by the application's own retry or by
// the app's backend; a failed read of the managers loses only the notice.
func (s *Service) noticeApplication(ctx context.Context, app int64, g store.Group, applicant, wording string) {
	ms, _, err := s.store.ListGroupMembers(ctx, app, g.GroupID, store.MemberPage{Roles: []string{store.RoleOwner, store.RoleAdmin}, Limit: maxApplicationNotices})
	if err != nil || len(ms) == 0 {
		return
	}
	n := &bus.Notice{Op: NoticeGroupApplication, Fields: groupRequestNotice{Group: g.GroupID, User: applicant, Message: wording}}
	ds := make([]bus.Delivery, len(ms))
	for i, m := range ms {
		ds[i] = bus.Delivery{App: app, User: m.UserID, Kind: bus.KindNotice, Notice: n}
	}
	s.bus.Publish(ds)
}

// noticeInvitation tells invitees that operator invited them to g.
func (s *Service) noticeInvitation(app int64, groupID, operator string, invitees []string) {
	if len(invitees) == 0 {
		return
	}
	n := &bus.Notice{Op: NoticeGroupInvitation, Fields: groupRequestNotice{Group: groupID, User: operator}}
	ds := make([]bus.Delivery, len(invitees))
	for i, u := range invitees {
		ds[i] = bus.Delivery{App: app, User: u, Kind: bus.KindNotice, Notice: n}
	}
	s.bus.Publish(ds)
}
