package im

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/store"
)

// Profile tags (reference §3.4).
const (
	TagNick            = "Tag_Profile_IM_Nick"
	TagGender          = "Tag_Profile_IM_Gender"
	TagBirthDay        = "Tag_Profile_IM_BirthDay"
	TagLocation        = "Tag_Profile_IM_Location"
	TagSelfSignature   = "Tag_Profile_IM_SelfSignature"
	TagAllowType       = "Tag_Profile_IM_AllowType"
	TagLanguage        = "Tag_Profile_IM_Language"
	TagImage           = "Tag_Profile_IM_Image"
	TagMsgSettings     = "Tag_Profile_IM_MsgSettings"
	TagAdminForbidType = "Tag_Profile_IM_AdminForbidType"
	TagLevel           = "Tag_Profile_IM_Level"
	TagRole            = "Tag_Profile_IM_Role"
	// TagCustomPrefix starts a custom tag: Tag_Profile_Custom_<name> of a field
	// declared for the app (DeclareProfileField).
	TagCustomPrefix = "Tag_Profile_Custom_"
)

// Bounds of profiles: a value's bytes (a string's, decoded), the custom fields
// an app may declare, and the items of one portrait_set or TagList of one
// portrait_get (every standard and custom tag once).
const (
	MaxProfileValueBytes = 500
	MaxLocationBytes     = 16
	MaxCustomNameBytes   = 8
	MaxProfileFields     = 20
	MaxProfileItems      = 12 + MaxProfileFields // the 12 standard tags and the custom ones
)

// Types of profile values.
const (
	ProfileString  = "string"
	ProfileInteger = "integer"
)

// tagSpec is what a standard tag accepts: a string of at most maxBytes, one of
// values, or (integer) a number from 0 to 2^32-1 (the reference's uint32).
type tagSpec struct {
	integer  bool
	maxBytes int
	values   []string
}

var standardTags = map[string]tagSpec{
	TagNick:            {maxBytes: MaxProfileValueBytes},
	TagGender:          {values: []string{"Gender_Type_Unknown", "Gender_Type_Female", "Gender_Type_Male"}},
	TagBirthDay:        {integer: true},
	TagLocation:        {maxBytes: MaxLocationBytes},
	TagSelfSignature:   {maxBytes: MaxProfileValueBytes},
	TagAllowType:       {values: []string{"AllowType_Type_NeedConfirm", "AllowType_Type_AllowAny", "AllowType_Type_DenyAny"}},
	TagLanguage:        {integer: true},
	TagImage:           {maxBytes: MaxProfileValueBytes},
	TagMsgSettings:     {integer: true},
	TagAdminForbidType: {values: []string{"AdminForbid_Type_None", "AdminForbid_Type_SendOut"}},
	TagLevel:           {integer: true},
	TagRole:            {integer: true},
}

// ProfileItem is one tag of a profile; Value is its JSON encoding (string or number).
type ProfileItem struct {
	Tag   string
	Value json.RawMessage
}

// ValidProfileFieldName checks the name of a custom field (the key after
// Tag_Profile_Custom_): 1 to 8 bytes of letters, digits and underscores.
func ValidProfileFieldName(name string) error {
	if name == "" || len(name) > MaxCustomNameBytes {
		return errs.Kind(errs.ErrInvalid, fmt.Sprintf("custom profile field name %.40q must be 1 to %d bytes", name, MaxCustomNameBytes))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return errs.Kind(errs.ErrInvalid, fmt.Sprintf("custom profile field name %q may hold only letters, digits and underscores", name))
		}
	}
	return nil
}

// DeclareProfileField declares the custom profile field Tag_Profile_Custom_<name>
// of the app (an operator's act, as the reference's console): a string of at
// most maxBytes (1 to 500; 0 means 500) or a non-negative 64-bit integer
// (maxBytes 0). Refusals, by kind: errs.ErrInvalid a bad name, type or bound;
// errs.ErrConflict a name declared already; errs.ErrLimit more than
// MaxProfileFields fields; errs.ErrNotFound an unknown app.
func (s *Service) DeclareProfileField(ctx context.Context, app int64, name, typ string, maxBytes int) (store.ProfileField, error) {
	if err := ValidProfileFieldName(name); err != nil {
		return store.ProfileField{}, err
	}
	invalid := func(format string, args ...any) (store.ProfileField, error) {
		return store.ProfileField{}, errs.Kind(errs.ErrInvalid, fmt.Sprintf(format, args...))
	}
	switch {
	case typ == ProfileString && maxBytes == 0:
		maxBytes = MaxProfileValueBytes
	case typ == ProfileString && (maxBytes < 0 || maxBytes > MaxProfileValueBytes):
		return invalid("max bytes of a string field must be 1 to %d, not %d", MaxProfileValueBytes, maxBytes)
	case typ == ProfileInteger && maxBytes != 0:
		return invalid("an integer field has no max bytes")
	case typ != ProfileString && typ != ProfileInteger:
		return invalid("type must be %q or %q, not %.20q", ProfileString, ProfileInteger, typ)
	}
	f := store.ProfileField{Name: name, Type: typ, MaxBytes: maxBytes, CreatedAt: s.clock.Now()}
	err := s.store.AddProfileField(ctx, app, f, MaxProfileFields)
	switch {
	case errors.Is(err, errs.ErrExists):
		return store.ProfileField{}, errs.Kind(errs.ErrConflict, fmt.Sprintf("custom profile field %q is declared already", name))
	case errors.Is(err, errs.ErrLimit):
		return store.ProfileField{}, errs.Kind(errs.ErrLimit, fmt.Sprintf("an app has at most %d custom profile fields", MaxProfileFields))
	case errors.Is(err, errs.ErrNotFound):
		return store.ProfileField{}, errs.Kind(errs.ErrNotFound, fmt.Sprintf("app %d does not exist", app))
	case err != nil:
		return store.ProfileField{}, storageErr(err)
	}
	return f, nil
}

// ProfileFields lists the app's declared custom profile fields by name.
func (s *Service) ProfileFields(ctx context.Context, app int64) ([]store.ProfileField, error) {
	fields, err := s.store.ProfileFields(ctx, app)
	if err != nil {
		return nil, storageErr(err)
	}
	return fields, nil
}

// declaredFields maps the app's custom tags (with their prefix) to their fields.
func (s *Service) declaredFields(ctx context.Context, app int64) (map[string]store.ProfileField, error) {
	fields, err := s.ProfileFields(ctx, app)
	if err != nil {
		return nil, err
	}
	m := make(map[string]store.ProfileField, len(fields))
	for _, f := range fields {
		m[TagCustomPrefix+f.Name] = f
	}
	return m, nil
}

// SetProfile validates and stores profile tags of a user (portrait_set), then
// tells the user's devices and profileAudience of the change (bus.KindProfile).
// Refusals, all before anything changes: 40001 a malformed user id, no items,
// more than MaxProfileItems, a tag given twice or a string that is not clean
// text; 40003 a user that is not imported; and validProfileItem's (40009,
// 40610, 40605, 40601).
func (s *Service) SetProfile(ctx context.Context, app store.App, user string, items []ProfileItem) error {
	if err := s.gate.Active(app); err != nil {
		return err
	}
	if err := ValidUserID(user); err != nil {
		return errs.New(errs.ProfileBadParams, "%s", errs.Message(err))
	}
	if len(items) == 0 || len(items) > MaxProfileItems {
		return errs.New(errs.ProfileBadParams, "ProfileItem must list 1 to %d items, got %d", MaxProfileItems, len(items))
	}
	var declared map[string]store.ProfileField
	tags := make(map[string]string, len(items))
	changed := make([]bus.ProfileTag, 0, len(items))
	for _, it := range items {
		if err := errors.Join(input.Text(it.Tag), input.JSON(it.Value)); err != nil {
			return errs.New(errs.ProfileBadParams, "profile item: %v", err)
		}
		if _, dup := tags[it.Tag]; dup {
			return errs.New(errs.ProfileBadParams, "tag %.80q is given twice", it.Tag)
		}
		if declared == nil && strings.HasPrefix(it.Tag, TagCustomPrefix) {
			var err error
			if declared, err = s.declaredFields(ctx, app.SDKAppID); err != nil {
				return err
			}
		}
		v, err := validProfileItem(it, declared)
		if err != nil {
			return err
		}
		tags[it.Tag] = v
		changed = append(changed, bus.ProfileTag{Tag: it.Tag, Value: json.RawMessage(v)})
	}
	pctx := s.withEvent(ctx, app.SDKAppID, callback.ProfilePortraitSet, func() callback.Body {
		b := &callback.PortraitSetBody{Operator: requesterOf(ctx, app, user), From: user, ProfileItem: make([]callback.ProfileItem, len(changed))}
		for i, c := range changed {
			b.ProfileItem[i] = callback.ProfileItem{Tag: c.Tag, Value: c.Value}
		}
		return b
	})
	err := s.store.SetProfile(pctx, app.SDKAppID, user, tags)
	if errors.Is(err, errs.ErrNotFound) {
		return errs.New(errs.ProfileNoAccount, "account %q does not exist", user)
	}
	if err != nil {
		return storageErr(err)
	}
	s.publishProfile(ctx, app, user, changed)
	return nil
}

// validProfileItem checks one tag and value with the reference's codes and
// returns the value's JSON as stored: 40009 a tag that is neither standard nor a
// declared custom one, 40610 a value of the wrong type, 40605 a value outside a
// standard tag's set, 40601 a string longer than its bound (a custom field's
// max bytes, 500 bytes, 16 for Location).
func validProfileItem(it ProfileItem, declared map[string]store.ProfileField) (string, error) {
	spec, ok := standardTags[it.Tag]
	if !ok {
		f, ok := declared[it.Tag]
		if !ok {
			return "", errs.New(errs.ProfileTagNotFound, "profile tag %.80q does not exist: a custom tag must be declared for the app first", it.Tag)
		}
		spec = tagSpec{integer: f.Type == ProfileInteger, maxBytes: f.MaxBytes}
		if spec.integer {
			n, ok := jsonUint(it.Value)
			if !ok {
				return "", errs.New(errs.ProfileTypeMismatch, "value of %s must be an integer from 0 to %d", it.Tag, uint64(math.MaxUint64))
			}
			return strconv.FormatUint(n, 10), nil
		}
	}
	if spec.integer {
		n, ok := jsonUint(it.Value)
		if !ok || n > math.MaxUint32 {
			return "", errs.New(errs.ProfileTypeMismatch, "value of %s must be an integer from 0 to %d", it.Tag, uint32(math.MaxUint32))
		}
		return strconv.FormatUint(n, 10), nil
	}
	var str string
	if len(it.Value) == 0 || it.Value[0] != '"' || json.Unmarshal(it.Value, &str) != nil {
		return "", errs.New(errs.ProfileTypeMismatch, "value of %s must be a string", it.Tag)
	}
	if spec.values != nil {
		for _, a := range spec.values {
			if str == a {
				return jsonString(str), nil
			}
		}
		return "", errs.New(errs.ProfileBadValue, "value of %s must be one of %s", it.Tag, strings.Join(spec.values, ", "))
	}
	if len(str) > spec.maxBytes {
		return "", errs.New(errs.ProfileValueTooBig, "value of %s is %d bytes, longer than %d", it.Tag, len(str), spec.maxBytes)
	}
	return jsonString(str), nil
}

// jsonUint parses a JSON number that is a non-negative integer of 64 bits
// (digits only: not null, not a fraction or an exponent).
func jsonUint(v json.RawMessage) (uint64, bool) {
	if len(v) == 0 || len(v) > 1 && v[0] == '0' {
		return 0, false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(string(v), 10, 64)
	return n, err == nil
}

// UserProfile is the requested tags of one user, or Found=false.
type UserProfile struct {
	User  string
	Found bool
	Items []ProfileItem
}

// GetProfiles returns the requested tags of users (portrait_get), in the order
// asked, each tag that has a value; Nick and Image fall back to the values given
// at import. Refusals: 40001 no users or more than MaxBatchAccounts, no tags or
// more than MaxProfileItems, a tag given twice; 40009 a tag that is neither
// standard nor declared. A user that is not imported (or whose id is malformed)
// comes back with Found=false.
func (s *Service) GetProfiles(ctx context.Context, app store.App, users, tags []string) ([]UserProfile, error) {
	if err := s.gate.Active(app); err != nil {
		return nil, err
	}
	if len(users) == 0 || len(users) > MaxBatchAccounts {
		return nil, errs.New(errs.ProfileBadParams, "To_Account must list 1 to %d accounts", MaxBatchAccounts)
	}
	if len(tags) == 0 || len(tags) > MaxProfileItems {
		return nil, errs.New(errs.ProfileBadParams, "TagList must list 1 to %d tags, got %d", MaxProfileItems, len(tags))
	}
	var declared map[string]store.ProfileField
	seen := make(map[string]bool, len(tags))
	for _, tag := range tags {
		if err := input.Text(tag); err != nil {
			return nil, errs.New(errs.ProfileBadParams, "TagList: %v", err)
		}
		if seen[tag] {
			return nil, errs.New(errs.ProfileBadParams, "tag %.80q is listed twice", tag)
		}
		seen[tag] = true
		if _, ok := standardTags[tag]; ok {
			continue
		}
		if declared == nil {
			var err error
			if declared, err = s.declaredFields(ctx, app.SDKAppID); err != nil {
				return nil, err
			}
		}
		if _, ok := declared[tag]; !ok {
			return nil, errs.New(errs.ProfileTagNotFound, "profile tag %.80q does not exist: a custom tag must be declared for the app first", tag)
		}
	}
	var valid []string
	for _, id := range users {
		if ValidUserID(id) == nil {
			valid = append(valid, id)
		}
	}
	found, err := s.loadUsers(ctx, app.SDKAppID, valid...)
	if err != nil {
		return nil, err
	}
	out := make([]UserProfile, 0, len(users))
	for _, id := range users {
		u, ok := found[id]
		p := UserProfile{User: id, Found: ok}
		if ok {
			for _, tag := range tags {
				v, has := u.Profile[tag]
				switch {
				case has:
				case tag == TagNick && u.Nick != "":
					v = jsonString(u.Nick)
				case tag == TagImage && u.FaceURL != "":
					v = jsonString(u.FaceURL)
				default:
					continue
				}
				p.Items = append(p.Items, ProfileItem{Tag: tag, Value: json.RawMessage(v)})
			}
		}
		out = append(out, p)
	}
	return out, nil
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// publishProfile tells every device of user and of its audience that user's
// profile changed (the changed tags, as stored).
func (s *Service) publishProfile(ctx context.Context, app store.App, user string, changed []bus.ProfileTag) {
	audience, err := s.profileAudience(ctx, app, user)
	if err != nil {
		audience = nil // the change is stored; devices see it on their next portrait read
	}
	change := &bus.ProfileChange{User: user, Tags: changed}
	ds := []bus.Delivery{{App: app.SDKAppID, User: user, Kind: bus.KindProfile, Profile: change}}
	for _, u := range audience {
		if u != user {
			ds = append(ds, bus.Delivery{App: app.SDKAppID, User: u, Kind: bus.KindProfile, Profile: change})
		}
	}
	s.bus.Publish(ds)
}

// profileAudience lists the users whose online devices hear of user's profile
// changes: user and user's friends (at most the edition's friends per user,
// read in pages).
func (s *Service) profileAudience(ctx context.Context, app store.App, user string) ([]string, error) {
	out := []string{user}
	const page = 1000
	for offset := 0; ; offset += page {
		friends, total, err := s.store.ListFriends(ctx, app.SDKAppID, user, offset, page)
		if err != nil {
			return nil, storageErr(err)
		}
		for _, f := range friends {
			out = append(out, f.Peer)
		}
		if len(friends) < page || offset+page >= total {
			return out, nil
		}
	}
}
