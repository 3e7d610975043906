package restapi

import "github.com/chatd/chatd/internal/errs"

// configFamily is openconfigsvr's: malformed JSON is the REST-wide 60003, a
// field of the wrong type or a missing account 70402 (docs/decisions.md).
var configFamily = &family{name: "config", jsonCode: errs.JSONParse, badCode: errs.InvalidParameters,
	typeCode: func(string) int { return errs.InvalidParameters }}

// openconfigsvr/setnospeaking: {Set_Account, C2CmsgNospeakingTime,
// GroupmsgNospeakingTime} (seconds; 0 unmutes; 4294967295 forever; an absent
// one is kept) -> envelope.
func setNoSpeaking(c *call) (any, error) {
	var req struct {
		Set_Account            string
		C2CmsgNospeakingTime   *uint64
		GroupmsgNospeakingTime *uint64
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Set_Account == "" {
		return nil, c.bad("Set_Account is required")
	}
	return nil, c.im().SetNoSpeaking(c.ctx, c.app, req.Set_Account, req.C2CmsgNospeakingTime, req.GroupmsgNospeakingTime)
}

// openconfigsvr/getnospeaking: {Get_Account} -> C2CmsgNospeakingTime,
// GroupmsgNospeakingTime: the seconds left (0 not muted, 4294967295 forever).
func getNoSpeaking(c *call) (any, error) {
	var req struct{ Get_Account string }
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Get_Account == "" {
		return nil, c.bad("Get_Account is required")
	}
	c2c, group, err := c.im().GetNoSpeaking(c.ctx, c.app, req.Get_Account)
	if err != nil {
		return nil, err
	}
	return struct {
		C2CmsgNospeakingTime   uint64
		GroupmsgNospeakingTime uint64
	}{c2c, group}, nil
}
