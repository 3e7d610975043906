package main

import (
	"fmt"
	"reflect"
	"time"

	"github.com/dobyte/tencent-im/private"
	"github.com/dobyte/tencent-im/push"
)

// push runs the SDK's push module (all_member_push): attribute names, user
// attributes and tags, and im_push by tag, whose message reaches the tagged user.
func (s *suite) push() {
	c := s.c
	p := s.im.Push()

	c.check("im_set_attr_name", func() error {
		if err := p.SetAttrNames(map[int]string{0: "sex", 1: "city"}); err != nil {
			return failed("SetAttrNames", err)
		}
		return nil
	})
	c.check("im_get_attr_name", func() error {
		names, err := p.GetAttrNames()
		if err != nil {
			return failed("GetAttrNames", err)
		}
		if want := map[int]string{0: "sex", 1: "city"}; !reflect.DeepEqual(names, want) {
			return fmt.Errorf("GetAttrNames = %v, want %v", names, want)
		}
		return nil
	})
	c.check("im_set_attr", func() error {
		err := p.SetUserAttrs(map[string]map[string]interface{}{
			s.alice: {"sex": "f", "city": "Paris"},
			s.bob:   {"sex": "m"},
		})
		if err != nil {
			return failed("SetUserAttrs", err)
		}
		return nil
	})
	c.check("im_set_attr/unknown-attribute", func() error {
		err := p.SetUserAttrs(map[string]map[string]interface{}{s.alice: {"age": "30"}})
		return wantCode("SetUserAttrs with an attribute the app did not name", err, 90033)
	})
	c.check("im_remove_attr", func() error {
		if err := p.DeleteUserAttrs(map[string][]string{s.alice: {"city"}}); err != nil {
			return failed("DeleteUserAttrs", err)
		}
		return nil
	})
	c.check("im_get_attr", func() error {
		attrs, err := p.GetUserAttrs(s.alice, s.bob, s.ghost)
		if err != nil {
			return failed("GetUserAttrs", err)
		}
		want := map[string]map[string]interface{}{s.alice: {"sex": "f"}, s.bob: {"sex": "m"}, s.ghost: {}}
		if !reflect.DeepEqual(attrs, want) {
			return fmt.Errorf("GetUserAttrs = %v, want %v", attrs, want)
		}
		return nil
	})
	c.check("im_add_tag", func() error {
		if err := p.AddUserTags(map[string][]string{s.alice: {"vip"}, s.bob: {"vip", "new"}, s.carol: {"new"}}); err != nil {
			return failed("AddUserTags", err)
		}
		return nil
	})
	c.check("im_remove_tag", func() error {
		if err := p.DeleteUserTags(map[string][]string{s.bob: {"vip"}}); err != nil {
			return failed("DeleteUserTags", err)
		}
		return nil
	})
	c.check("im_remove_all_tags", func() error {
		if err := p.DeleteUserAllTags(s.carol); err != nil {
			return failed("DeleteUserAllTags", err)
		}
		return nil
	})
	c.check("im_get_tag", func() error {
		tags, err := p.GetUserTags(s.alice, s.bob, s.carol)
		if err != nil {
			return failed("GetUserTags", err)
		}
		want := map[string][]string{s.alice: {"vip"}, s.bob: {"new"}, s.carol: {}}
		if !reflect.DeepEqual(tags, want) {
			return fmt.Errorf("GetUserTags = %v, want %v", tags, want)
		}
		return nil
	})
	c.check("im_push/unknown-attribute", func() error {
		m := push.NewMessage()
		m.SetContent(text("nobody"))
		m.SetLifeTime(60)
		m.SetConditionAttrsAnd(map[string]interface{}{"age": "30"})
		_, err := p.PushMessage(m)
		return wantCode("PushMessage by an attribute the app did not name", err, 90033)
	})
	c.check("im_push", func() error {
		m := push.NewMessage()
		m.SetSender(s.carol)
		m.SetContent(text("for vip only"))
		m.SetLifeTime(3600)
		m.SetConditionTagsAnd("vip")
		id, err := p.PushMessage(m)
		if err != nil {
			return failed("PushMessage", err)
		}
		if id == "" {
			return fmt.Errorf("PushMessage returned an empty TaskId")
		}
		// The push runs in the background: alice (tagged) has it in her history
		// with carol soon; bob (untagged now) never does.
		deadline := time.Now().Add(10 * time.Second)
		for {
			ret, err := s.im.Private().FetchMessages(&private.FetchMessagesArg{
				FromUserId: s.alice, ToUserId: s.carol, MaxLimited: 10,
				MinTime: time.Now().Unix() - 3600, MaxTime: time.Now().Unix() + 60,
			})
			if err != nil {
				return failed("FetchMessages", err)
			}
			found := false
			for _, it := range ret.List {
				if t, _ := bodyText(it); t == "for vip only" {
					found = true
				}
			}
			if found {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the pushed message is not in alice's history after 10 s (%d messages)", len(ret.List))
			}
			time.Sleep(50 * time.Millisecond)
		}
		ret, err := s.im.Private().FetchMessages(&private.FetchMessagesArg{
			FromUserId: s.bob, ToUserId: s.carol, MaxLimited: 10,
			MinTime: time.Now().Unix() - 3600, MaxTime: time.Now().Unix() + 60,
		})
		if err != nil {
			return failed("FetchMessages", err)
		}
		for _, it := range ret.List {
			if t, _ := bodyText(it); t == "for vip only" {
				return fmt.Errorf("bob, not tagged vip, got the push")
			}
		}
		return nil
	})
}
