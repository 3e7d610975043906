package im

// App callbacks of the relationship chain (callbacks.go).

import (
	"context"

	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/store"
)

// requesterOf is the Requester_Account of a relationship change of user: the
// app's admin identity when the REST API asked, else user.
func requesterOf(ctx context.Context, app store.App, user string) string {
	if callback.CallerOf(ctx).Platform == callback.PlatformREST {
		return app.AdminUser
	}
	return user
}

// itemRefusal is the error of an Sns.CallbackPrev* item the app refused:
// its ResultCode when in 38000..39000 (the reference's range for the app's
// codes), else 30516 (the target accepts no request).
func itemRefusal(r callback.ItemResult) error {
	if r.Code >= 38000 && r.Code <= 39000 {
		info := r.Info
		if info == "" || input.Text(info) != nil {
			info = "refused by the app's callback"
		}
		return errs.New(r.Code, "%s", info)
	}
	return errs.New(errs.SNSDenyAny, "the friend request to %q was refused by the app's callback", r.To)
}

// beforeFriendAdd asks the app's Sns.CallbackPrevFriendAdd about items (when
// on): the items it refuses, with why. A refusal of the whole request (Code
// != 0) refuses every item: the app's code when it is its own
// (120001..130000), else 30516.
func (s *Service) beforeFriendAdd(ctx context.Context, app store.App, from string, items []FriendItem, addType string, force bool) (map[string]error, error) {
	if !s.on(ctx, app.SDKAppID, callback.SnsPrevFriendAdd) {
		return nil, nil
	}
	body := &callback.PrevFriendAddBody{Requester: requesterOf(ctx, app, from), From: from, AddType: addType,
		FriendItem: make([]callback.FriendItem, len(items))}
	if force {
		body.ForceAddFlags = 1
	}
	for i, it := range items {
		body.FriendItem[i] = callback.FriendItem{To: it.To, Remark: it.Remark, GroupName: first(it.Groups), AddSource: it.AddSource, AddWording: it.AddWording}
	}
	d := s.before(ctx, app.SDKAppID, callback.SnsPrevFriendAdd, body)
	refused := map[string]error{}
	if !d.Allowed() {
		for _, it := range items {
			refused[it.To] = itemRefusal(callback.ItemResult{To: it.To, Code: d.Code, Info: d.Info})
			if d.CustomCode() {
				refused[it.To] = refusal(d, errs.SNSDenyAny, "refused by the app's callback")
			}
		}
		return refused, nil
	}
	for _, r := range d.Results {
		if r.Code != 0 {
			refused[r.To] = itemRefusal(r)
		}
	}
	return refused, nil
}

// beforeFriendResponse asks the app's Sns.CallbackPrevFriendResponse about
// user accepting from's request (when on): a refusal is the item's code
// (38000..39000) or 30516, as in beforeFriendAdd.
func (s *Service) beforeFriendResponse(ctx context.Context, app store.App, user, from string) error {
	if !s.on(ctx, app.SDKAppID, callback.SnsPrevFriendResponse) {
		return nil
	}
	d := s.before(ctx, app.SDKAppID, callback.SnsPrevFriendResponse, &callback.PrevFriendResponseBody{
		Requester: requesterOf(ctx, app, user), From: user,
		ResponseFriendItem: []callback.ResponseItem{{To: from, ResponseAction: "Response_Action_AgreeAndAdd"}}})
	if !d.Allowed() {
		if d.CustomCode() {
			return refusal(d, errs.SNSDenyAny, "refused by the app's callback")
		}
		return itemRefusal(callback.ItemResult{To: from, Code: d.Code, Info: d.Info})
	}
	for _, r := range d.Results {
		if r.Code != 0 && (r.To == from || r.To == "") {
			return itemRefusal(r)
		}
	}
	return nil
}

// withFriendAdd returns ctx carrying the Sns.CallbackFriendAdd of from and to
// becoming friends (both ways when both), for the store call that adds them.
func (s *Service) withFriendAdd(ctx context.Context, app store.App, from, to string, both bool, cmd string, force bool) context.Context {
	return s.withEvent(ctx, app.SDKAppID, callback.SnsFriendAdd, func() callback.Body {
		b := &callback.FriendAddBody{PairList: []callback.Pair{{From: from, To: to, Initiator: from}}, ClientCmd: cmd}
		if both {
			b.PairList = append(b.PairList, callback.Pair{From: to, To: from, Initiator: from})
		}
		if callback.CallerOf(ctx).Platform == callback.PlatformREST {
			b.Admin = app.AdminUser
		}
		if force {
			b.ForceFlag = 1
		}
		return b
	})
}

// withFriendDelete returns ctx carrying the Sns.CallbackFriendDelete of the
// friendships of from with tos that exist now (read just before the store
// call that deletes them): one pair per direction deleted.
func (s *Service) withFriendDelete(ctx context.Context, app store.App, from string, tos []string, both bool) (context.Context, error) {
	if len(tos) == 0 || !s.on(ctx, app.SDKAppID, callback.SnsFriendDelete) {
		return ctx, nil
	}
	rels, err := s.store.FriendRelations(ctx, app.SDKAppID, from, tos)
	if err != nil {
		return ctx, storageErr(err)
	}
	var pairs []callback.Pair
	for _, to := range tos {
		r := rels[to]
		if !r.Mine {
			continue
		}
		pairs = append(pairs, callback.Pair{From: from, To: to})
		if both && r.Theirs {
			pairs = append(pairs, callback.Pair{From: to, To: from})
		}
	}
	if len(pairs) == 0 {
		return ctx, nil
	}
	return store.WithCallbacks(ctx, s.event(ctx, app.SDKAppID, callback.SnsFriendDelete, &callback.PairsBody{PairList: pairs})), nil
}

// withBlocks returns ctx carrying the Sns.CallbackBlackListAdd of the peers
// that the store call blocking them for from blocks (when on): only the store
// knows which (missing accounts, ones already blocked, a full blocklist), so
// the event is built of them inside its transaction (store.WithCallbacksFor)
// and appended with them, or not at all when it blocks none.
func (s *Service) withBlocks(ctx context.Context, app store.App, from string) context.Context {
	if !s.on(ctx, app.SDKAppID, callback.SnsBlackListAdd) {
		return ctx
	}
	return store.WithCallbacksFor(ctx, func(blocked []string) []store.CallbackEvent {
		pairs := make([]callback.Pair, len(blocked))
		for i, to := range blocked {
			pairs[i] = callback.Pair{From: from, To: to}
		}
		return []store.CallbackEvent{s.event(ctx, app.SDKAppID, callback.SnsBlackListAdd, &callback.PairsBody{PairList: pairs})}
	})
}

// withBlockDelete returns ctx carrying the Sns.CallbackBlackListDelete of the
// blocks of from on tos that exist now (read just before the store call).
func (s *Service) withBlockDelete(ctx context.Context, app store.App, from string, tos []string) (context.Context, error) {
	if len(tos) == 0 || !s.on(ctx, app.SDKAppID, callback.SnsBlackListDelete) {
		return ctx, nil
	}
	rels, err := s.store.BlockRelations(ctx, app.SDKAppID, from, tos)
	if err != nil {
		return ctx, storageErr(err)
	}
	var pairs []callback.Pair
	for _, to := range tos {
		if rels[to].Mine {
			pairs = append(pairs, callback.Pair{From: from, To: to})
		}
	}
	if len(pairs) == 0 {
		return ctx, nil
	}
	return store.WithCallbacks(ctx, s.event(ctx, app.SDKAppID, callback.SnsBlackListDelete, &callback.PairsBody{PairList: pairs})), nil
}
