package server

// The group message features of the edition matrix through REST (product.md
// §3): targeted group messages and read receipts are Free Trial and Premium
// only (10059 on Standard). A refused send writes nothing: the group's
// NextMsgSeq does not move.
func groupMsgRows() []matrixRow {
	send := func(extra string) func(a *edApp) (int, string) {
		return func(a *edApp) (int, string) {
			a.restOK(gsvc+"create_group", `{"Type":"Work","Name":"w","GroupId":"w","Owner_Account":"o","MemberList":[{"Member_Account":"m1"},{"Member_Account":"m2"}]}`)
			next := func() float64 {
				info := a.restOK(gsvc+"get_group_info", `{"GroupIdList":["w"]}`)
				return info["GroupInfo"].([]any)[0].(map[string]any)["NextMsgSeq"].(float64)
			}
			before := next()
			code, info, _ := a.rest(gsvc+"send_group_msg", `{"GroupId":"w","From_Account":"o","Random":7,`+
				`"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]`+extra+`}`)
			if after := next(); (code == 0) != (after == before+1) {
				a.t.Fatalf("code %d and NextMsgSeq %v → %v", code, before, after)
			}
			return code, info
		}
	}
	return []matrixRow{
		{name: "send_group_msg To_Account (targeted)", edge: "REST", want: onlyStandardLacksGroup, users: []string{"o", "m1", "m2"},
			says: namesFeature("targeted group messages"), run: send(`,"To_Account":["m1"]`)},
		{name: "send_group_msg NeedReadReceipt", edge: "REST", want: onlyStandardLacksGroup, users: []string{"o", "m1", "m2"},
			says: namesFeature("read receipts for group messages"), run: send(`,"NeedReadReceipt":1`)},
	}
}
