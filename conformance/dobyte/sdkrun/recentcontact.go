package main

import (
	"fmt"

	"github.com/dobyte/tencent-im/private"
	"github.com/dobyte/tencent-im/recentcontact"
)

// recentContacts runs every call of the SDK's recentcontact module: by now
// alice has conversations with bob (sendmsg both ways) and carol (the batch
// send).
func (s *suite) recentContacts() {
	c := s.c
	rc := s.im.RecentContact()
	list := func(user string) (map[string]*recentcontact.SessionItem, error) {
		out := map[string]*recentcontact.SessionItem{}
		pages := 0
		err := rc.PullSessions(&recentcontact.PullSessionsArg{UserId: user, IsAllowTopSession: true,
			IsReturnEmptySession: true, IsAllowTopSessionPaging: true}, func(ret *recentcontact.FetchSessionsRet) {
			pages++
			for _, it := range ret.List {
				out[it.UserId+it.GroupId] = it
			}
		})
		if err == nil && pages == 0 {
			err = fmt.Errorf("PullSessions called back no page")
		}
		return out, err
	}
	c.check("recentcontact/get_list", func() error {
		ret, err := rc.FetchSessions(&recentcontact.FetchSessionsArg{UserId: s.alice, IsAllowTopSession: true})
		if err != nil {
			return failed("FetchSessions", err)
		}
		if ret.HasMore {
			return fmt.Errorf("two conversations, HasMore true")
		}
		got := map[string]*recentcontact.SessionItem{}
		for _, it := range ret.List {
			got[it.UserId] = it
		}
		for _, peer := range []string{s.bob, s.carol} {
			it := got[peer]
			if it == nil || it.Type != recentcontact.SessionTypeC2C || it.MsgTime <= 0 || it.TopFlag != 0 {
				return fmt.Errorf("conversation with %s: %+v (list %+v)", peer, it, ret.List)
			}
		}
		return nil
	})
	c.check("recentcontact/get_list/PullSessions", func() error {
		got, err := list(s.alice)
		if err != nil {
			return failed("PullSessions", err)
		}
		if got[s.bob] == nil || got[s.carol] == nil {
			return fmt.Errorf("PullSessions: %v", got)
		}
		return nil
	})
	c.check("recentcontact/get_list/unknown-account", func() error {
		_, err := rc.FetchSessions(&recentcontact.FetchSessionsArg{UserId: s.ghost})
		return wantCode("FetchSessions of a never-imported account", err, 50001)
	})
	c.check("recentcontact/delete", func() error {
		if err := rc.DeleteSession(s.alice, s.bob, recentcontact.SessionTypeC2C); err != nil {
			return failed("DeleteSession", err)
		}
		got, err := list(s.alice)
		if err != nil {
			return failed("PullSessions", err)
		}
		if got[s.bob] != nil || got[s.carol] == nil {
			return fmt.Errorf("after deleting the conversation with %s: %v", s.bob, got)
		}
		if h, err := s.history(s.alice, s.bob, 10); err != nil || len(h.List) == 0 {
			return fmt.Errorf("a delete without ClearRamble lost the history: %v", err)
		}
		return nil
	})
	c.check("recentcontact/delete/new-message-brings-it-back", func() error {
		msg := private.NewMessage()
		msg.SetSender(s.bob)
		msg.SetReceivers(s.alice)
		msg.SetContent(text("back again"))
		ret, err := s.im.Private().SendMessage(msg)
		if err != nil {
			return failed("SendMessage", err)
		}
		got, err := list(s.alice)
		if err != nil {
			return failed("PullSessions", err)
		}
		if it := got[s.bob]; it == nil || it.MsgTime != ret.MsgTime {
			return fmt.Errorf("after a new message: %+v, want MsgTime %d", it, ret.MsgTime)
		}
		return nil
	})
	c.check("recentcontact/delete/ClearRamble", func() error {
		if err := rc.DeleteSession(s.alice, s.bob, recentcontact.SessionTypeC2C, true); err != nil {
			return failed("DeleteSession with ClearRamble", err)
		}
		h, err := s.history(s.alice, s.bob, 10)
		if err != nil {
			return failed("FetchMessages", err)
		}
		if len(h.List) != 0 {
			return fmt.Errorf("alice's history with bob after ClearRamble: %d messages", len(h.List))
		}
		if h, err := s.history(s.bob, s.alice, 10); err != nil || len(h.List) == 0 {
			return fmt.Errorf("bob's history lost with alice's ClearRamble: %v", err)
		}
		return nil
	})
}
