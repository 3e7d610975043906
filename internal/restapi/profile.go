package restapi

import (
	"encoding/json"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/im"
)

// tagValue is one {Tag, Value} of a profile; Value stays raw JSON (string or number).
type tagValue struct {
	Tag   string
	Value json.RawMessage
}

// profile/portrait_set: {From_Account, ProfileItem: [{Tag, Value}]} -> envelope.
func portraitSet(c *call) (any, error) {
	var req struct {
		From_Account string
		ProfileItem  []tagValue
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.From_Account == "" {
		return nil, c.bad("From_Account is required")
	}
	items := make([]im.ProfileItem, len(req.ProfileItem))
	for i, it := range req.ProfileItem {
		items[i] = im.ProfileItem{Tag: it.Tag, Value: it.Value}
	}
	return nil, c.im().SetProfile(c.ctx, c.app, req.From_Account, items)
}

// profile/portrait_get: {To_Account: [...], TagList: [...]} ->
// UserProfileItem [{To_Account, ProfileItem, ResultCode, ResultInfo}], Fail_Account.
// An account that is not imported has ResultCode 40003 and is listed in Fail_Account.
func portraitGet(c *call) (any, error) {
	var req struct {
		To_Account []string
		TagList    []string
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	profiles, err := c.im().GetProfiles(c.ctx, c.app, req.To_Account, req.TagList)
	if err != nil {
		return nil, err
	}
	type userProfile struct {
		To_Account  string
		ProfileItem []tagValue
		ResultCode  int
		ResultInfo  string
	}
	out := make([]userProfile, 0, len(profiles))
	fail := []string{}
	for _, p := range profiles {
		up := userProfile{To_Account: p.User, ProfileItem: []tagValue{}}
		if !p.Found {
			up.ResultCode, up.ResultInfo = errs.ProfileNoAccount, "account does not exist"
			fail = append(fail, p.User)
		}
		for _, it := range p.Items {
			v := it.Value
			if !json.Valid(v) { // never break the whole answer on one odd stored value
				v, _ = json.Marshal(string(v))
			}
			up.ProfileItem = append(up.ProfileItem, tagValue{Tag: it.Tag, Value: v})
		}
		out = append(out, up)
	}
	return struct {
		UserProfileItem []userProfile
		Fail_Account    []string
	}{out, fail}, nil
}
