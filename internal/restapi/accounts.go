package restapi

import (
	"context"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/im"
	"github.com/chatd/chatd/internal/store"
)

// accountNotExist is the reference's ResultInfo for a per-account 70107.
const accountNotExist = "Err_TLS_PT_Open_Login_Account_Not_Exist"

// pickID returns the documented UserID, or the older Identifier spelling that
// older SDKs (dobyte, xjcloudy, pku-hit) send instead.
func pickID(userID, identifier string) string {
	if userID != "" {
		return userID
	}
	return identifier
}

// im_open_login_svc/account_import: {UserID|Identifier, Nick, FaceUrl} -> envelope.
func accountImport(c *call) (any, error) {
	var req struct {
		UserID     string
		Identifier string
		Nick       string
		FaceUrl    string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	id := pickID(req.UserID, req.Identifier)
	if id == "" {
		return nil, c.bad("UserID is required")
	}
	return nil, c.im().ImportAccounts(c.ctx, c.app, []store.User{{UserID: id, Nick: req.Nick, FaceURL: req.FaceUrl}})
}

// im_open_login_svc/multiaccount_import: {Accounts: [id...]} (old) and/or
// {AccountList: [{UserID, Nick, FaceUrl}]} (new) -> FailAccounts.
//
// A malformed UserID fails only that account (listed in FailAccounts); the others are
// imported together. A batch of the wrong size fails as a whole.
func multiAccountImport(c *call) (any, error) {
	var req struct {
		Accounts    []string
		AccountList []struct {
			UserID     string
			Identifier string
			Nick       string
			FaceUrl    string
		}
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	users := make([]store.User, 0, len(req.Accounts)+len(req.AccountList))
	for _, id := range req.Accounts {
		users = append(users, store.User{UserID: id})
	}
	for _, a := range req.AccountList {
		users = append(users, store.User{UserID: pickID(a.UserID, a.Identifier), Nick: a.Nick, FaceURL: a.FaceUrl})
	}
	fail := []string{}
	if len(users) == 0 || len(users) > im.MaxBatchAccounts {
		return nil, c.im().ImportAccounts(c.ctx, c.app, users) // the domain's batch-size error
	}
	valid := users[:0:0]
	for _, u := range users {
		if im.ValidUserID(u.UserID) != nil {
			fail = append(fail, u.UserID)
			continue
		}
		valid = append(valid, u)
	}
	if len(valid) > 0 {
		if err := c.im().ImportAccounts(c.ctx, c.app, valid); err != nil {
			return nil, err
		}
	}
	return struct{ FailAccounts []string }{fail}, nil
}

type userItem struct {
	UserID string
}

func userIDs(items []userItem) []string {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.UserID
	}
	return ids
}

// perAccount calls a batch method of the domain with the well-formed UserIDs only,
// so that a malformed one fails only its own item (as the reference's per-account
// ResultItem does) instead of the whole call. A batch of the wrong size goes to the
// domain as is, for its batch-size error.
func perAccount(c *call, ids []string, fn func(context.Context, store.App, []string) (map[string]bool, error)) (map[string]bool, map[string]error, error) {
	if len(ids) == 0 || len(ids) > im.MaxBatchAccounts {
		found, err := fn(c.ctx, c.app, ids)
		return found, nil, err
	}
	invalid := map[string]error{}
	var valid []string
	for _, id := range ids {
		if err := im.ValidUserID(id); err != nil {
			invalid[id] = err
			continue
		}
		valid = append(valid, id)
	}
	if len(valid) == 0 {
		return map[string]bool{}, invalid, nil
	}
	found, err := fn(c.ctx, c.app, valid)
	return found, invalid, err
}

// im_open_login_svc/account_delete: {DeleteItem: [{UserID}]} ->
// ResultItem [{ResultCode, ResultInfo, UserID}]; an unknown account is 70107.
func accountDelete(c *call) (any, error) {
	var req struct{ DeleteItem []userItem }
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	ids := userIDs(req.DeleteItem)
	found, invalid, err := perAccount(c, ids, c.im().DeleteAccounts)
	if err != nil {
		return nil, err
	}
	type result struct {
		ResultCode int
		ResultInfo string
		UserID     string
	}
	out := make([]result, len(ids))
	for i, id := range ids {
		out[i] = result{UserID: id}
		switch {
		case invalid[id] != nil:
			out[i].ResultCode, out[i].ResultInfo = errs.CodeOf(invalid[id]), errInfo(invalid[id])
		case !found[id]:
			out[i].ResultCode, out[i].ResultInfo = errs.AccountNotFound, accountNotExist
		}
	}
	return struct{ ResultItem []result }{out}, nil
}

// im_open_login_svc/account_check: {CheckItem: [{UserID}]} ->
// ResultItem [{UserID, ResultCode, ResultInfo, AccountStatus: Imported|NotImported}].
func accountCheck(c *call) (any, error) {
	var req struct{ CheckItem []userItem }
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	ids := userIDs(req.CheckItem)
	found, invalid, err := perAccount(c, ids, c.im().CheckAccounts)
	if err != nil {
		return nil, err
	}
	type result struct {
		UserID        string
		ResultCode    int
		ResultInfo    string
		AccountStatus string
	}
	out := make([]result, len(ids))
	for i, id := range ids {
		out[i] = result{UserID: id, AccountStatus: "NotImported"}
		switch {
		case invalid[id] != nil:
			out[i].ResultCode, out[i].ResultInfo = errs.CodeOf(invalid[id]), errInfo(invalid[id])
		case found[id]:
			out[i].AccountStatus = "Imported"
		}
	}
	return struct{ ResultItem []result }{out}, nil
}

// im_open_login_svc/kick: {UserID|Identifier} -> envelope.
func kick(c *call) (any, error) {
	var req struct {
		UserID     string
		Identifier string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	id := pickID(req.UserID, req.Identifier)
	if id == "" {
		return nil, c.bad("UserID is required")
	}
	return nil, c.im().Kick(c.ctx, c.app, id)
}

// openim/query_online_status (legacy: openim/querystate): {To_Account: [...],
// IsNeedDetail, IsReturnCustomStatus} -> QueryResult [{To_Account, Status,
// State, Detail, CustomStatus}], ErrorList.
//
// Each result carries the state under both names: "Status" (what dobyte reads) and
// "State" (the documented samples and the legacy querystate clients): Online,
// PushOnline (only mobile devices that lost their connection without logging out)
// or Offline. Detail (IsNeedDetail 1) lists each device's Platform (the
// reference's names: iPhone, Android, iPad, Web, PC, Mac, ...) and Status.
// CustomStatus (IsReturnCustomStatus 1) is the user status feature: refused with
// errs.FeatureNotInEdition on an edition without it. Accounts that are malformed
// or not imported are in ErrorList (70402 / 70107), not in QueryResult.
func queryOnlineStatus(c *call) (any, error) {
	var req struct {
		To_Account           []string
		IsNeedDetail         int
		IsReturnCustomStatus int
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.IsReturnCustomStatus == 1 {
		if err := c.im().StatusAllowed(c.app); err != nil {
			return nil, err
		}
	}
	states, err := c.im().OnlineStatus(c.ctx, c.app, req.To_Account)
	if err != nil {
		return nil, err
	}
	var custom map[string]string
	if req.IsReturnCustomStatus == 1 {
		var found []string
		for _, st := range states {
			if st.Err == nil {
				found = append(found, st.User)
			}
		}
		if custom, err = c.im().CustomStatuses(c.ctx, c.app, found); err != nil {
			return nil, err
		}
	}
	type failure struct {
		To_Account string
		ErrorCode  int
	}
	type detail struct {
		Platform string
		Status   string
	}
	type result struct {
		To_Account   string
		Status       string
		State        string
		Detail       []detail `json:",omitempty"`
		CustomStatus *string  `json:",omitempty"`
	}
	errorList := []failure{}
	results := []result{}
	for _, st := range states {
		if st.Err != nil {
			errorList = append(errorList, failure{st.User, errs.CodeOf(st.Err)})
			continue
		}
		r := result{To_Account: st.User, Status: st.Status, State: st.Status}
		if req.IsNeedDetail == 1 {
			for _, d := range st.Devices {
				status := "Online"
				if d.Status != "" {
					status = d.Status
				}
				r.Detail = append(r.Detail, detail{Platform: referencePlatform(d.Platform), Status: status})
			}
		}
		if custom != nil {
			cs := custom[st.User]
			r.CustomStatus = &cs
		}
		results = append(results, r)
	}
	return struct {
		QueryResult []result
		ErrorList   []failure
	}{results, errorList}, nil
}

// referencePlatform is the reference's name of a login platform in
// query_online_status details: iPhone for iOS and PC for Windows; the others
// as they are.
func referencePlatform(p string) string {
	switch p {
	case "iOS":
		return "iPhone"
	case "Windows":
		return "PC"
	}
	return p
}
