package im

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

func unixTime(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

func sortStrings(xs []string) { slices.Sort(xs) }

// AddBlocks is black_list_add: each To goes into From's blocklist, which ends
// their friendship both ways and refuses pending requests between them. Per item:
// 30001 blocking oneself or one already blocked, 30003 a missing account, 30013
// the blocklist is full (MaxBlocks).
func (s *Service) AddBlocks(ctx context.Context, app store.App, from string, tos []string) ([]ItemResult, error) {
	if _, err := s.snsOwner(ctx, app, from); err != nil {
		return nil, err
	}
	if err := checkAccounts(tos, MaxFriendAccounts); err != nil {
		return nil, err
	}
	var peers []string
	for _, to := range tos {
		if to != from {
			peers = append(peers, to)
		}
	}
	rels, err := s.store.FriendRelations(ctx, app.SDKAppID, from, peers)
	if err != nil {
		return nil, storageErr(err)
	}
	got, err := s.store.AddBlocks(s.withBlocks(ctx, app, from), app.SDKAppID, from, peers, s.clock.Now(), MaxBlocks)
	s.forgetBlocks(app.SDKAppID, from)
	if err != nil {
		return nil, accountGone(err, errs.SNSNoAccount, from)
	}
	out := make([]ItemResult, 0, len(tos))
	var ended []string
	for _, to := range tos {
		res := ItemResult{User: to}
		switch e := got[to]; {
		case to == from:
			res.Err = snsBad("a user cannot block itself")
		case e == nil:
			if r := rels[to]; r.Mine || r.Theirs {
				ended = append(ended, to)
			}
		case errors.Is(e, errs.ErrExists):
			res.Err = snsBad("%q is already in the blocklist of %q", to, from)
		case errors.Is(e, errs.ErrNotFound):
			res.Err = errs.New(errs.SNSNoAccount, "account %q does not exist", to)
		case errors.Is(e, errs.ErrLimit):
			res.Err = errs.New(errs.SNSBlocklistFull, "the blocklist holds at most %d accounts", MaxBlocks)
		default:
			res.Err = storageErr(e)
		}
		out = append(out, res)
	}
	s.noticeFriendsDeleted(app, from, ended)
	return out, nil
}

// DeleteBlocks is black_list_delete; per item 30001 when To was not blocked.
func (s *Service) DeleteBlocks(ctx context.Context, app store.App, from string, tos []string) ([]ItemResult, error) {
	if _, err := s.snsOwner(ctx, app, from); err != nil {
		return nil, err
	}
	if err := checkAccounts(tos, MaxFriendAccounts); err != nil {
		return nil, err
	}
	dctx, err := s.withBlockDelete(ctx, app, from, tos)
	if err != nil {
		return nil, err
	}
	had, err := s.store.DeleteBlocks(dctx, app.SDKAppID, from, tos)
	s.forgetBlocks(app.SDKAppID, from)
	if err != nil {
		return nil, storageErr(err)
	}
	out := make([]ItemResult, 0, len(tos))
	for _, to := range tos {
		res := ItemResult{User: to}
		if !had[to] {
			res.Err = snsBad("%q is not in the blocklist of %q", to, from)
		}
		out = append(out, res)
	}
	return out, nil
}

// BlockPage is one page of black_list_get.
type BlockPage struct {
	Blocks []store.Block
	Next   int // StartIndex of the next page; 0 when this is the last
}

// MaxBlockPage bounds black_list_get's MaxLimited.
const MaxBlockPage = 1000

// GetBlocks is black_list_get: From's blocklist from startIndex, at most
// maxLimited (1 to MaxBlockPage; larger is cut to MaxBlockPage).
func (s *Service) GetBlocks(ctx context.Context, app store.App, from string, startIndex, maxLimited int) (BlockPage, error) {
	if _, err := s.snsOwner(ctx, app, from); err != nil {
		return BlockPage{}, err
	}
	if startIndex < 0 || maxLimited <= 0 {
		return BlockPage{}, snsBad("StartIndex must be 0 or more and MaxLimited more than 0")
	}
	maxLimited = min(maxLimited, MaxBlockPage)
	bs, total, err := s.store.ListBlocks(ctx, app.SDKAppID, from, startIndex, maxLimited)
	if err != nil {
		return BlockPage{}, storageErr(err)
	}
	p := BlockPage{Blocks: bs}
	if next := startIndex + len(bs); next < total {
		p.Next = next
	}
	return p, nil
}

// CheckBlocks is black_list_check: BlackCheckResult_Type_Single looks only at
// From's blocklist (AWithB or NO); BlackCheckResult_Type_Both at both.
func (s *Service) CheckBlocks(ctx context.Context, app store.App, from string, tos []string, checkType string) ([]Relation, error) {
	if checkType != BlackCheckBoth && checkType != BlackCheckSingle {
		return nil, snsBad("CheckType must be %s or %s", BlackCheckBoth, BlackCheckSingle)
	}
	return s.check(ctx, app, from, tos, checkType == BlackCheckBoth, s.store.BlockRelations,
		[4]string{BlackBothWay, BlackAWithB, BlackBWithA, BlackNone})
}

// AddFriendLists is group_add: creates From's friend lists (at most MaxFriendLists
// in all: 30011 beyond, nothing changes) and puts the given friends in them; per
// To 31704 when not a friend.
func (s *Service) AddFriendLists(ctx context.Context, app store.App, from string, names, tos []string) ([]ItemResult, error) {
	if _, err := s.snsOwner(ctx, app, from); err != nil {
		return nil, err
	}
	if len(names) == 0 || len(names) > MaxFriendLists {
		return nil, snsBad("GroupName must list 1 to %d friend lists", MaxFriendLists)
	}
	for _, n := range names {
		if err := checkListName(n); err != nil {
			return nil, err
		}
	}
	if len(tos) > 0 {
		if err := checkAccounts(tos, MaxFriendAccounts); err != nil {
			return nil, err
		}
	}
	got, err := s.store.AddFriendLists(ctx, app.SDKAppID, from, dedup(names), tos, MaxFriendLists)
	if errors.Is(err, errs.ErrLimit) {
		return nil, errs.New(errs.SNSListsFull, "a user has at most %d friend lists", MaxFriendLists)
	}
	if err != nil {
		return nil, storageErr(err)
	}
	out := make([]ItemResult, 0, len(tos))
	for _, to := range tos {
		res := ItemResult{User: to}
		if !got[to] {
			res.Err = errs.New(errs.SNSNotFriends, "%q is not a friend of %q", to, from)
		}
		out = append(out, res)
	}
	return out, nil
}

// DeleteFriendLists is group_delete; 30001 when none of the names is a list of From.
func (s *Service) DeleteFriendLists(ctx context.Context, app store.App, from string, names []string) error {
	if _, err := s.snsOwner(ctx, app, from); err != nil {
		return err
	}
	if len(names) == 0 || len(names) > MaxFriendLists {
		return snsBad("GroupName must list 1 to %d friend lists", MaxFriendLists)
	}
	for _, n := range names {
		if err := checkListName(n); err != nil {
			return err
		}
	}
	had, err := s.store.DeleteFriendLists(ctx, app.SDKAppID, from, names)
	if err != nil {
		return storageErr(err)
	}
	for _, ok := range had {
		if ok {
			return nil
		}
	}
	return snsBad("no friend list of %q has those names", from)
}

// FriendList is one answer of group_get.
type FriendList struct {
	Name    string
	Members []string // the friends in the list
}

// GetFriendLists is group_get: From's friend lists (only names, when given) with
// their friends.
func (s *Service) GetFriendLists(ctx context.Context, app store.App, from string, names []string) ([]FriendList, error) {
	if _, err := s.snsOwner(ctx, app, from); err != nil {
		return nil, err
	}
	if len(names) > MaxFriendLists {
		return nil, snsBad("GroupName lists more than %d friend lists", MaxFriendLists)
	}
	for _, n := range names {
		if err := checkListName(n); err != nil {
			return nil, err
		}
	}
	lists, err := s.store.FriendLists(ctx, app.SDKAppID, from)
	if err != nil {
		return nil, storageErr(err)
	}
	idx := map[string]int{}
	var out []FriendList
	for _, l := range lists {
		if len(names) == 0 || slices.Contains(names, l) {
			idx[l] = len(out)
			out = append(out, FriendList{Name: l, Members: []string{}})
		}
	}
	for off := 0; len(out) > 0; off += 1000 {
		fs, total, err := s.store.ListFriends(ctx, app.SDKAppID, from, off, 1000)
		if err != nil {
			return nil, storageErr(err)
		}
		for _, f := range fs {
			for _, g := range f.Groups {
				if i, ok := idx[g]; ok {
					out[i].Members = append(out[i].Members, f.Peer)
				}
			}
		}
		if off+len(fs) >= total || len(fs) == 0 {
			break
		}
	}
	return out, nil
}
