package im

import (
	"context"
	"errors"
	"sort"
	"strconv"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/store"
)

// Limits of push to all users (reference §3.3 and its pages on attributes and
// tags). Lengths are in bytes.
const (
	MaxPushAttrs        = 10  // attribute slots per app, "0".."9"
	MaxPushAttrNameLen  = 50  // an attribute's name
	MaxPushAttrValueLen = 50  // a user's attribute value
	MaxPushTagLen       = 50  // a tag
	MaxPushTagsPerCall  = 10  // tags per user in one call, and per condition list
	MaxPushTagsPerUser  = 100 // tags one user may have
	MaxPushAccounts     = 100 // users per attribute or tag call
)

// PushItemError is the failure of one user of a batch call; the other users'
// changes are made.
type PushItemError struct {
	User string
	Err  error
}

// UserPushAttrs is a user's attributes by name.
type UserPushAttrs struct {
	User  string
	Attrs map[string]string
}

// UserPushTags is a user's tags.
type UserPushTags struct {
	User string
	Tags []string
}

// SetPushAttrNames names the app's attribute slots (im_set_attr_name): keys are
// "0".."9", names 1..50 bytes of clean text, and no two slots may share a name
// once merged with the names already set. Refusals change nothing: the gate's
// (90045, 60020), 90033 for a bad key or name, 70402 for an empty map.
func (s *Service) SetPushAttrNames(ctx context.Context, app store.App, names map[string]string) error {
	if err := s.gate.PushToAll(app); err != nil {
		return err
	}
	if len(names) == 0 {
		return errs.New(errs.InvalidParameters, "AttrNames must name at least one attribute")
	}
	slots := make(map[int]string, len(names))
	for k, name := range names {
		slot, err := strconv.Atoi(k)
		if err != nil || slot < 0 || slot >= MaxPushAttrs || strconv.Itoa(slot) != k {
			return errs.New(errs.PushBadAttr, "attribute key %.20q must be one of \"0\" to \"%d\"", k, MaxPushAttrs-1)
		}
		if err := checkPushText("attribute name", name, MaxPushAttrNameLen, errs.PushBadAttr); err != nil {
			return err
		}
		slots[slot] = name
	}
	current, err := s.store.PushAttrNames(ctx, app.SDKAppID)
	if err != nil {
		return storageErr(err)
	}
	for slot, name := range slots {
		current[slot] = name
	}
	seen := map[string]int{}
	for slot, name := range current {
		if other, dup := seen[name]; dup {
			return errs.New(errs.PushBadAttr, "attributes %d and %d would both be named %q", min(slot, other), max(slot, other), name)
		}
		seen[name] = slot
	}
	err = s.store.SetPushAttrNames(ctx, app.SDKAppID, slots)
	if errors.Is(err, errs.ErrNotFound) { // deleted meanwhile
		return errs.New(errs.AppNotFound, "app %d does not exist", app.SDKAppID)
	}
	return storageErrOrNil(err)
}

// PushAttrNames returns the app's attribute names keyed "0".."9" (im_get_attr_name).
func (s *Service) PushAttrNames(ctx context.Context, app store.App) (map[string]string, error) {
	if err := s.gate.PushToAll(app); err != nil {
		return nil, err
	}
	names, err := s.store.PushAttrNames(ctx, app.SDKAppID)
	if err != nil {
		return nil, storageErr(err)
	}
	out := make(map[string]string, len(names))
	for slot, name := range names {
		out[strconv.Itoa(slot)] = name
	}
	return out, nil
}

// checkPushText checks an attribute name or value: 1..max bytes of valid UTF-8
// without control characters or white space at either end; else code.
func checkPushText(what, v string, max, code int) error {
	if v == "" {
		return errs.New(code, "%s is empty", what)
	}
	if len(v) > max {
		return errs.New(code, "%s %.60q is %d bytes; at most %d", what, v, len(v), max)
	}
	if err := input.Identifier(v, max); err != nil {
		return errs.New(code, "%s %.60q: %v", what, v, err)
	}
	return nil
}

// pushUsers checks the size of a batch of users (1..MaxPushAccounts; else 70402
// or 90018) and returns, per user, nil or why it cannot be changed (malformed:
// 70402; not imported: 70107).
func (s *Service) pushUsers(ctx context.Context, app store.App, users []string) (map[string]error, error) {
	if len(users) == 0 {
		return nil, errs.New(errs.InvalidParameters, "no account given")
	}
	if len(users) > MaxPushAccounts {
		return nil, errs.New(errs.PushTooManyAccounts, "%d accounts in one call; at most %d", len(users), MaxPushAccounts)
	}
	return s.existing(ctx, app, users)
}

// attrSlots maps the app's attribute names to their slots.
func (s *Service) attrSlots(ctx context.Context, app store.App) (map[string]int, map[int]string, error) {
	names, err := s.store.PushAttrNames(ctx, app.SDKAppID)
	if err != nil {
		return nil, nil, storageErr(err)
	}
	slots := make(map[string]int, len(names))
	for slot, name := range names {
		slots[name] = slot
	}
	return slots, names, nil
}

// SetUserPushAttrs sets users' attribute values by attribute name (im_set_attr).
// The whole call is refused, changing nothing, for an unknown name or a value
// that is empty or over 50 bytes (90033), over 100 users (90018) or none (70402);
// a user that is malformed or not imported is listed with its error and the
// others are changed.
func (s *Service) SetUserPushAttrs(ctx context.Context, app store.App, items []UserPushAttrs) ([]PushItemError, error) {
	if err := s.gate.PushToAll(app); err != nil {
		return nil, err
	}
	users := make([]string, len(items))
	for i, it := range items {
		users[i] = it.User
	}
	exists, err := s.pushUsers(ctx, app, users)
	if err != nil {
		return nil, err
	}
	slots, _, err := s.attrSlots(ctx, app)
	if err != nil {
		return nil, err
	}
	bySlot := make([]map[int]string, len(items))
	for i, it := range items {
		if len(it.Attrs) == 0 {
			return nil, errs.New(errs.InvalidParameters, "Attrs of %.40q sets no attribute", it.User)
		}
		bySlot[i] = make(map[int]string, len(it.Attrs))
		for name, v := range it.Attrs {
			slot, ok := slots[name]
			if !ok {
				return nil, errs.New(errs.PushBadAttr, "attribute %.60q is not one of the app's attribute names (im_set_attr_name)", name)
			}
			if err := checkPushText("attribute value", v, MaxPushAttrValueLen, errs.PushBadAttr); err != nil {
				return nil, err
			}
			bySlot[i][slot] = v
		}
	}
	var failed []PushItemError
	for i, it := range items {
		if err := exists[it.User]; err != nil {
			failed = append(failed, PushItemError{it.User, err})
			continue
		}
		if err := s.store.SetUserPushAttrs(ctx, app.SDKAppID, it.User, bySlot[i]); errors.Is(err, errs.ErrNotFound) {
			failed = append(failed, PushItemError{it.User, accountGone(err, errs.AccountNotFound, it.User)})
		} else if err != nil {
			return failed, storageErr(err)
		}
	}
	return failed, nil
}

// RemoveUserPushAttrs removes users' attributes by name (im_remove_attr), with
// the refusals of SetUserPushAttrs.
func (s *Service) RemoveUserPushAttrs(ctx context.Context, app store.App, users []string, names [][]string) ([]PushItemError, error) {
	if err := s.gate.PushToAll(app); err != nil {
		return nil, err
	}
	exists, err := s.pushUsers(ctx, app, users)
	if err != nil {
		return nil, err
	}
	slots, _, err := s.attrSlots(ctx, app)
	if err != nil {
		return nil, err
	}
	bySlot := make([][]int, len(users))
	for i := range users {
		if len(names[i]) > MaxPushAttrs {
			return nil, errs.New(errs.PushBadAttr, "%d attributes for one user; an app has at most %d", len(names[i]), MaxPushAttrs)
		}
		for _, name := range names[i] {
			slot, ok := slots[name]
			if !ok {
				return nil, errs.New(errs.PushBadAttr, "attribute %.60q is not one of the app's attribute names (im_set_attr_name)", name)
			}
			bySlot[i] = append(bySlot[i], slot)
		}
	}
	var failed []PushItemError
	for i, u := range users {
		if err := exists[u]; err != nil {
			failed = append(failed, PushItemError{u, err})
			continue
		}
		if err := s.store.RemoveUserPushAttrs(ctx, app.SDKAppID, u, bySlot[i]); err != nil {
			return failed, storageErr(err)
		}
	}
	return failed, nil
}

// GetUserPushAttrs returns users' attributes by name (im_get_attr), one entry per
// user in order; a user without attributes (or not imported) has none.
func (s *Service) GetUserPushAttrs(ctx context.Context, app store.App, users []string) ([]UserPushAttrs, error) {
	if err := s.gate.PushToAll(app); err != nil {
		return nil, err
	}
	if _, err := s.pushUsers(ctx, app, users); err != nil {
		return nil, err
	}
	_, names, err := s.attrSlots(ctx, app)
	if err != nil {
		return nil, err
	}
	got, err := s.store.UserPushAttrs(ctx, app.SDKAppID, users)
	if err != nil {
		return nil, storageErr(err)
	}
	out := make([]UserPushAttrs, len(users))
	for i, u := range users {
		out[i] = UserPushAttrs{User: u, Attrs: map[string]string{}}
		for slot, v := range got[u] {
			if name, ok := names[slot]; ok {
				out[i].Attrs[name] = v
			}
		}
	}
	return out, nil
}

// checkTags checks one user's tags of a call (1..10, each 1..50 bytes of clean
// text: 90032, 90040, 90020) and returns them without repeats.
func checkTags(user string, tags []string) ([]string, error) {
	if len(tags) == 0 {
		return nil, errs.New(errs.InvalidParameters, "Tags of %.40q lists no tag", user)
	}
	if len(tags) > MaxPushTagsPerCall {
		return nil, errs.New(errs.PushTooManyTags, "%d tags for %.40q in one call; at most %d", len(tags), user, MaxPushTagsPerCall)
	}
	return cleanTags(tags)
}

// cleanTags checks tags (90040 empty, 90020 too long, 70402 a control character,
// invalid UTF-8 or white space at either end) and drops repeats.
func cleanTags(tags []string) ([]string, error) {
	out := make([]string, 0, len(tags))
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if t == "" {
			return nil, errs.New(errs.PushEmptyTag, "a tag is empty")
		}
		if len(t) > MaxPushTagLen {
			return nil, errs.New(errs.PushTagTooLong, "tag %.60q is %d bytes; at most %d", t, len(t), MaxPushTagLen)
		}
		if err := input.Identifier(t, MaxPushTagLen); err != nil {
			return nil, errs.New(errs.InvalidParameters, "tag %.60q: %v", t, err)
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, nil
}

// AddUserPushTags adds tags to users (im_add_tag). The whole call is refused,
// changing nothing, for a malformed list (see checkTags) or over 100 users
// (90018); a user that is malformed or not imported (70402, 70107) or that would
// have more than 100 tags (90032) is listed with its error and the others are
// changed.
func (s *Service) AddUserPushTags(ctx context.Context, app store.App, items []UserPushTags) ([]PushItemError, error) {
	return s.changeTags(ctx, app, items, func(u string, tags []string) error {
		err := s.store.AddUserPushTags(ctx, app.SDKAppID, u, tags, MaxPushTagsPerUser)
		if errors.Is(err, errs.ErrLimit) {
			return errs.New(errs.PushTooManyTags, "%q would have more than %d tags; remove some first", u, MaxPushTagsPerUser)
		}
		if errors.Is(err, errs.ErrNotFound) {
			return accountGone(err, errs.AccountNotFound, u)
		}
		return err
	})
}

// RemoveUserPushTags removes tags of users (im_remove_tag), with the refusals of
// AddUserPushTags; a tag the user does not have is ignored.
func (s *Service) RemoveUserPushTags(ctx context.Context, app store.App, items []UserPushTags) ([]PushItemError, error) {
	return s.changeTags(ctx, app, items, func(u string, tags []string) error {
		return s.store.RemoveUserPushTags(ctx, app.SDKAppID, u, tags)
	})
}

func (s *Service) changeTags(ctx context.Context, app store.App, items []UserPushTags, change func(string, []string) error) ([]PushItemError, error) {
	if err := s.gate.PushToAll(app); err != nil {
		return nil, err
	}
	users := make([]string, len(items))
	for i, it := range items {
		users[i] = it.User
	}
	exists, err := s.pushUsers(ctx, app, users)
	if err != nil {
		return nil, err
	}
	tags := make([][]string, len(items))
	for i, it := range items {
		if tags[i], err = checkTags(it.User, it.Tags); err != nil {
			return nil, err
		}
	}
	var failed []PushItemError
	for i, it := range items {
		if err := exists[it.User]; err != nil {
			failed = append(failed, PushItemError{it.User, err})
			continue
		}
		if err := change(it.User, tags[i]); err != nil {
			var e *errs.Error
			if errors.As(err, &e) {
				failed = append(failed, PushItemError{it.User, err})
				continue
			}
			return failed, storageErr(err)
		}
	}
	return failed, nil
}

// RemoveAllUserPushTags removes every tag of users (im_remove_all_tags): 1..100
// users (70402, 90018); malformed or not imported ones are listed with their error.
func (s *Service) RemoveAllUserPushTags(ctx context.Context, app store.App, users []string) ([]PushItemError, error) {
	if err := s.gate.PushToAll(app); err != nil {
		return nil, err
	}
	exists, err := s.pushUsers(ctx, app, users)
	if err != nil {
		return nil, err
	}
	var failed []PushItemError
	var ok []string
	for _, u := range users {
		if err := exists[u]; err != nil {
			failed = append(failed, PushItemError{u, err})
			continue
		}
		ok = append(ok, u)
	}
	if len(ok) > 0 {
		if err := s.store.RemoveAllUserPushTags(ctx, app.SDKAppID, ok); err != nil {
			return failed, storageErr(err)
		}
	}
	return failed, nil
}

// GetUserPushTags returns users' tags (im_get_tag), one entry per user in order,
// sorted; a user without tags (or not imported) has none.
func (s *Service) GetUserPushTags(ctx context.Context, app store.App, users []string) ([]UserPushTags, error) {
	if err := s.gate.PushToAll(app); err != nil {
		return nil, err
	}
	if _, err := s.pushUsers(ctx, app, users); err != nil {
		return nil, err
	}
	got, err := s.store.UserPushTags(ctx, app.SDKAppID, users)
	if err != nil {
		return nil, storageErr(err)
	}
	out := make([]UserPushTags, len(users))
	for i, u := range users {
		tags := got[u]
		if tags == nil {
			tags = []string{}
		}
		sort.Strings(tags)
		out[i] = UserPushTags{User: u, Tags: tags}
	}
	return out, nil
}
