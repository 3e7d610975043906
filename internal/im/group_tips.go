package im

import (
	"context"
	"encoding/json"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
)

// The seams between group management and the group message log: every
// membership or profile event goes through groupTips, every committed change of
// membership calls groupMembersChanged, and the group's message counters are
// read through groupNextMsgSeq and groupLastMsgTime.

// Types of GroupTip.
const (
	TipJoin    = "join"    // Users joined (added, imported, approved, free join)
	TipQuit    = "quit"    // Users left of their own accord
	TipKick    = "kick"    // Users were removed by Operator
	TipMute    = "mute"    // Users were muted (MuteTime > 0) or unmuted (MuteTime 0)
	TipRole    = "role"    // Users' Role changed
	TipInfo    = "info"    // the group's profile changed (Changed names the fields)
	TipOwner   = "owner"   // ownership passed to Users[0]
	TipDisband = "disband" // the group was disbanded
)

// NoticeGroupTips is the op of the notice a group tip is published as.
const NoticeGroupTips = "group_tips"

// GroupTip is one membership or profile event of a group.
type GroupTip struct {
	Type     string   `json:"type"`               // Tip*
	GroupID  string   `json:"group_id"`           // set by groupTips
	Operator string   `json:"operator,omitempty"` // who did it; "" the app's admin
	Users    []string `json:"users,omitempty"`    // whom it concerns
	// Changed profile fields (TipInfo), by their REST names (Name, Introduction,
	// Notification, FaceUrl, MaxMemberNum, ApplyJoinOption, InviteJoinOption,
	// MuteAllMember, AppDefinedData), and the new values as strings.
	Changed  map[string]string `json:"changed,omitempty"`
	Role     string            `json:"role,omitempty"`      // TipRole: the new role
	MuteTime int64             `json:"mute_time,omitempty"` // TipMute: seconds; 0 unmuted
	// To are the users the tip is for: the members after the change, and the
	// users it removed (kick, quit) or the members before a disband. Set by the
	// caller; not sent; never modified (it may be the cached member list).
	To []string `json:"-"`
	// Live marks a live room's tip when the caller knows it (a disbanding,
	// whose group is gone when the tip goes); not sent.
	Live bool `json:"-"`
	// all: To is the group's whole member list (tipMembers without extra
	// users), so its delivery names the group (bus.GroupDelivery.Group).
	all bool
}

// liveTips delivers a live room's tip as one live bus.KindGroup delivery
// (an entry of kind "tips" with seq 0: it takes no place in the numbering of
// the room's messages, whose gaps are the drops; not kept in the room's
// history) to tip.To; join and quit tips only while tip.To has
// at most LiveTipsMaxMembers users.
func (s *Service) liveTips(app int64, groupID string, tip GroupTip) {
	if len(tip.To) == 0 {
		return
	}
	limit := s.liveTipsMax
	if limit == 0 {
		limit = LiveTipsMaxMembers
	}
	if (tip.Type == TipJoin || tip.Type == TipQuit) && len(tip.To) > limit {
		return
	}
	body, err := json.Marshal(tip)
	if err != nil {
		return
	}
	now := s.clock.Now()
	e := &store.Entry{App: app, Group: groupID, Kind: store.KindGroupTips, From: tip.Operator, Body: body,
		MsgTime: now.Unix(), CreatedAt: now}
	s.bus.Publish([]bus.Delivery{{App: app, Kind: bus.KindGroup, Entry: e,
		Group: &bus.GroupDelivery{Members: tip.To, Group: tip.group(), LiveRoom: true}}})
}

// LiveTipsMaxMembers: a live room (AVChatRoom) with more members than this
// gets no join and quit tips (the reference does not promise per-member
// enter and leave notifications in large live rooms; each would be one frame
// per member, N² frames to fill a room). Its other tips always go.
const LiveTipsMaxMembers = 1000

// groupTips records tip in the group's log as a tips entry (one seq of the
// group, like a message) and delivers it to tip.To as one group_entry push
// (group_fanout: bus.KindGroup); it waits for the commit, so tips and
// messages keep their order. A disbanding deletes the log (its seqs are not
// reused) and is published as a notice (op "group_tips"). A live room
// stores nothing: its tips (a disbanding included) go as one live
// group_entry push of kind "tips" (seq 0), encoded once
// and dropped for a device that is behind (liveTips). A failed write loses
// the tip, as a lost notice would: the change it reports is committed.
func (s *Service) groupTips(ctx context.Context, app int64, groupID string, tip GroupTip) {
	tip.GroupID = groupID
	stored := tip.Type != TipDisband
	live := tip.Live
	if stored && !live {
		if g, err := s.store.GetGroup(ctx, app, groupID); err != nil || g.Type == gate.GroupAVChatRoom {
			stored, live = false, err == nil
		}
	}
	if tip.Type == TipDisband && live {
		_ = s.store.DeleteGroupLog(ctx, app, groupID) // a live room has no writes queued
	} else if tip.Type == TipDisband {
		s.deleteGroupLog(ctx, app, groupID)
	}
	if live {
		s.liveTips(app, groupID, tip)
		return
	}
	if stored {
		body, err := json.Marshal(tip)
		if err != nil {
			return
		}
		done := make(chan struct{})
		now := s.clock.Now()
		op := store.Op{Kind: store.OpGroupTips, App: app, Group: groupID, From: tip.Operator, Body: body, MsgTime: now.Unix(), At: now}
		s.writer.SubmitGroup(op, tip.To, tip.group(), bus.Origin{}, func(store.OpResult, error) { close(done) })
		<-done
		return
	}
	if len(tip.To) == 0 {
		return
	}
	ds := make([]bus.Delivery, 0, len(tip.To))
	n := &bus.Notice{Op: NoticeGroupTips, Fields: tip}
	for _, u := range tip.To {
		ds = append(ds, bus.Delivery{App: app, User: u, Kind: bus.KindNotice, Notice: n})
	}
	s.bus.Publish(ds)
}

// groupMembersChanged is called after a committed change of a group's
// membership that is not described user by user (destroy, owner change,
// account deletion, live-room bans): the cache of member lists of the group
// message path forgets the group here, and the other nodes are told to read
// it again (invalidation.go). Described changes go through endMembers and
// membersAdded.
func (s *Service) groupMembersChanged(app int64, groupID string) {
	s.groupMembers.forget(groupKey{app, groupID})
	s.invalidate(bus.GroupMembersChanged(app, groupID, nil, nil, true))
}

// groupNextMsgSeq is the seq the group's next message will get (get_group_info's
// NextMsgSeq): 1 until the group message log exists.
func (s *Service) groupNextMsgSeq(ctx context.Context, app int64, groupID string) int64 {
	last, err := s.store.GroupLast(ctx, app, groupID)
	if err != nil {
		return 1
	}
	return last.Seq + 1
}

// groupLastMsgTime is the Unix second of the group's last message, 0 when it
// has none (get_joined_group_list's WithNoActiveGroups treats 0 as inactive).
func (s *Service) groupLastMsgTime(ctx context.Context, app int64, groupID string) int64 {
	last, err := s.store.GroupLast(ctx, app, groupID)
	if err != nil {
		return 0
	}
	return last.MsgTime
}

// deleteGroupLog removes a disbanded group's log after every group write
// queued before it: a last tip goes through the writer first (to nobody), so
// that messages admitted before the disband and still in the writer's queue
// are written before the log is deleted, not after it (where they would
// outlive the group and show in a new group of the same GroupId). A send that
// passes its membership check in the instant between the disband and this
// barrier can still land after it; such a straggler is purged with the
// retention window. A failed delete leaves the log to that purge too.
func (s *Service) deleteGroupLog(ctx context.Context, app int64, groupID string) {
	done := make(chan struct{})
	now := s.clock.Now()
	op := store.Op{Kind: store.OpGroupTips, App: app, Group: groupID, Body: []byte(`{"type":"disband"}`), MsgTime: now.Unix(), At: now}
	s.writer.SubmitGroup(op, nil, "", bus.Origin{}, func(store.OpResult, error) { close(done) })
	<-done
	_ = s.store.DeleteGroupLog(ctx, app, groupID)
}

// group is the GroupId a delivery of tip names: the group's when tip.To is
// its whole member list, else "" (a chosen audience).
func (tip *GroupTip) group() string {
	if tip.all {
		return tip.GroupID
	}
	return ""
}
