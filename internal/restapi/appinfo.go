package restapi

import (
	"context"
	"strconv"
	"strings"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// DailyUsage reads an app's figures of the last n UTC days, oldest first, one
// item per day (usage.Recorder.LastDays).
type DailyUsage interface {
	LastDays(ctx context.Context, app int64, n int) ([]store.DailyUsage, error)
}

// appInfoDays is the number of days getappinfo answers, as the reference.
const appInfoDays = 30

// appInfoFields are the reference's getappinfo fields; recorded says which
// ones chatd records (the others are left out of the answer).
var appInfoFields = map[string]bool{
	"AppId": true, "AppName": true, "Company": false, "ActiveUserNum": true, "RegistUserNumOneDay": false,
	"RegistUserNumTotal": false, "LoginTimes": true, "LoginUserNum": false, "MaxOnlineNum": false,
	"UpMsgNum": true, "DownMsgNum": false, "SendMsgUserNum": false, "APNSMsgNum": false,
	"C2CUpMsgNum": true, "C2CDownMsgNum": false, "C2CSendMsgUserNum": false, "C2CAPNSMsgNum": false,
	"GroupUpMsgNum": true, "GroupDownMsgNum": false, "GroupSendMsgUserNum": false, "GroupAPNSMsgNum": false,
	"GroupSendMsgGroupNum": false, "GroupJoinGroupTimes": false, "GroupQuitGroupTimes": false,
	"GroupNewGroupNum": false, "GroupAllGroupNum": false, "GroupDestroyGroupNum": false,
	"ChainIncrease": false, "ChainDecrease": false, "CallBackReq": false, "CallBackRsp": false, "Date": true,
}

// openconfigsvr/getappinfo: {RequestField?: [names]} -> Result: one object
// per UTC day of the last 30 (today included), oldest first, every value a
// JSON string, Date "YYYYMMDD". Of the reference's fields, AppId, AppName,
// ActiveUserNum, LoginTimes, UpMsgNum, C2CUpMsgNum, GroupUpMsgNum and Date
// are answered; the others are left out. RequestField (at most one item per
// field, each a reference field name, else 70402) keeps the answered fields
// it names, and Date always. Figures are those flushed so far (up to 10
// seconds behind).
func getAppInfo(c *call) (any, error) {
	var req struct{ RequestField []string }
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if len(req.RequestField) > len(appInfoFields) {
		return nil, c.bad("RequestField lists %d fields; there are %d", len(req.RequestField), len(appInfoFields))
	}
	want := func(string) bool { return true }
	if len(req.RequestField) > 0 {
		asked := map[string]bool{"Date": true}
		for _, f := range req.RequestField {
			if _, ok := appInfoFields[f]; !ok {
				return nil, c.bad("RequestField: unknown field %q", f)
			}
			asked[f] = true
		}
		want = func(f string) bool { return asked[f] }
	}
	if c.h.cfg.Daily == nil {
		return nil, errs.New(errs.UnknownCommand, "command not supported by this server: v4/openconfigsvr/getappinfo")
	}
	days, err := c.h.cfg.Daily.LastDays(c.ctx, c.app.SDKAppID, appInfoDays)
	if err != nil {
		return nil, errs.Hidden(err)
	}
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	out := make([]map[string]string, 0, len(days))
	for _, d := range days {
		all := map[string]string{
			"AppId": n(c.app.SDKAppID), "AppName": c.app.Name, "ActiveUserNum": n(d.ActiveUsers),
			"LoginTimes": n(d.Logins), "UpMsgNum": n(d.C2CMsgs + d.GroupMsgs), "C2CUpMsgNum": n(d.C2CMsgs),
			"GroupUpMsgNum": n(d.GroupMsgs), "Date": strings.ReplaceAll(d.Day, "-", ""),
		}
		item := make(map[string]string, len(all))
		for f, v := range all {
			if want(f) {
				item[f] = v
			}
		}
		out = append(out, item)
	}
	return struct{ Result []map[string]string }{out}, nil
}
