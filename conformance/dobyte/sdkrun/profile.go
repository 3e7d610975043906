package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dobyte/tencent-im/private"
	"github.com/dobyte/tencent-im/profile"
)

// Custom profile fields the test declares for the app before sdkrun runs
// (conformance/dobyte: chatd app profile-field add): "hobby" (a string of at most
// 500 bytes) and "team" (a string of at most 8 bytes). "pets" stays undeclared.
const declaredShortField = "team"

// profileFields checks every standard profile field the SDK can set, typed as
// its getters read them, the refusals of bad values and of an undeclared custom
// field, and the profile push that is not visible through REST.
func (s *suite) profileFields() {
	c := s.c
	prof := s.im.Profile()
	p := profile.NewProfile(s.carol)
	p.SetNickname("Carol")
	p.SetGender(profile.GenderTypeMale)
	p.SetLocation(86, 10, 100, 1000) // 16 bytes, as the SDK encodes it
	p.SetSignature("hi")
	p.SetAllowType(profile.AllowTypeNeedConfirm)
	p.SetLanguage(1)
	p.SetMsgSettings(1)
	p.SetAdminForbidType(profile.AdminForbidTypeSendOut)
	p.SetLevel(4294967295)
	p.SetRole(0)
	p.SetCustomAttr(declaredShortField, "reds")
	c.check("portrait_set/every-standard-field", func() error {
		if err := prof.SetProfile(p); err != nil {
			return failed("SetProfile", err)
		}
		return nil
	})
	c.check("portrait_get/every-standard-field-typed", func() error {
		tags := make([]string, 0, len(p.GetAttrs()))
		for tag := range p.GetAttrs() {
			tags = append(tags, tag)
		}
		ps, err := prof.GetProfiles([]string{s.carol}, tags)
		if err != nil {
			return failed("GetProfiles", err)
		}
		if len(ps) != 1 || !ps[0].IsValid() {
			return fmt.Errorf("got %d profiles, want carol's with ResultCode 0", len(ps))
		}
		got := ps[0]
		var probs []string
		for tag, want := range p.GetAttrs() {
			if v, ok := got.GetAttr(tag); !ok || !sameJSON(v, want) {
				probs = append(probs, fmt.Sprintf("%s = %#v, want %#v", tag, v, want))
			}
		}
		// The SDK's typed getters (each panics on a value of another JSON type).
		if co, pr, ci, re, ok := got.GetLocation(); !ok || co != 86 || pr != 10 || ci != 100 || re != 1000 {
			probs = append(probs, fmt.Sprintf("GetLocation() = %d %d %d %d %v", co, pr, ci, re, ok))
		}
		if v, ok := got.GetMsgSettings(); !ok || v != 1 {
			probs = append(probs, fmt.Sprintf("GetMsgSettings() = %d %v", v, ok))
		}
		if v, ok := got.GetAdminForbidType(); !ok || v != profile.AdminForbidTypeSendOut {
			probs = append(probs, fmt.Sprintf("GetAdminForbidType() = %q %v", v, ok))
		}
		if v, ok := got.GetLevel(); !ok || v != 4294967295 {
			probs = append(probs, fmt.Sprintf("GetLevel() = %d %v", v, ok))
		}
		if v, ok := got.GetRole(); !ok || v != 0 {
			probs = append(probs, fmt.Sprintf("GetRole() = %d %v", v, ok))
		}
		if v, ok := got.GetLanguage(); !ok || v != 1 {
			probs = append(probs, fmt.Sprintf("GetLanguage() = %d %v", v, ok))
		}
		if v, ok := got.GetAllowType(); !ok || v != profile.AllowTypeNeedConfirm {
			probs = append(probs, fmt.Sprintf("GetAllowType() = %q %v", v, ok))
		}
		if len(probs) > 0 {
			return errors.New(strings.Join(probs, "; "))
		}
		return nil
	})
	refused := func(name string, code int, set func(p *profile.Profile)) {
		c.check(name, func() error {
			bad := profile.NewProfile(s.carol)
			set(bad)
			return wantCode("SetProfile", prof.SetProfile(bad), code)
		})
	}
	refused("portrait_set/undeclared-custom-field", 40009, func(p *profile.Profile) { p.SetCustomAttr("pets", "cat") })
	refused("portrait_set/custom-value-over-its-bound", 40601, func(p *profile.Profile) { p.SetCustomAttr(declaredShortField, "123456789") })
	refused("portrait_set/nick-over-500-bytes", 40601, func(p *profile.Profile) { p.SetNickname(strings.Repeat("n", 501)) })
	refused("portrait_set/gender-outside-its-set", 40605, func(p *profile.Profile) { p.SetGender("Gender_Type_Robot") })
	refused("portrait_set/level-over-uint32", 40610, func(p *profile.Profile) { p.SetLevel(4294967296) })
	refused("portrait_set/unknown-account", 40003, func(p *profile.Profile) {
		p.SetUserId(s.ghost)
		p.SetNickname("x")
	})
	c.check("portrait_get/refused-changes-left-nothing", func() error {
		ps, err := prof.GetProfiles([]string{s.carol}, []string{profile.StandardAttrNickname, profile.StandardAttrGender, "Tag_Profile_Custom_" + declaredShortField})
		if err != nil {
			return failed("GetProfiles", err)
		}
		if n, _ := ps[0].GetNickname(); n != "Carol" {
			return fmt.Errorf("Nick = %q after refused changes", n)
		}
		if g, _ := ps[0].GetGender(); g != profile.GenderTypeMale {
			return fmt.Errorf("Gender = %q after refused changes", g)
		}
		if v, _ := ps[0].GetCustomAttr(declaredShortField); v != "reds" {
			return fmt.Errorf("%s = %#v after refused changes", declaredShortField, v)
		}
		return nil
	})
	c.check("portrait_get/undeclared-custom-tag", func() error {
		_, err := prof.GetProfiles([]string{s.carol}, []string{"Tag_Profile_Custom_pets"})
		return wantCode("GetProfiles", err, 40009)
	})
}

// globalMute checks setnospeaking and getnospeaking as the SDK calls them, and
// that a muted sender's message is refused with 20012.
func (s *suite) globalMute() {
	c := s.c
	mute := s.im.Mute()
	send := func(from, to, body string) error {
		msg := private.NewMessage()
		msg.SetSender(from)
		msg.SetReceivers(to)
		msg.SetContent(text(body))
		_, err := s.im.Private().SendMessage(msg)
		return err
	}
	u := func(v uint) *uint { return &v }
	c.check("setnospeaking", func() error {
		if err := mute.SetNoSpeaking(s.carol, u(600), u(0)); err != nil {
			return failed("SetNoSpeaking", err)
		}
		return nil
	})
	c.check("getnospeaking", func() error {
		ret, err := mute.GetNoSpeaking(s.carol)
		if err != nil {
			return failed("GetNoSpeaking", err)
		}
		if ret.PrivateMuteTime == 0 || ret.PrivateMuteTime > 600 || ret.GroupMuteTime != 0 {
			return fmt.Errorf("GetNoSpeaking = %+v; want 1..600 seconds left and no group mute", *ret)
		}
		return nil
	})
	c.check("sendmsg/muted-sender", func() error {
		return wantCode("SendMessage from a muted sender", send(s.carol, s.alice, "muted"), 20012)
	})
	c.check("setnospeaking/forever-and-group-kept", func() error {
		if err := mute.SetNoSpeaking(s.carol, nil, u(4294967295)); err != nil {
			return failed("SetNoSpeaking", err)
		}
		ret, err := mute.GetNoSpeaking(s.carol)
		if err != nil {
			return failed("GetNoSpeaking", err)
		}
		if ret.PrivateMuteTime == 0 || ret.PrivateMuteTime > 600 || ret.GroupMuteTime != 4294967295 {
			return fmt.Errorf("GetNoSpeaking = %+v; want the C2C mute kept and the group mute forever", *ret)
		}
		return nil
	})
	c.check("setnospeaking/unmute", func() error {
		if err := mute.SetNoSpeaking(s.carol, u(0), u(0)); err != nil {
			return failed("SetNoSpeaking", err)
		}
		if ret, err := mute.GetNoSpeaking(s.carol); err != nil || ret.PrivateMuteTime != 0 || ret.GroupMuteTime != 0 {
			return fmt.Errorf("after unmuting: %+v, %v", ret, err)
		}
		if err := send(s.carol, s.alice, "unmuted"); err != nil {
			return failed("SendMessage after unmuting", err)
		}
		return nil
	})
	c.check("setnospeaking/unknown-account", func() error {
		return wantCode("SetNoSpeaking", mute.SetNoSpeaking(s.ghost, u(1), nil), 70107)
	})
	c.check("getnospeaking/unknown-account", func() error {
		_, err := mute.GetNoSpeaking(s.ghost)
		return wantCode("GetNoSpeaking", err, 70107)
	})
}
