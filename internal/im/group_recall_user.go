package im

import (
	"context"
	"errors"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// RecallGroupMsg is a device's recall of the message seq of a group (or a
// community topic named in groupID): its sender may recall it, and so may the
// group's owner and admins. The members get a "recall" entry of the log.
// Refusals: 10010, 10033 (live rooms), 10007 (not a member, or another's
// message without the role), 10030 (no such message), 10004 (seq < 1).
// There is no time window: the reference's 2 minutes is a setting of its
// console, and chatd has none (docs/decisions.md).
func (s *Service) RecallGroupMsg(ctx context.Context, app store.App, user, groupID string, seq int64) error {
	if seq < 1 {
		return groupBad("seq must be 1 or more, not %d", seq)
	}
	g, log, err := s.storedLog(ctx, app, groupID, "", errs.GroupRecallNotAllowed)
	if err != nil {
		return err
	}
	m, err := s.memberOf(ctx, app.SDKAppID, g, user)
	if err != nil {
		return err
	}
	es, err := s.store.GroupHistory(ctx, app.SDKAppID, log, seq, 1, s.gate.RetentionStart(app), s.clock.Now())
	if err != nil {
		return storageErr(err)
	}
	if len(es) == 0 || es[0].Seq != seq || es[0].Kind != store.KindMsg || !es[0].VisibleTo(user) {
		return errs.New(errs.GroupRecallNotFound, "group %q has no message with seq %d", groupID, seq)
	}
	if es[0].From != user && !isManager(m.Role) {
		return noPermission("only its sender, the owner and admins may recall message %d of group %q", seq, groupID)
	}
	members, err := s.groupMembers.get(groupKey{app.SDKAppID, g.GroupID}, func() ([]string, error) {
		return s.store.GroupMemberIDs(ctx, app.SDKAppID, g.GroupID)
	})
	if err != nil {
		return storageErr(err)
	}
	now := s.clock.Now()
	op := store.Op{Kind: store.OpGroupRecall, App: app.SDKAppID, Group: log, From: user, MsgSeq: seq, MsgTime: now.Unix(), At: now}
	s.afterGroupRecall(ctx, app.SDKAppID, g, log, user, &op)
	done := make(chan error, 1)
	s.writer.SubmitGroup(op, members, g.GroupID, bus.Origin{}, func(res store.OpResult, err error) {
		switch {
		case err != nil:
			done <- err
		case errors.Is(res.Err, errs.ErrNotFound):
			done <- errs.New(errs.GroupRecallNotFound, "group %q has no message with seq %d", groupID, seq)
		case res.Err != nil:
			done <- storageErr(res.Err)
		default:
			done <- nil
		}
	})
	return <-done
}
