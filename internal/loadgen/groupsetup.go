package loadgen

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// ErrUnsupported reports a server without the group commands or WebSocket
// ops the group load needs (REST 60009, or "unknown op").
var ErrUnsupported = errors.New("loadgen: the server lacks groups")

// Group load set-up limits: add_group_member takes at most AddMembersChunk
// members a call; a Premium group holds at most MaxGroupMembers.
const (
	AddMembersChunk = 300
	MaxGroupMembers = 2000
	importChunk     = 100
)

// GroupUsers are the users of a group load: one Premium app, user 0 owns the
// group (and sends), users 1..N-1 are its members.
type GroupUsers struct {
	*Users
	Group    string
	LiveRoom bool // an AVChatRoom the members join over WebSocket (group_join)
}

// SetupGroup creates an account with money, one Premium app (so that 2,000
// members fit in a group; live rooms unlimited), members users (g000000, …)
// and the group: for a group load a Public group (FreeAccess, MaxMemberCount
// members) filled with add_group_member in chunks of AddMembersChunk; for a
// live room an AVChatRoom owned by user 0, which the others join when they
// connect. ErrUnsupported (wrapped) when the server lacks create_group or
// add_group_member.
func SetupGroup(ctx context.Context, server, token, name string, members int, liveRoom bool, client *http.Client, tlsConf *tls.Config) (*GroupUsers, error) {
	if members < 2 {
		return nil, fmt.Errorf("loadgen: a group load needs at least 2 members")
	}
	if !liveRoom && members > MaxGroupMembers {
		return nil, fmt.Errorf("loadgen: a Premium group holds at most %d members", MaxGroupMembers)
	}
	if client == nil {
		client = http.DefaultClient
	}
	u := &Users{Server: server, TLS: tlsConf, HTTP: client}
	var acc struct {
		ID string `json:"id"`
	}
	if err := u.operator(ctx, token, "/operator/v1/accounts", map[string]any{"name": name, "email": name + "@example.com"}, &acc); err != nil {
		return nil, err
	}
	var a struct {
		SDKAppID  int64  `json:"sdkappid"`
		SecretKey string `json:"secret_key"`
	}
	if err := u.operator(ctx, token, "/operator/v1/apps", map[string]any{"account": acc.ID, "name": name}, &a); err != nil {
		return nil, err
	}
	var ignore map[string]any
	if err := u.operator(ctx, token, "/operator/v1/accounts/"+acc.ID+"/topup", map[string]any{"cash": "1000.00"}, &ignore); err != nil {
		return nil, err
	}
	plan := map[string]any{"edition": "premium", "months": 1, "accept_agreement": true, "request_id": name + "-plan"}
	if err := u.operator(ctx, token, "/operator/v1/apps/"+strconv.FormatInt(a.SDKAppID, 10)+"/plan", plan, &ignore); err != nil {
		return nil, err
	}
	u.Apps = []App{{a.SDKAppID, a.SecretKey}}
	u.Names = make([]string, members)
	for i := range u.Names {
		u.Names[i] = fmt.Sprintf("g%06d", i)
	}
	for i := 0; i < members; i += importChunk {
		if err := u.REST(ctx, u.Apps[0], "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": u.Names[i:min(i+importChunk, members)]}); err != nil {
			return nil, err
		}
	}
	g := &GroupUsers{Users: u, LiveRoom: liveRoom}
	create := map[string]any{"Owner_Account": u.Names[0], "Type": "Public", "Name": name, "MaxMemberCount": members, "ApplyJoinOption": "FreeAccess"}
	if liveRoom {
		create = map[string]any{"Owner_Account": u.Names[0], "Type": "AVChatRoom", "Name": name}
	}
	var created struct {
		GroupId string
	}
	if err := u.restInto(ctx, "group_open_http_svc/create_group", create, &created); err != nil {
		return nil, err
	}
	g.Group = created.GroupId
	if liveRoom {
		return g, nil
	}
	for i := 1; i < members; i += AddMembersChunk {
		var list []map[string]string
		for _, m := range u.Names[i:min(i+AddMembersChunk, members)] {
			list = append(list, map[string]string{"Member_Account": m})
		}
		var res struct {
			MemberList []struct {
				Member_Account string
				Result         int
			}
		}
		if err := u.restInto(ctx, "group_open_http_svc/add_group_member", map[string]any{"GroupId": g.Group, "Silence": 1, "MemberList": list}, &res); err != nil {
			return nil, err
		}
		for _, r := range res.MemberList {
			if r.Result != 1 {
				return nil, fmt.Errorf("add_group_member: %s: Result %d, want 1 (added)", r.Member_Account, r.Result)
			}
		}
	}
	return g, nil
}

// restInto is REST that decodes the answer into out; 60009 is ErrUnsupported.
func (u *Users) restInto(ctx context.Context, path string, body, out any) error {
	raw, err := u.rest(ctx, u.Apps[0], path, body)
	var re *restError
	if errors.As(err, &re) && re.code == 60009 {
		return fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}
