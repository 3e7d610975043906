package im

import (
	"context"
	"sort"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/store"
)

// Conversation lists (rest-api.md 3.6: recentcontact/get_list and delete).

// AssistFlags bits of recentcontact/get_list.
const (
	ConvFlagPinned      = 1 << 0 // pinned conversations first, with TopFlag 1
	ConvFlagEmpty       = 1 << 1 // include conversations without a message (state only)
	ConvFlagPinnedPaged = 1 << 2 // pinned conversations paged by TopTimeStamp/TopStartIndex
)

// ConvPageSize is the number of conversations of one get_list page (pinned
// and others together).
const ConvPageSize = 100

// MaxGroupIDLen bounds a GroupId in a conversation item, in bytes.
const MaxGroupIDLen = 48

// ConvCursor is a get_list position: conversations are ordered by MsgTime,
// newest first; (Time, Index) is "after the first Index conversations whose
// MsgTime is Time, and every newer one". (0, 0) is the start.
type ConvCursor struct {
	Time  int64
	Index int64
}

// ConvListRequest asks for one page of Owner's conversation list.
type ConvListRequest struct {
	Owner       string
	Normal, Top ConvCursor // the reference's TimeStamp/StartIndex and TopTimeStamp/TopStartIndex
	AssistFlags int64
}

// ConvItem is one conversation of a list page.
type ConvItem struct {
	store.ConvID
	MsgTime int64 // 0 for an empty conversation
	MsgKey  string
	From    string
	Seq     int64
	Pinned  bool // TopFlag (only with ConvFlagPinned)
	Unread  int  // unread one-to-one messages, as get_c2c_unread_msg_num counts them
	Marks   uint64
	Custom  string
	Groups  []int64
}

// ConvPage is one page of a conversation list and the cursors of the next.
type ConvPage struct {
	Items       []ConvItem
	Complete    bool
	Normal, Top ConvCursor
}

// ValidConvID checks a conversation item: Type 1 with a valid UserID, or Type
// 2 with a GroupId of 1 to MaxGroupIDLen bytes (errs.ConvBadParams).
func ValidConvID(c store.ConvID) error {
	switch c.Type {
	case store.ConvC2C:
		if err := ValidUserID(c.Peer); err != nil {
			return errs.New(errs.ConvBadParams, "To_Account: %s", errs.Message(err))
		}
	case store.ConvGroupChat:
		if err := input.Identifier(c.Peer, MaxGroupIDLen); err != nil {
			return errs.New(errs.ConvBadParams, "ToGroupId %q: %v", c.Peer, err)
		}
	default:
		return errs.New(errs.ConvBadParams, "Type must be 1 (one-to-one) or 2 (group), not %d", c.Type)
	}
	return nil
}

// convOwner checks the app and the owner: a valid, imported UserID (50002, 50001).
func (s *Service) convOwner(ctx context.Context, app store.App, owner string) error {
	if err := s.gate.Active(app); err != nil {
		return err
	}
	if err := ValidUserID(owner); err != nil {
		return errs.New(errs.ConvBadParams, "From_Account: %s", errs.Message(err))
	}
	users, err := s.imported(ctx, app.SDKAppID, owner)
	if err != nil {
		return err
	}
	if !users[owner] {
		return errs.New(errs.ConvAccountNotFound, "account %q does not exist", owner)
	}
	return nil
}

// ListConversations returns one page of Owner's conversation list: pinned
// conversations first (with ConvFlagPinned; all of them on the first page, or
// paged by the Top cursor with ConvFlagPinnedPaged), then the others, each
// part newest first; at most ConvPageSize items. Unread counts are read at
// query time from the read positions, for the page's one-to-one items only.
func (s *Service) ListConversations(ctx context.Context, app store.App, req ConvListRequest) (ConvPage, error) {
	if req.Normal.Time < 0 || req.Normal.Index < 0 || req.Top.Time < 0 || req.Top.Index < 0 {
		return ConvPage{}, errs.New(errs.ConvBadParams, "the paging cursor must not be negative (REST: TimeStamp, StartIndex, TopTimeStamp, TopStartIndex; WebSocket: cursor.time, index, top_time, top_index)")
	}
	if req.AssistFlags < 0 || req.AssistFlags > 1<<31-1 {
		return ConvPage{}, errs.New(errs.ConvBadParams, "AssistFlags must be a 32-bit flag set, not %d", req.AssistFlags)
	}
	if err := s.convOwner(ctx, app, req.Owner); err != nil {
		return ConvPage{}, err
	}
	rows, memberships, err := s.conversationRows(ctx, app, req.Owner, req.AssistFlags&ConvFlagEmpty != 0)
	if err != nil {
		return ConvPage{}, err
	}
	var pinned, normal []convRow
	for _, r := range rows {
		if r.st != nil && r.st.Pinned && req.AssistFlags&ConvFlagPinned != 0 {
			pinned = append(pinned, r)
		} else {
			normal = append(normal, r)
		}
	}
	page := ConvPage{Normal: req.Normal, Top: req.Top}
	var out []convRow
	room := ConvPageSize
	topDone := true
	switch {
	case req.AssistFlags&ConvFlagPinnedPaged != 0:
		var part []convRow
		part, page.Top, topDone = pageOf(pinned, req.Top, room)
		out = append(out, part...)
		room -= len(part)
	case req.Normal == (ConvCursor{}): // the first page holds every pinned one
		out = append(out, pinned...)
	}
	nPinned := len(out)
	normalDone := true
	if topDone {
		var part []convRow
		part, page.Normal, normalDone = pageOf(normal, req.Normal, max(room, 0))
		out = append(out, part...)
	} else {
		_, _, normalDone = pageOf(normal, req.Normal, 0)
	}
	page.Complete = topDone && normalDone
	page.Items = make([]ConvItem, len(out))
	for i, r := range out {
		it := ConvItem{ConvID: r.last.ConvID, MsgTime: r.last.MsgTime, MsgKey: r.last.MsgKey, From: r.last.From, Seq: r.last.Seq}
		if r.st != nil {
			it.Marks, it.Custom, it.Groups = r.st.Marks, r.st.CustomMark, r.st.Groups
		}
		it.Pinned = i < nPinned
		page.Items[i] = it
	}
	if err := s.fillUnread(ctx, app, req.Owner, page.Items); err != nil {
		return ConvPage{}, err
	}
	if err := s.fillGroupItems(ctx, app, req.Owner, page.Items, memberships); err != nil {
		return ConvPage{}, err
	}
	return page, nil
}

// convRow is a conversation while a list is cut: its last message (MsgTime 0
// for an empty conversation) and its state, if any.
type convRow struct {
	last *store.ConvLast
	st   *store.ConvState
}

// conversationRows merges the engine's last messages and the owner's group
// conversations (conversations_groups.go) with the conversation states,
// newest first (then by type and peer); it returns the owner's group
// memberships too.
func (s *Service) conversationRows(ctx context.Context, app store.App, owner string, withEmpty bool) ([]convRow, map[string]store.GroupMember, error) {
	lasts, err := s.store.Conversations(ctx, app.SDKAppID, owner)
	if err != nil {
		return nil, nil, storageErr(err)
	}
	groupLasts, memberships, err := s.groupConvRows(ctx, app, owner)
	if err != nil {
		return nil, nil, err
	}
	lasts = append(lasts, groupLasts...)
	states, _, err := s.store.ConvStates(ctx, app.SDKAppID, owner)
	if err != nil {
		return nil, nil, storageErr(err)
	}
	// The states are few (pins, marks, groups); the conversations many.
	byID := make(map[store.ConvID]*store.ConvState, len(states))
	for i := range states {
		byID[states[i].ConvID] = &states[i]
	}
	rows := make([]convRow, 0, len(lasts)+len(states))
	for i := range lasts {
		r := convRow{last: &lasts[i]}
		if st := byID[lasts[i].ConvID]; st != nil {
			r.st = st
			delete(byID, lasts[i].ConvID)
		}
		rows = append(rows, r)
	}
	if withEmpty {
		for i := range states {
			if byID[states[i].ConvID] != nil {
				rows = append(rows, convRow{last: &store.ConvLast{ConvID: states[i].ConvID}, st: &states[i]})
			}
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i].last, rows[j].last
		if a.MsgTime != b.MsgTime {
			return a.MsgTime > b.MsgTime
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Peer < b.Peer
	})
	return rows, memberships, nil
}

// pageOf returns at most n rows of sorted (newest first) from cursor c, the
// cursor after them, and whether no row is left after them.
func pageOf(sorted []convRow, c ConvCursor, n int) ([]convRow, ConvCursor, bool) {
	start := 0
	if c != (ConvCursor{}) {
		start = sort.Search(len(sorted), func(i int) bool { return sorted[i].last.MsgTime <= c.Time })
		for k := int64(0); k < c.Index && start < len(sorted) && sorted[start].last.MsgTime == c.Time; k++ {
			start++
		}
	}
	end := min(start+n, len(sorted))
	next := c
	if end > start {
		t := sorted[end-1].last.MsgTime
		first := sort.Search(len(sorted), func(i int) bool { return sorted[i].last.MsgTime <= t })
		next = ConvCursor{Time: t, Index: int64(end - first)}
	}
	return sorted[start:end], next, end == len(sorted)
}

// fillUnread sets the unread counts of the one-to-one items.
func (s *Service) fillUnread(ctx context.Context, app store.App, owner string, items []ConvItem) error {
	var peers []string
	for _, it := range items {
		if it.Type == store.ConvC2C {
			peers = append(peers, it.Peer)
		}
	}
	if len(peers) == 0 {
		return nil
	}
	counts, err := s.store.Unread(ctx, app.SDKAppID, owner, peers, s.gate.RetentionStart(app), s.clock.Now())
	if err != nil {
		return storageErr(err)
	}
	for i := range items {
		if items[i].Type == store.ConvC2C {
			items[i].Unread = counts[items[i].Peer]
		}
	}
	return nil
}

// DeleteConversation removes conversation c from Owner's list (recentcontact/
// delete); with clearHistory (ClearRamble 1) Owner's copies of its messages go
// too (a group's log is shared: nothing of it goes). A group conversation
// stays out of the list until the group's next entry (hideGroupConv). The
// owner's devices get a conversation-changed notice.
func (s *Service) DeleteConversation(ctx context.Context, app store.App, owner string, c store.ConvID, clearHistory bool) error {
	if err := ValidConvID(c); err != nil {
		return err
	}
	if err := s.convOwner(ctx, app, owner); err != nil {
		return err
	}
	if err := s.store.DeleteConversation(ctx, app.SDKAppID, owner, c, clearHistory, s.clock.Now()); err != nil {
		return accountGone(err, errs.ConvAccountNotFound, owner)
	}
	if c.Type == store.ConvGroupChat {
		if err := s.hideGroupConv(ctx, app, owner, c.Peer); err != nil {
			return err
		}
	}
	s.notifyConv(app, owner, &bus.ConvChange{Conv: &store.ConvState{ConvID: c}, Deleted: true})
	return nil
}

// PinConversation pins or unpins c for Owner (a device op; the reference's
// REST API has no pin command) and tells the owner's devices.
func (s *Service) PinConversation(ctx context.Context, app store.App, owner string, c store.ConvID, pinned bool) error {
	if err := ValidConvID(c); err != nil {
		return err
	}
	if err := s.convOwner(ctx, app, owner); err != nil {
		return err
	}
	if err := s.store.SetPinned(ctx, app.SDKAppID, owner, c, pinned, s.clock.Now()); err != nil {
		return accountGone(err, errs.ConvAccountNotFound, owner)
	}
	return s.notifyConvState(ctx, app, owner, c)
}

// notifyConvState publishes c's current state to the owner's devices.
func (s *Service) notifyConvState(ctx context.Context, app store.App, owner string, c store.ConvID) error {
	states, _, err := s.store.ConvStates(ctx, app.SDKAppID, owner)
	if err != nil {
		return storageErr(err)
	}
	st := store.ConvState{ConvID: c}
	for _, x := range states {
		if x.ConvID == c {
			st = x
		}
	}
	s.notifyConv(app, owner, &bus.ConvChange{Conv: &st})
	return nil
}

func (s *Service) notifyConv(app store.App, owner string, ch *bus.ConvChange) {
	s.bus.Publish([]bus.Delivery{{App: app.SDKAppID, User: owner, Kind: bus.KindConv, Conv: ch}})
}
