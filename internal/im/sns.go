package im

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// Relationship chain (reference §3.5): friends. Bounds of the reference: a remark
// is at most 96 bytes, a friend list name 1 to 30 bytes, an add wording 256 bytes,
// an AddSource "AddSource_Type_" and a keyword of 1 to 8 letters, a custom friend
// field Tag_SNS_Custom_<key> with a key of 1 to 8 bytes and a value of at most 500
// bytes. Batches: at most MaxFriendItems items to add, import or update, at most
// MaxFriendAccounts accounts to delete, check, block or look up.
const (
	MaxRemarkBytes     = 96
	MaxListNameBytes   = 30
	MaxAddWordingBytes = 256
	MaxSNSCustomBytes  = 500
	MaxFriendItems     = 100
	MaxFriendAccounts  = 1000
	MaxFriendGetList   = 100
	MaxFriendLists     = 32   // friend lists per user
	MaxPendingRequests = 100  // pending requests a user may have received
	MaxBlocks          = 1000 // blocklist entries per user
	FriendPageSize     = 100  // friend_get's page
)

// Values of the relationship chain (reference vocabulary).
const (
	AddTypeBoth        = "Add_Type_Both"
	AddTypeSingle      = "Add_Type_Single"
	DeleteTypeBoth     = "Delete_Type_Both"
	DeleteTypeSingle   = "Delete_Type_Single"
	CheckBoth          = "CheckResult_Type_Both"
	CheckSingle        = "CheckResult_Type_Single"
	RelationBothWay    = "CheckResult_Type_BothWay"
	RelationAWithB     = "CheckResult_Type_AWithB"
	RelationBWithA     = "CheckResult_Type_BWithA"
	RelationNone       = "CheckResult_Type_NoRelation"
	BlackCheckBoth     = "BlackCheckResult_Type_Both"
	BlackCheckSingle   = "BlackCheckResult_Type_Single"
	BlackBothWay       = "BlackCheckResult_Type_BothWay"
	BlackAWithB        = "BlackCheckResult_Type_AWithB"
	BlackBWithA        = "BlackCheckResult_Type_BWithA"
	BlackNone          = "BlackCheckResult_Type_NO"
	TagSNSGroup        = "Tag_SNS_IM_Group"
	TagSNSRemark       = "Tag_SNS_IM_Remark"
	TagSNSAddSource    = "Tag_SNS_IM_AddSource"
	TagSNSAddWording   = "Tag_SNS_IM_AddWording"
	TagSNSAddTime      = "Tag_SNS_IM_AddTime"
	TagSNSCustom       = "Tag_SNS_Custom_"
	AllowNeedConfirm   = "AllowType_Type_NeedConfirm"
	AllowAny           = "AllowType_Type_AllowAny"
	AllowDenyAny       = "AllowType_Type_DenyAny"
	FriendExistInfo    = "Err_SNS_FriendAdd_Friend_Exist"
	addSourcePrefix    = "AddSource_Type_"
	adminForbidSendOut = "AdminForbid_Type_SendOut"
)

// FriendItem is one friend to add or import. Groups holds GroupName (one for
// friend_add, several for friend_import); AddTime (Unix seconds) and Custom
// (Tag_SNS_Custom_* to JSON value) are friend_import's.
type FriendItem struct {
	To         string
	Remark     string
	Groups     []string
	AddSource  string
	AddWording string
	AddTime    int64
	Custom     []ProfileItem
}

// ItemResult is the outcome of one item of a batch: Err nil for success, else an
// *errs.Error whose code and message are the item's ResultCode and ResultInfo.
type ItemResult struct {
	User string
	Err  error
}

// snsOwner checks the app, the acting user's id and that the user exists.
func (s *Service) snsOwner(ctx context.Context, app store.App, from string) (store.User, error) {
	if err := s.gate.Active(app); err != nil {
		return store.User{}, err
	}
	if err := checkSNSUser("From_Account", from); err != nil {
		return store.User{}, err
	}
	users, err := s.loadUsers(ctx, app.SDKAppID, from)
	if err != nil {
		return store.User{}, err
	}
	u, ok := users[from]
	if !ok {
		return store.User{}, errs.New(errs.SNSNoAccount, "account %q does not exist", from)
	}
	return u, nil
}

func profileString(u store.User, tag string) string {
	var v string
	_ = json.Unmarshal([]byte(u.Profile[tag]), &v)
	return v
}

// friendErr maps a store failure of a friend insert to the item's error.
func (s *Service) friendErr(app store.App, owner string, err error) error {
	var full *store.ListFull
	switch {
	case errors.As(err, &full):
		return s.gate.FriendsFull(app, full.User == owner)
	case errors.Is(err, errs.ErrNotFound):
		return errs.New(errs.SNSNoAccount, "account does not exist")
	case errors.Is(err, errs.ErrLimit):
		return errs.New(errs.SNSListsFull, "at most %d friend lists per user", MaxFriendLists)
	}
	return storageErr(err)
}

// AddFriends is friend_add: From_Account asks each item's To_Account to be a
// friend, both ways (Add_Type_Both, the default) or one way (Add_Type_Single).
// Per item: 30001 Err_SNS_FriendAdd_Friend_Exist when the friendship exists,
// 30003 a missing account, 30009 From's AdminForbidType forbids it, 30515/30525
// a block either way, 30516 the target's AllowType is DenyAny, 30539 a pending
// request was created (AllowType_Type_NeedConfirm, the default), 30010/30014
// a friend list at the edition's limit, 30012 the target's pending requests are
// full. ForceAddFlags (force) skips AllowType and AdminForbidType. Bad input
// fails the whole call with 30001 and changes nothing.
func (s *Service) AddFriends(ctx context.Context, app store.App, from string, items []FriendItem, addType string, force bool) ([]ItemResult, error) {
	owner, err := s.snsOwner(ctx, app, from)
	if err != nil {
		return nil, err
	}
	if addType == "" {
		addType = AddTypeBoth
	}
	if addType != AddTypeBoth && addType != AddTypeSingle {
		return nil, snsBad("AddType must be %s or %s", AddTypeBoth, AddTypeSingle)
	}
	if len(items) == 0 || len(items) > MaxFriendItems {
		return nil, snsBad("AddFriendItem must hold 1 to %d items", MaxFriendItems)
	}
	tos := make([]string, len(items))
	for i, it := range items {
		if len(it.Groups) > 1 {
			return nil, snsBad("friend_add takes one GroupName per item")
		}
		if err := checkItem(it, true); err != nil {
			return nil, err
		}
		tos[i] = it.To
	}
	targets, err := s.loadUsers(ctx, app.SDKAppID, tos...)
	if err != nil {
		return nil, err
	}
	blocks, err := s.store.BlockRelations(ctx, app.SDKAppID, from, tos)
	if err != nil {
		return nil, storageErr(err)
	}
	rels, err := s.store.FriendRelations(ctx, app.SDKAppID, from, tos)
	if err != nil {
		return nil, storageErr(err)
	}
	refused, err := s.beforeFriendAdd(ctx, app, from, items, addType, force)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	out := make([]ItemResult, 0, len(items))
	var made []string
	for _, it := range items {
		res := ItemResult{User: it.To}
		if e := refused[it.To]; e != nil { // by the app's Sns.CallbackPrevFriendAdd
			out = append(out, ItemResult{User: it.To, Err: e})
			continue
		}
		target, ok := targets[it.To]
		rel := rels[it.To]
		if slices.Contains(made, it.To) { // listed again: an earlier item of this call made it
			rel.Mine, rel.Theirs = true, rel.Theirs || addType == AddTypeBoth
		}
		switch {
		case it.To == from:
			res.Err = snsBad("a user cannot add itself as a friend")
		case !ok:
			res.Err = errs.New(errs.SNSNoAccount, "account %q does not exist", it.To)
		case rel.Mine && (addType == AddTypeSingle || rel.Theirs):
			res.Err = errs.New(errs.SNSBadParams, FriendExistInfo)
		case blocks[it.To].Mine:
			res.Err = errs.New(errs.SNSPeerBlocked, "%q is in the blocklist of %q", it.To, from)
		case blocks[it.To].Theirs:
			res.Err = errs.New(errs.SNSBlockedByPeer, "%q is in the blocklist of %q", from, it.To)
		case !force && profileString(owner, TagAdminForbidType) == adminForbidSendOut:
			res.Err = errs.New(errs.SNSAddForbidden, "%q may not add friends (AdminForbid_Type_SendOut)", from)
		case !force && profileString(target, TagAllowType) == AllowDenyAny:
			res.Err = errs.New(errs.SNSDenyAny, "%q accepts no friend requests (AllowType_Type_DenyAny)", it.To)
		case !force && profileString(target, TagAllowType) != AllowAny:
			// AllowType_Type_NeedConfirm, the default: a pending request.
			res.Err = s.request(ctx, app, store.FriendRequest{From: from, To: it.To, AddType: addType, AddSource: it.AddSource,
				AddWording: it.AddWording, Remark: it.Remark, GroupName: first(it.Groups), At: now})
		default:
			rows := []store.Friend{{Owner: from, Peer: it.To, Remark: it.Remark, Groups: it.Groups, AddSource: it.AddSource, AddWording: it.AddWording, AddTime: now}}
			if addType == AddTypeBoth {
				rows = append(rows, store.Friend{Owner: it.To, Peer: from, AddSource: it.AddSource, AddTime: now})
			}
			actx := s.withFriendAdd(ctx, app, from, it.To, addType == AddTypeBoth, "friend_add", force)
			if _, err := s.store.AddFriends(actx, app.SDKAppID, rows, s.gate.MaxFriends(app)); err != nil {
				res.Err = s.friendErr(app, from, err)
			} else {
				made = append(made, it.To)
			}
		}
		out = append(out, res)
	}
	s.noticeFriendsAdded(app, from, made)
	return out, nil
}

func first(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return xs[0]
}

// ImportFriends is friend_import: one-way friends of From with their fields
// (AddTime, several friend lists, custom fields), without AllowType. Per item as
// AddFriends (30001 Err_SNS_FriendAdd_Friend_Exist, 30003, 30515, 30525, 30010).
func (s *Service) ImportFriends(ctx context.Context, app store.App, from string, items []FriendItem) ([]ItemResult, error) {
	if _, err := s.snsOwner(ctx, app, from); err != nil {
		return nil, err
	}
	if len(items) == 0 || len(items) > MaxFriendItems {
		return nil, snsBad("AddFriendItem must hold 1 to %d items", MaxFriendItems)
	}
	rows := make([]store.Friend, len(items))
	tos := make([]string, len(items))
	now := s.clock.Now()
	for i, it := range items {
		if err := checkItem(it, true); err != nil {
			return nil, err
		}
		custom, err := checkCustom(it.Custom)
		if err != nil {
			return nil, err
		}
		at := now
		if it.AddTime > 0 {
			at = unixTime(it.AddTime)
		}
		rows[i] = store.Friend{Owner: from, Peer: it.To, Remark: it.Remark, Groups: it.Groups, AddSource: it.AddSource,
			AddWording: it.AddWording, AddTime: at, Custom: custom}
		tos[i] = it.To
	}
	blocks, err := s.store.BlockRelations(ctx, app.SDKAppID, from, tos)
	if err != nil {
		return nil, storageErr(err)
	}
	out := make([]ItemResult, 0, len(items))
	var made []string
	for i, it := range items {
		res := ItemResult{User: it.To}
		switch {
		case it.To == from:
			res.Err = snsBad("a user cannot add itself as a friend")
		case blocks[it.To].Mine:
			res.Err = errs.New(errs.SNSPeerBlocked, "%q is in the blocklist of %q", it.To, from)
		case blocks[it.To].Theirs:
			res.Err = errs.New(errs.SNSBlockedByPeer, "%q is in the blocklist of %q", from, it.To)
		default:
			n, err := s.store.AddFriends(ctx, app.SDKAppID, rows[i:i+1], s.gate.MaxFriends(app))
			switch {
			case err != nil:
				res.Err = s.friendErr(app, from, err)
			case n == 0:
				res.Err = errs.New(errs.SNSBadParams, FriendExistInfo)
			default:
				made = append(made, it.To)
			}
		}
		out = append(out, res)
	}
	s.noticeFriendsAdded(app, from, made)
	return out, nil
}

// FriendUpdate is one item of friend_update: the SnsItem tags of To's row.
type FriendUpdate struct {
	To    string
	Items []ProfileItem
}

// UpdateFriends is friend_update: Tag_SNS_IM_Remark (string), Tag_SNS_IM_Group
// (array of list names), Tag_SNS_IM_AddWording and Tag_SNS_Custom_* of From's
// friends. Any bad item fails the whole call (30001) before anything changes; a
// To that is not From's friend gets 31704 (and is in Fail_Account).
func (s *Service) UpdateFriends(ctx context.Context, app store.App, from string, ups []FriendUpdate) ([]ItemResult, error) {
	if _, err := s.snsOwner(ctx, app, from); err != nil {
		return nil, err
	}
	if len(ups) == 0 || len(ups) > MaxFriendItems {
		return nil, snsBad("UpdateItem must hold 1 to %d items", MaxFriendItems)
	}
	tos := make([]string, len(ups))
	for i, u := range ups {
		if err := checkSNSUser("To_Account", u.To); err != nil {
			return nil, err
		}
		if len(u.Items) == 0 || len(u.Items) > 64 {
			return nil, snsBad("SnsItem of %q must hold 1 to 64 items", u.To)
		}
		if err := applySNSItems(&store.Friend{}, u.Items); err != nil {
			return nil, err
		}
		tos[i] = u.To
	}
	rows, err := s.store.GetFriends(ctx, app.SDKAppID, from, tos)
	if err != nil {
		return nil, storageErr(err)
	}
	out := make([]ItemResult, 0, len(ups))
	for _, u := range ups {
		res := ItemResult{User: u.To}
		f, ok := rows[u.To]
		if !ok {
			res.Err = errs.New(errs.SNSNotFriends, "%q is not a friend of %q", u.To, from)
		} else {
			_ = applySNSItems(&f, u.Items) // checked above
			if err := s.store.UpdateFriend(ctx, app.SDKAppID, f); err != nil {
				res.Err = s.friendErr(app, from, err)
			} else {
				rows[u.To] = f
			}
		}
		out = append(out, res)
	}
	return out, nil
}

// DeleteFriends is friend_delete: Delete_Type_Both (the default) also takes From
// out of each peer's list. Per item 31704 when To is not From's friend.
func (s *Service) DeleteFriends(ctx context.Context, app store.App, from string, tos []string, deleteType string) ([]ItemResult, error) {
	if _, err := s.snsOwner(ctx, app, from); err != nil {
		return nil, err
	}
	both, err := deleteBoth(deleteType)
	if err != nil {
		return nil, err
	}
	if err := checkAccounts(tos, MaxFriendAccounts); err != nil {
		return nil, err
	}
	dctx, err := s.withFriendDelete(ctx, app, from, tos, both)
	if err != nil {
		return nil, err
	}
	had, err := s.store.DeleteFriends(dctx, app.SDKAppID, from, tos, both)
	if err != nil {
		return nil, storageErr(err)
	}
	out := make([]ItemResult, 0, len(tos))
	var gone []string
	for _, to := range tos {
		res := ItemResult{User: to}
		if !had[to] {
			res.Err = errs.New(errs.SNSNotFriends, "%q is not a friend of %q", to, from)
		} else {
			gone = append(gone, to)
		}
		out = append(out, res)
	}
	s.noticeFriendsDeleted(app, from, gone)
	return out, nil
}

func deleteBoth(t string) (bool, error) {
	switch t {
	case "", DeleteTypeBoth:
		return true, nil
	case DeleteTypeSingle:
		return false, nil
	}
	return false, snsBad("DeleteType must be %s or %s", DeleteTypeBoth, DeleteTypeSingle)
}

// DeleteAllFriends is friend_delete_all: every friend of From (with
// Delete_Type_Both also From from their lists; the default is
// Delete_Type_Single, as in the reference); each of them and From hear
// friend_deleted.
func (s *Service) DeleteAllFriends(ctx context.Context, app store.App, from, deleteType string) error {
	if _, err := s.snsOwner(ctx, app, from); err != nil {
		return err
	}
	if deleteType == "" {
		deleteType = DeleteTypeSingle // the reference's default for friend_delete_all
	}
	both, err := deleteBoth(deleteType)
	if err != nil {
		return err
	}
	// The friends to tell, read first (at most the edition's friends per user).
	var peers []string
	for off := 0; ; off += 1000 {
		fs, total, err := s.store.ListFriends(ctx, app.SDKAppID, from, off, 1000)
		if err != nil {
			return storageErr(err)
		}
		for _, f := range fs {
			peers = append(peers, f.Peer)
		}
		if len(fs) == 0 || off+len(fs) >= total {
			break
		}
	}
	dctx, err := s.withFriendDelete(ctx, app, from, peers, both)
	if err != nil {
		return err
	}
	if _, err = s.store.DeleteAllFriends(dctx, app.SDKAppID, from, both); err != nil {
		return storageErr(err)
	}
	s.noticeFriendsDeleted(app, from, peers)
	return nil
}
