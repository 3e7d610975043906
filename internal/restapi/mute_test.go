package restapi_test

import (
	"testing"
	"time"
)

// noSpeaking returns getnospeaking's two times of user in app A.
func (e *env) noSpeaking(user string) (c2c, group int64) {
	e.t.Helper()
	var out struct{ C2CmsgNospeakingTime, GroupmsgNospeakingTime int64 }
	e.call("openconfigsvr/getnospeaking", M{"Get_Account": user}).wantOK("C2CmsgNospeakingTime", "GroupmsgNospeakingTime").into(&out)
	return out.C2CmsgNospeakingTime, out.GroupmsgNospeakingTime
}

// TestGlobalMute: a muted sender's one-to-one messages are refused with 20012
// (sendmsg and batchsendmsg) until the mute ends by the server's clock; the
// receiver and other senders are not affected; 4294967295 never ends; 0
// unmutes; the group time is kept apart. On both stores.
func TestGlobalMute(t *testing.T) {
	newEnvEach(t, func(t *testing.T, e *env) {
		e.importUsers(e.a, "alice", "bob")
		send := func(from, to string) reply {
			return e.call("openim/sendmsg", M{"From_Account": from, "To_Account": to, "MsgRandom": 1, "MsgBody": hello})
		}
		send("alice", "bob").wantOK("MsgTime", "MsgKey", "MsgId")
		if c, g := e.noSpeaking("alice"); c != 0 || g != 0 {
			t.Fatalf("unmuted alice: %d, %d", c, g)
		}

		e.call("openconfigsvr/setnospeaking", M{"Set_Account": "alice", "C2CmsgNospeakingTime": 60, "GroupmsgNospeakingTime": 300}).wantOK()
		seq := e.lastSeq(e.a, "bob")
		send("alice", "bob").wantErr(20012, "muted")
		e.call("openim/batchsendmsg", M{"From_Account": "alice", "To_Account": []string{"bob"}, "MsgRandom": 2, "MsgBody": hello}).wantErr(20012)
		if e.lastSeq(e.a, "bob") != seq {
			t.Fatal("a muted sender's message was stored")
		}
		send("bob", "alice").wantOK("MsgTime", "MsgKey", "MsgId") // the receiver side is not muted
		if c, g := e.noSpeaking("alice"); c != 60 || g != 300 {
			t.Fatalf("getnospeaking = %d, %d; want 60, 300", c, g)
		}

		e.clock.Advance(59*time.Second + 500*time.Millisecond)
		send("alice", "bob").wantErr(20012)
		if c, _ := e.noSpeaking("alice"); c != 1 {
			t.Fatalf("half a second left: getnospeaking = %d, want 1 (rounded up)", c)
		}
		e.clock.Advance(500 * time.Millisecond)
		send("alice", "bob").wantOK("MsgTime", "MsgKey", "MsgId")
		if c, g := e.noSpeaking("alice"); c != 0 || g != 240 {
			t.Fatalf("after the C2C mute: %d, %d; want 0, 240", c, g)
		}

		// Forever, then an absent field keeps it, then 0 unmutes.
		e.call("openconfigsvr/setnospeaking", M{"Set_Account": "alice", "C2CmsgNospeakingTime": uint64(4294967295)}).wantOK()
		e.clock.Advance(365 * 24 * time.Hour)
		send("alice", "bob").wantErr(20012)
		e.call("openconfigsvr/setnospeaking", M{"Set_Account": "alice", "GroupmsgNospeakingTime": 10}).wantOK()
		if c, g := e.noSpeaking("alice"); c != 4294967295 || g != 10 {
			t.Fatalf("forever: %d, %d; want 4294967295, 10", c, g)
		}
		e.call("openconfigsvr/setnospeaking", M{"Set_Account": "alice", "C2CmsgNospeakingTime": 0}).wantOK()
		send("alice", "bob").wantOK("MsgTime", "MsgKey", "MsgId")
	})
}

// TestGlobalMuteBadInput: malformed setnospeaking and getnospeaking calls get
// the reference code and change nothing.
func TestGlobalMuteBadInput(t *testing.T) {
	e := newEnv(t)
	e.importUsers(e.a, "alice")
	e.importUsers(e.c, "carol")
	e.call("openconfigsvr/setnospeaking", M{"Set_Account": "alice", "C2CmsgNospeakingTime": 100, "GroupmsgNospeakingTime": 200}).wantOK()
	cases := []struct {
		name string
		path string
		req  any
		code int
	}{
		{"set body not JSON", "openconfigsvr/setnospeaking", `{"Set_Account":`, 60003},
		{"set body an array", "openconfigsvr/setnospeaking", `[1]`, 60003},
		{"set no account", "openconfigsvr/setnospeaking", M{"C2CmsgNospeakingTime": 1}, 70402},
		{"set account a number", "openconfigsvr/setnospeaking", M{"Set_Account": 7, "C2CmsgNospeakingTime": 1}, 70402},
		{"set no time", "openconfigsvr/setnospeaking", M{"Set_Account": "alice"}, 70402},
		{"set time a string", "openconfigsvr/setnospeaking", M{"Set_Account": "alice", "C2CmsgNospeakingTime": "60"}, 70402},
		{"set time negative", "openconfigsvr/setnospeaking", M{"Set_Account": "alice", "C2CmsgNospeakingTime": -1}, 70402},
		{"set time a fraction", "openconfigsvr/setnospeaking", M{"Set_Account": "alice", "GroupmsgNospeakingTime": 1.5}, 70402},
		{"set time over 32 bits", "openconfigsvr/setnospeaking", M{"Set_Account": "alice", "C2CmsgNospeakingTime": uint64(4294967296)}, 70402},
		{"set one good and one over", "openconfigsvr/setnospeaking", M{"Set_Account": "alice", "C2CmsgNospeakingTime": 0, "GroupmsgNospeakingTime": uint64(1) << 40}, 70402},
		{"set missing user", "openconfigsvr/setnospeaking", M{"Set_Account": "ghost", "C2CmsgNospeakingTime": 0}, 70107},
		{"set user of another app", "openconfigsvr/setnospeaking", M{"Set_Account": "carol", "C2CmsgNospeakingTime": 0}, 70107},
		{"set malformed user", "openconfigsvr/setnospeaking", M{"Set_Account": " alice", "C2CmsgNospeakingTime": 0}, 70402},
		{"get no account", "openconfigsvr/getnospeaking", M{}, 70402},
		{"get account an array", "openconfigsvr/getnospeaking", M{"Get_Account": []string{"alice"}}, 70402},
		{"get missing user", "openconfigsvr/getnospeaking", M{"Get_Account": "ghost"}, 70107},
		{"get user of another app", "openconfigsvr/getnospeaking", M{"Get_Account": "carol"}, 70107},
	}
	for _, c := range cases {
		r := e.call(c.path, c.req)
		if r.code() != c.code {
			t.Errorf("%s: answered %d (%s), want %d", c.name, r.code(), r.info(), c.code)
			continue
		}
		r.wantErr(c.code)
		if c2c, g := e.noSpeaking("alice"); c2c != 100 || g != 200 {
			t.Fatalf("%s: a refused call changed alice's mute to %d, %d", c.name, c2c, g)
		}
	}
}
