package main

import (
	"fmt"
	"slices"

	"github.com/dobyte/tencent-im/sns"
)

// sns runs every call of the SDK's sns module (relationship chain): friends,
// blocklist and friend lists, as the SDK sends them and reads the answers.
func (s *suite) sns() {
	c := s.c
	api := s.im.SNS()
	friend := func(id, source string) *sns.Friend {
		f := sns.NewFriend(id)
		f.SetAddSource(source)
		return f
	}
	relation := func(from, to string) (string, error) {
		return api.CheckFriend(from, sns.CheckTypeBoth, to)
	}

	c.check("sns/friend_add/need-confirm-is-30539", func() error {
		err := api.AddFriend(s.alice, true, false, friend(s.bob, "Web"))
		return wantCode("AddFriend without ForceAddFlags (AllowType NeedConfirm by default)", err, 30539)
	})
	c.check("sns/friend_add", func() error {
		f := friend(s.bob, "Web")
		f.SetRemark("Bobby")
		// No SetGroup: v0.1.1's AddFriends reads the group back as []interface{}
		// and indexes an empty slice (a panic in the SDK, before any request).
		f.SetAddWording("hello bob")
		if err := api.AddFriend(s.alice, true, true, f); err != nil {
			return failed("AddFriend", err)
		}
		if rel, err := relation(s.alice, s.bob); err != nil || rel != sns.CheckResultTypeBothWay {
			return fmt.Errorf("CheckFriend = %q, %v; want %s", rel, err, sns.CheckResultTypeBothWay)
		}
		return nil
	})
	c.check("sns/friend_add/batch-results", func() error {
		res, err := api.AddFriends(s.alice, false, true, friend(s.bob, "Web"), friend(s.ghost, "Web"))
		if err != nil {
			return failed("AddFriends", err)
		}
		codes := map[string]int{}
		for _, r := range res {
			codes[r.UserId] = r.ResultCode
		}
		if codes[s.bob] != 30001 || codes[s.ghost] == 0 || len(res) != 2 {
			return fmt.Errorf("ResultItem = %+v; want 30001 for the existing friend and an error for the missing account", codes)
		}
		return nil
	})
	c.check("sns/friend_import", func() error {
		f := friend(s.carol, "Android")
		f.SetRemark("Caro")
		f.SetAddTime(1700000000)
		f.SetSNSCustomAttr("Lvl", 3)
		if err := api.ImportFriend(s.alice, f); err != nil {
			return failed("ImportFriend", err)
		}
		if rel, err := relation(s.alice, s.carol); err != nil || rel != sns.CheckResultTypeAWithB {
			return fmt.Errorf("CheckFriend = %q, %v; want %s", rel, err, sns.CheckResultTypeAWithB)
		}
		return nil
	})
	c.check("sns/friend_update", func() error {
		f := sns.NewFriend(s.carol)
		f.SetRemark("Carol C")
		f.SetGroup("gym")
		return api.UpdateFriend(s.alice, f)
	})
	c.check("sns/friend_get_list", func() error {
		fs, err := api.GetFriends(s.alice, []string{sns.FriendAttrRemark, sns.FriendAttrGroup, sns.FriendAttrAddSource, sns.StandardAttrNickname}, s.carol, s.bob)
		if err != nil {
			return failed("GetFriends", err)
		}
		if len(fs) != 2 {
			return fmt.Errorf("%d friends, want 2", len(fs))
		}
		for _, f := range fs {
			if !f.IsValid() {
				return fmt.Errorf("%s: %v", f.GetUserId(), f.GetError())
			}
			remark, _ := f.GetRemark()
			groups, _ := f.GetGroup()
			source, _ := f.GetSrcAddSource()
			switch f.GetUserId() {
			case s.carol:
				if remark != "Carol C" || !slices.Equal(groups, []string{"gym"}) || source != "AddSource_Type_Android" {
					return fmt.Errorf("carol: remark %q groups %v source %q", remark, groups, source)
				}
			case s.bob:
				if remark != "Bobby" || len(groups) != 0 {
					return fmt.Errorf("bob: remark %q groups %v", remark, groups)
				}
			}
		}
		return nil
	})
	c.check("sns/friend_get", func() error {
		var got []string
		err := api.PullFriends(s.alice, func(ret *sns.FetchFriendsRet) {
			for _, f := range ret.List {
				got = append(got, f.GetUserId())
			}
		})
		if err != nil {
			return failed("PullFriends", err)
		}
		slices.Sort(got)
		want := []string{s.bob, s.carol}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			return fmt.Errorf("friends %v, want %v", got, want)
		}
		ret, err := api.FetchFriends(s.alice, 0)
		if err != nil || ret.Total != 2 || ret.HasMore {
			return fmt.Errorf("FetchFriends = %+v, %v", ret, err)
		}
		return nil
	})
	c.check("sns/friend_check", func() error {
		res, err := api.CheckFriends(s.carol, sns.CheckTypeBoth, s.alice, s.bob)
		if err != nil {
			return failed("CheckFriends", err)
		}
		want := map[string]string{s.alice: sns.CheckResultTypeBWithA, s.bob: sns.CheckResultTypeNoRelation}
		for _, r := range res {
			if want[r.UserId] != r.Relation {
				return fmt.Errorf("%s: Relation %q, want %q", r.UserId, r.Relation, want[r.UserId])
			}
		}
		if len(res) != 2 {
			return fmt.Errorf("%d InfoItem, want 2", len(res))
		}
		return nil
	})
	c.check("sns/group_add", func() error {
		_, res, err := api.AddGroups(s.alice, []string{"family"}, []string{s.bob})
		if err != nil {
			return failed("AddGroups", err)
		}
		if len(res) != 1 || res[0].ResultCode != 0 {
			return fmt.Errorf("ResultItem = %+v", res)
		}
		return nil
	})
	c.check("sns/group_get", func() error {
		_, res, err := api.GetGroups(s.alice, 0, true, "family", "gym")
		if err != nil {
			return failed("GetGroups", err)
		}
		got := map[string][]string{}
		for _, g := range res {
			got[g.GroupName] = g.UserIds
			if g.FriendNumber != len(g.UserIds) {
				return fmt.Errorf("%s: FriendNumber %d for %v", g.GroupName, g.FriendNumber, g.UserIds)
			}
		}
		if !slices.Equal(got["family"], []string{s.bob}) || !slices.Equal(got["gym"], []string{s.carol}) || len(got) != 2 {
			return fmt.Errorf("groups = %v", got)
		}
		return nil
	})
	c.check("sns/group_delete", func() error {
		if _, err := api.DeleteGroups(s.alice, "family"); err != nil {
			return failed("DeleteGroups", err)
		}
		_, res, err := api.GetGroups(s.alice, 0, false, "family")
		if err != nil || len(res) != 0 {
			return fmt.Errorf("after deleting: %+v, %v", res, err)
		}
		return nil
	})
	c.check("sns/black_list_add", func() error {
		res, err := api.AddBlacklist(s.bob, s.alice)
		if err != nil {
			return failed("AddBlacklist", err)
		}
		if len(res) != 1 || res[0].ResultCode != 0 {
			return fmt.Errorf("ResultItem = %+v", res)
		}
		if rel, err := relation(s.alice, s.bob); err != nil || rel != sns.CheckResultTypeNoRelation {
			return fmt.Errorf("after the block CheckFriend = %q, %v; want NoRelation", rel, err)
		}
		res, err = api.AddBlacklist(s.bob, s.alice)
		if err != nil || len(res) != 1 || res[0].ResultCode == 0 {
			return fmt.Errorf("blocking again = %+v, %v; want a per-item error in an OK answer", res, err)
		}
		return nil
	})
	c.check("sns/black_list_add/friend-request-across-block", func() error {
		err := api.AddFriend(s.alice, true, true, friend(s.bob, "Web"))
		return wantCode("AddFriend to a user who blocked the sender", err, 30525)
	})
	c.check("sns/black_list_get", func() error {
		var got []string
		err := api.PullBlacklist(s.bob, 10, func(ret *sns.FetchBlacklistRet) {
			for _, b := range ret.List {
				got = append(got, b.UserId)
			}
		})
		if err != nil {
			return failed("PullBlacklist", err)
		}
		if !slices.Equal(got, []string{s.alice}) {
			return fmt.Errorf("blocklist %v, want [%s]", got, s.alice)
		}
		return nil
	})
	c.check("sns/black_list_check", func() error {
		res, err := api.CheckBlacklist(s.alice, sns.BlacklistCheckTypeBoth, s.bob)
		if err != nil {
			return failed("CheckBlacklist", err)
		}
		if len(res) != 1 || res[0].Relation != sns.BlackCheckResultTypeBWithA {
			return fmt.Errorf("BlackListCheckItem = %+v; want %s", res, sns.BlackCheckResultTypeBWithA)
		}
		return nil
	})
	c.check("sns/black_list_delete", func() error {
		res, err := api.DeleteBlacklist(s.bob, s.alice)
		if err != nil {
			return failed("DeleteBlacklist", err)
		}
		if len(res) != 1 || res[0].ResultCode != 0 {
			return fmt.Errorf("ResultItem = %+v", res)
		}
		return nil
	})
	c.check("sns/friend_delete", func() error {
		if err := api.DeleteFriend(s.alice, false, s.carol); err != nil {
			return failed("DeleteFriend", err)
		}
		err := api.DeleteFriend(s.alice, true, s.carol)
		return wantCode("DeleteFriend of a non-friend", err, 31704)
	})
	c.check("sns/friend_delete_all", func() error {
		if err := api.AddFriend(s.alice, true, true, friend(s.dave, "Web")); err != nil {
			return failed("AddFriend", err)
		}
		if err := api.DeleteAllFriends(s.alice, sns.DeleteTypeBoth); err != nil {
			return failed("DeleteAllFriends", err)
		}
		if rel, err := relation(s.dave, s.alice); err != nil || rel != sns.CheckResultTypeNoRelation {
			return fmt.Errorf("after deleting all: CheckFriend = %q, %v", rel, err)
		}
		return nil
	})
}
