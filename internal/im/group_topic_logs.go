package im

import (
	"context"
	"strings"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
)

// Community topic messages (reference rest-api.md §3.7: TopicId on
// send_group_msg, group_msg_get_simple, group_msg_recall,
// delete_group_msg_by_sender, import_group_msg,
// send_group_system_notification). A topic is a group log of its own, keyed by
// its TopicId; its audience, membership and mutes are its community's.

// groupLog resolves a group command's GroupId and TopicId to the group whose
// members and mutes apply and the key of the log the command reads or
// writes: the GroupId itself, or the TopicId. A device names a topic by its
// id alone (groupID holding TopicSep, topicID empty). Refusals: 10015
// malformed ids, 10010 unknown group or topic (a topic of another community
// too), 10004 a TopicId on a group that is not a Community created with
// SupportTopic.
func (s *Service) groupLog(ctx context.Context, app int64, groupID, topicID string) (store.Group, string, error) {
	if topicID == "" && strings.Contains(groupID, TopicSep) {
		topicID, groupID = groupID, ""
	}
	if topicID == "" {
		g, err := s.loadGroup(ctx, app, groupID)
		return g, groupID, err
	}
	if groupID != "" {
		g, err := s.loadGroup(ctx, app, groupID)
		if err != nil {
			return g, "", err
		}
		if g.Type != gate.GroupCommunity || !g.SupportTopic {
			return g, "", groupBad("group %q is not a Community created with SupportTopic: leave out TopicId", groupID)
		}
	}
	if err := checkTopicID(topicID, groupID); err != nil {
		return store.Group{}, "", err
	}
	community, err := s.resolveTopic(ctx, app, topicID)
	if err != nil {
		return store.Group{}, "", err
	}
	if groupID != "" && community != groupID {
		return store.Group{}, "", topicNotFound(topicID)
	}
	g, err := s.loadGroup(ctx, app, community)
	if err != nil {
		return g, "", err
	}
	if g.Type != gate.GroupCommunity || !g.SupportTopic {
		return g, "", topicNotFound(topicID)
	}
	return g, topicID, nil
}

// storedLog is groupLog for the commands of stored logs: live rooms refuse
// with code.
func (s *Service) storedLog(ctx context.Context, app store.App, groupID, topicID string, code int) (store.Group, string, error) {
	if err := s.gate.Active(app); err != nil {
		return store.Group{}, "", err
	}
	g, log, err := s.groupLog(ctx, app.SDKAppID, groupID, topicID)
	if err != nil {
		return g, "", err
	}
	if g.Type == gate.GroupAVChatRoom {
		return g, "", errs.New(code, "live rooms (AVChatRoom) keep no messages")
	}
	return g, log, nil
}

// RefuseTopicMutes answers forbid_send_msg and get_group_muted_account with a
// TopicId: mutes are kept per community, not per topic (docs/decisions.md),
// so a TopicId is refused, 10004 when it names a topic of groupID, else the
// code groupLog gives (10010, 10015, 10004). An empty topicID passes.
func (s *Service) RefuseTopicMutes(ctx context.Context, app store.App, groupID, topicID string) error {
	if topicID == "" {
		return nil
	}
	if err := s.gate.Active(app); err != nil {
		return err
	}
	if _, _, err := s.groupLog(ctx, app.SDKAppID, groupID, topicID); err != nil {
		return err
	}
	return groupBad("topic-level mutes are not supported: mute the member in community %q (leave out TopicId)", groupID)
}
