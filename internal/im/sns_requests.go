package im

import (
	"context"
	"errors"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// Notice ops of the relationship chain (docs/protocol.md): pushed to devices.
const (
	NoticeFriendRequest  = "friend_request" // a pending request arrived (to its target)
	NoticeFriendAdded    = "friend_added"   // a friendship was made (to both users)
	NoticeFriendDeleted  = "friend_deleted" // a friendship ended (to both users)
	NoticeRequestRefused = "friend_refused" // a request was refused (to its sender)
)

// RequestInfo is a pending friend request as devices see it.
type RequestInfo struct {
	From       string `json:"from"`
	To         string `json:"to"`
	AddType    string `json:"add_type"`
	AddSource  string `json:"add_source,omitempty"`
	AddWording string `json:"add_wording,omitempty"`
	Time       int64  `json:"time"` // Unix seconds
}

func requestInfo(r store.FriendRequest) RequestInfo {
	return RequestInfo{From: r.From, To: r.To, AddType: r.AddType, AddSource: r.AddSource, AddWording: r.AddWording, Time: r.At.Unix()}
}

// request stores a pending request and tells its target; it returns the item's
// 30539 (pending), or 30012 when the target has MaxPendingRequests already.
func (s *Service) request(ctx context.Context, app store.App, r store.FriendRequest) error {
	err := s.store.PutFriendRequest(ctx, app.SDKAppID, r, MaxPendingRequests)
	switch {
	case errors.Is(err, errs.ErrLimit):
		return errs.New(errs.SNSPendingFull, "%q has %d pending friend requests, the most it may have", r.To, MaxPendingRequests)
	case errors.Is(err, errs.ErrNotFound):
		return errs.New(errs.SNSNoAccount, "account does not exist")
	case err != nil:
		return storageErr(err)
	}
	s.bus.Publish([]bus.Delivery{{App: app.SDKAppID, User: r.To, Kind: bus.KindNotice,
		Notice: &bus.Notice{Op: NoticeFriendRequest, Fields: struct {
			Request RequestInfo `json:"request"`
		}{requestInfo(r)}}}})
	return errs.New(errs.SNSPending, "friend request sent; %q must confirm it", r.To)
}

type peerFields struct {
	Peer string `json:"peer"`
}

// notice publishes op about each peer to user and about user to each peer.
func (s *Service) notice(app store.App, op, user string, peers []string) {
	if len(peers) == 0 {
		return
	}
	ds := make([]bus.Delivery, 0, 2*len(peers))
	for _, p := range peers {
		ds = append(ds,
			bus.Delivery{App: app.SDKAppID, User: user, Kind: bus.KindNotice, Notice: &bus.Notice{Op: op, Fields: peerFields{p}}},
			bus.Delivery{App: app.SDKAppID, User: p, Kind: bus.KindNotice, Notice: &bus.Notice{Op: op, Fields: peerFields{user}}})
	}
	s.bus.Publish(ds)
}

func (s *Service) noticeFriendsAdded(app store.App, user string, peers []string) {
	s.notice(app, NoticeFriendAdded, user, peers)
}

func (s *Service) noticeFriendsDeleted(app store.App, user string, peers []string) {
	s.notice(app, NoticeFriendDeleted, user, peers)
}

// FriendRequests lists the pending requests sent to user (incoming) or by user.
func (s *Service) FriendRequests(ctx context.Context, app store.App, user string, incoming bool) ([]RequestInfo, error) {
	if _, err := s.snsOwner(ctx, app, user); err != nil {
		return nil, err
	}
	rs, err := s.store.FriendRequests(ctx, app.SDKAppID, user, incoming)
	if err != nil {
		return nil, storageErr(err)
	}
	out := make([]RequestInfo, len(rs))
	for i, r := range rs {
		out[i] = requestInfo(r)
	}
	return out, nil
}

// AcceptFriendRequest makes the friendship that from asked of user: from's row
// (with the request's Remark, GroupName, AddSource and AddWording) and, for
// Add_Type_Both, user's row. 30614 when there is no pending request of from;
// 30010/30014 when a friend list is at the edition's limit (the request stays).
func (s *Service) AcceptFriendRequest(ctx context.Context, app store.App, user, from string) error {
	if _, err := s.snsOwner(ctx, app, user); err != nil {
		return err
	}
	if err := checkSNSUser("from", from); err != nil {
		return err
	}
	r, err := s.store.GetFriendRequest(ctx, app.SDKAppID, from, user)
	if errors.Is(err, errs.ErrNotFound) {
		return errs.New(errs.SNSRequestNotFound, "no pending friend request of %q", from)
	}
	if err != nil {
		return storageErr(err)
	}
	if err := s.beforeFriendResponse(ctx, app, user, from); err != nil {
		return err
	}
	now := s.clock.Now()
	f := store.Friend{Owner: from, Peer: user, Remark: r.Remark, AddSource: r.AddSource, AddWording: r.AddWording, AddTime: now}
	if r.GroupName != "" {
		f.Groups = []string{r.GroupName}
	}
	rows := []store.Friend{f}
	if r.AddType != AddTypeSingle {
		rows = append(rows, store.Friend{Owner: user, Peer: from, AddSource: r.AddSource, AddTime: now})
	}
	actx := s.withFriendAdd(ctx, app, from, user, r.AddType != AddTypeSingle, "friend_response", false)
	if _, err := s.store.AddFriends(actx, app.SDKAppID, rows, s.gate.MaxFriends(app)); err != nil {
		return s.friendErr(app, user, err)
	}
	s.noticeFriendsAdded(app, user, []string{from})
	return nil
}

// RefuseFriendRequest refuses from's pending request to user (30614 when none)
// and tells from.
func (s *Service) RefuseFriendRequest(ctx context.Context, app store.App, user, from string) error {
	if _, err := s.snsOwner(ctx, app, user); err != nil {
		return err
	}
	if err := checkSNSUser("from", from); err != nil {
		return err
	}
	err := s.store.DecideFriendRequest(ctx, app.SDKAppID, from, user, store.RequestRefused, s.clock.Now())
	if errors.Is(err, errs.ErrNotFound) {
		return errs.New(errs.SNSRequestNotFound, "no pending friend request of %q", from)
	}
	if err != nil {
		return storageErr(err)
	}
	s.bus.Publish([]bus.Delivery{{App: app.SDKAppID, User: from, Kind: bus.KindNotice,
		Notice: &bus.Notice{Op: NoticeRequestRefused, Fields: peerFields{user}}}})
	return nil
}
