package im

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/store"
)

// Reading the relationship chain: friend_check, black_list_check, friend_get,
// friend_get_list.
// Relation is one answer of friend_check or black_list_check.
type Relation struct {
	User     string
	Relation string
	Err      error // 30003: the account does not exist
}

// CheckFriends is friend_check: CheckResult_Type_Single looks only at From's list
// (AWithB or NoRelation); CheckResult_Type_Both at both (BothWay, AWithB, BWithA,
// NoRelation).
func (s *Service) CheckFriends(ctx context.Context, app store.App, from string, tos []string, checkType string) ([]Relation, error) {
	if checkType != CheckBoth && checkType != CheckSingle {
		return nil, snsBad("CheckType must be %s or %s", CheckBoth, CheckSingle)
	}
	return s.check(ctx, app, from, tos, checkType == CheckBoth, s.store.FriendRelations,
		[4]string{RelationBothWay, RelationAWithB, RelationBWithA, RelationNone})
}

func (s *Service) check(ctx context.Context, app store.App, from string, tos []string, both bool,
	rel func(context.Context, int64, string, []string) (map[string]store.Relation, error), names [4]string) ([]Relation, error) {
	if _, err := s.snsOwner(ctx, app, from); err != nil {
		return nil, err
	}
	if err := checkAccounts(tos, MaxFriendAccounts); err != nil {
		return nil, err
	}
	users, err := s.imported(ctx, app.SDKAppID, tos...)
	if err != nil {
		return nil, err
	}
	rels, err := rel(ctx, app.SDKAppID, from, tos)
	if err != nil {
		return nil, storageErr(err)
	}
	out := make([]Relation, 0, len(tos))
	for _, to := range tos {
		r := rels[to]
		if !both {
			r.Theirs = false
		}
		res := Relation{User: to}
		switch {
		case !users[to]:
			res.Err = errs.New(errs.SNSNoAccount, "account %q does not exist", to)
			res.Relation = names[3]
		case r.Mine && r.Theirs:
			res.Relation = names[0]
		case r.Mine:
			res.Relation = names[1]
		case r.Theirs:
			res.Relation = names[2]
		default:
			res.Relation = names[3]
		}
		out = append(out, res)
	}
	return out, nil
}

// FriendPage is one page of friend_get.
type FriendPage struct {
	Friends  []store.Friend
	Total    int
	Next     int  // NextStartIndex
	Complete bool // CompleteFlag
}

// GetFriends is friend_get: From's friends from startIndex, FriendPageSize per page.
func (s *Service) GetFriends(ctx context.Context, app store.App, from string, startIndex int) (FriendPage, error) {
	if _, err := s.snsOwner(ctx, app, from); err != nil {
		return FriendPage{}, err
	}
	if startIndex < 0 {
		return FriendPage{}, snsBad("StartIndex must not be negative")
	}
	fs, total, err := s.store.ListFriends(ctx, app.SDKAppID, from, startIndex, FriendPageSize)
	if err != nil {
		return FriendPage{}, storageErr(err)
	}
	next := startIndex + len(fs)
	p := FriendPage{Friends: fs, Total: total, Complete: next >= total}
	if !p.Complete {
		p.Next = next
	}
	return p, nil
}

// FriendData is one answer of friend_get_list: the requested SNS and profile tags
// of one friend, or Err (31704 not a friend).
type FriendData struct {
	User  string
	Items []ProfileItem
	Err   error
}

// GetFriendList is friend_get_list: the TagList tags (Tag_SNS_IM_*, Tag_SNS_Custom_*
// and profile tags Tag_Profile_*) of the given friends.
func (s *Service) GetFriendList(ctx context.Context, app store.App, from string, tos, tags []string) ([]FriendData, error) {
	if _, err := s.snsOwner(ctx, app, from); err != nil {
		return nil, err
	}
	if err := checkAccounts(tos, MaxFriendGetList); err != nil {
		return nil, err
	}
	if len(tags) == 0 || len(tags) > 128 {
		return nil, snsBad("TagList must hold 1 to 128 tags")
	}
	var profileTags []string
	for _, t := range tags {
		if err := input.Text(t); err != nil || len(t) > 64 {
			return nil, snsBad("TagList holds an invalid tag")
		}
		if strings.HasPrefix(t, "Tag_Profile_") {
			profileTags = append(profileTags, t)
		} else if !strings.HasPrefix(t, "Tag_SNS_") {
			return nil, snsBad("tag %q does not exist", t)
		}
	}
	rows, err := s.store.GetFriends(ctx, app.SDKAppID, from, tos)
	if err != nil {
		return nil, storageErr(err)
	}
	profiles := map[string][]ProfileItem{}
	if len(profileTags) > 0 {
		ps, err := s.GetProfiles(ctx, app, tos, profileTags)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			profiles[p.User] = p.Items
		}
	}
	out := make([]FriendData, 0, len(tos))
	for _, to := range tos {
		d := FriendData{User: to}
		f, ok := rows[to]
		if !ok {
			d.Err = errs.New(errs.SNSNotFriends, "%q is not a friend of %q", to, from)
			out = append(out, d)
			continue
		}
		values := FriendValues(f)
		for _, t := range tags {
			for _, v := range values {
				if v.Tag == t {
					d.Items = append(d.Items, v)
				}
			}
		}
		d.Items = append(d.Items, profiles[to]...)
		out = append(out, d)
	}
	return out, nil
}

// FriendValues lists a friend row as tags: Tag_SNS_IM_Group (when in a list),
// Tag_SNS_IM_Remark, Tag_SNS_IM_AddSource, Tag_SNS_IM_AddWording (when set),
// Tag_SNS_IM_AddTime and the custom fields.
func FriendValues(f store.Friend) []ProfileItem {
	var out []ProfileItem
	add := func(tag string, v any) {
		b, _ := json.Marshal(v)
		out = append(out, ProfileItem{Tag: tag, Value: b})
	}
	if len(f.Groups) > 0 {
		add(TagSNSGroup, f.Groups)
	}
	if f.Remark != "" {
		add(TagSNSRemark, f.Remark)
	}
	add(TagSNSAddSource, f.AddSource)
	if f.AddWording != "" {
		add(TagSNSAddWording, f.AddWording)
	}
	add(TagSNSAddTime, f.AddTime.Unix())
	keys := make([]string, 0, len(f.Custom))
	for k := range f.Custom {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, k := range keys {
		out = append(out, ProfileItem{Tag: k, Value: json.RawMessage(f.Custom[k])})
	}
	return out
}
