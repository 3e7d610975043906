package im

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/store"
)

// MaxBatchAccounts bounds the accounts of one import, delete or check call.
const MaxBatchAccounts = 100

// Bounds of an imported account's Nick and FaceUrl and of one profile value (a
// string's bytes, without its quotes).
const (
	MaxNickRunes         = 64
	MaxFaceURLBytes      = 500
	MaxProfileValueBytes = 500
)

// ImportAccounts creates users (or refreshes nick and avatar of existing ones).
func (s *Service) ImportAccounts(ctx context.Context, app store.App, users []store.User) error {
	if err := s.gate.Active(app); err != nil {
		return err
	}
	if len(users) == 0 || len(users) > MaxBatchAccounts {
		return errs.New(errs.BatchCount, "import between 1 and %d accounts per call, got %d", MaxBatchAccounts, len(users))
	}
	for i := range users {
		if err := ValidUserID(users[i].UserID); err != nil {
			return err
		}
		if utf8.RuneCountInString(users[i].Nick) > MaxNickRunes || len(users[i].FaceURL) > MaxFaceURLBytes {
			return errs.New(errs.InvalidParameters, "Nick is at most %d characters and FaceUrl at most %d bytes", MaxNickRunes, MaxFaceURLBytes)
		}
		if err := errors.Join(input.Text(users[i].Nick), input.Text(users[i].FaceURL)); err != nil {
			return errs.New(errs.InvalidParameters, "Nick or FaceUrl of %q: %v", users[i].UserID, err)
		}
		users[i].CreatedAt = s.clock.Now()
	}
	return storageErrOrNil(s.store.ImportUsers(ctx, app.SDKAppID, users))
}

// DeleteAccounts deletes users; the result says, per user, whether it existed.
func (s *Service) DeleteAccounts(ctx context.Context, app store.App, ids []string) (map[string]bool, error) {
	if err := s.checkBatch(app, ids); err != nil {
		return nil, err
	}
	found, err := s.imported(ctx, app.SDKAppID, ids...)
	if err != nil {
		return nil, err
	}
	if err := s.store.DeleteUsers(ctx, app.SDKAppID, ids); err != nil {
		return nil, storageErr(err)
	}
	var kicks []bus.Delivery
	for _, id := range ids {
		s.users.forget(cacheKey{app.SDKAppID, id})
		if found[id] {
			kicks = append(kicks, bus.Delivery{App: app.SDKAppID, User: id, Kind: bus.KindKick, Reason: "account deleted"})
		}
	}
	// A deleted account's devices are logged out.
	s.bus.Publish(kicks)
	return found, nil
}

// CheckAccounts tells, per user, whether it is imported.
func (s *Service) CheckAccounts(ctx context.Context, app store.App, ids []string) (map[string]bool, error) {
	if err := s.checkBatch(app, ids); err != nil {
		return nil, err
	}
	return s.imported(ctx, app.SDKAppID, ids...)
}

func (s *Service) checkBatch(app store.App, ids []string) error {
	if err := s.gate.Active(app); err != nil {
		return err
	}
	if len(ids) == 0 || len(ids) > MaxBatchAccounts {
		return errs.New(errs.BatchCount, "pass between 1 and %d accounts per call, got %d", MaxBatchAccounts, len(ids))
	}
	for _, id := range ids {
		if err := ValidUserID(id); err != nil {
			return err
		}
	}
	return nil
}

func storageErrOrNil(err error) error {
	if err == nil {
		return nil
	}
	return storageErr(err)
}

// Profile tags.
const (
	TagNick   = "Tag_Profile_IM_Nick"
	TagImage  = "Tag_Profile_IM_Image"
	tagCustom = "Tag_Profile_Custom_"
)

// standardTags maps each standard profile tag to its allowed string values (nil: any
// string) or to numeric (the value must be an integer from 0 to 2^32-1, the
// reference's uint32).
var standardTags = map[string][]string{
	TagNick:                          nil,
	"Tag_Profile_IM_Gender":          {"Gender_Type_Unknown", "Gender_Type_Female", "Gender_Type_Male"},
	"Tag_Profile_IM_BirthDay":        {"#num"},
	"Tag_Profile_IM_Location":        nil,
	"Tag_Profile_IM_SelfSignature":   nil,
	"Tag_Profile_IM_AllowType":       {"AllowType_Type_NeedConfirm", "AllowType_Type_AllowAny", "AllowType_Type_DenyAny"},
	"Tag_Profile_IM_Language":        {"#num"},
	TagImage:                         nil,
	"Tag_Profile_IM_MsgSettings":     {"#num"},
	"Tag_Profile_IM_AdminForbidType": {"AdminForbid_Type_None", "AdminForbid_Type_SendOut"},
	"Tag_Profile_IM_Level":           {"#num"},
	"Tag_Profile_IM_Role":            {"#num"},
}

// ProfileItem is one tag of a profile; Value is its JSON encoding (string or number).
type ProfileItem struct {
	Tag   string
	Value json.RawMessage
}

// SetProfile validates and stores profile tags of a user.
func (s *Service) SetProfile(ctx context.Context, app store.App, user string, items []ProfileItem) error {
	if err := s.gate.Active(app); err != nil {
		return err
	}
	if err := ValidUserID(user); err != nil {
		return errs.New(errs.ProfileBadParams, "%s", errs.Message(err))
	}
	if len(items) == 0 {
		return errs.New(errs.ProfileBadParams, "ProfileItem is empty")
	}
	tags := make(map[string]string, len(items))
	for _, it := range items {
		if err := errors.Join(input.Text(it.Tag), input.JSON(it.Value)); err != nil {
			return errs.New(errs.ProfileBadParams, "profile item: %v", err)
		}
		if err := validProfileItem(it); err != nil {
			return err
		}
		tags[it.Tag] = string(it.Value)
	}
	err := s.store.SetProfile(ctx, app.SDKAppID, user, tags)
	if errors.Is(err, errs.ErrNotFound) {
		return errs.New(errs.ProfileNoAccount, "account %q does not exist", user)
	}
	return storageErrOrNil(err)
}

// validProfileItem checks one tag and value with the reference's codes: 40009 a
// tag that does not exist, 40610 a value of the wrong type, 40605 a value outside
// a standard tag's set, 40601 a value over MaxProfileValueBytes.
func validProfileItem(it ProfileItem) error {
	var str string
	isString := json.Unmarshal(it.Value, &str) == nil
	var num uint64
	isNum := json.Unmarshal(it.Value, &num) == nil
	if len(it.Value) > MaxProfileValueBytes+2 { // plus the quotes of a string
		return errs.New(errs.ProfileValueTooBig, "value of %s is longer than %d bytes", it.Tag, MaxProfileValueBytes)
	}
	if strings.HasPrefix(it.Tag, tagCustom) {
		if key := strings.TrimPrefix(it.Tag, tagCustom); key == "" || len(key) > 8 {
			return errs.New(errs.ProfileTagNotFound, "custom profile tag %q does not exist: its key must be 1 to 8 bytes", it.Tag)
		}
		if !isString && !isNum {
			return errs.New(errs.ProfileTypeMismatch, "value of %s must be a string or a non-negative integer", it.Tag)
		}
		return nil
	}
	allowed, ok := standardTags[it.Tag]
	if !ok {
		return errs.New(errs.ProfileTagNotFound, "profile tag %q does not exist", it.Tag)
	}
	switch {
	case len(allowed) == 1 && allowed[0] == "#num":
		// The reference's standard numeric tags are uint32.
		if !isNum || num > math.MaxUint32 {
			return errs.New(errs.ProfileTypeMismatch, "value of %s must be an integer from 0 to %d", it.Tag, uint32(math.MaxUint32))
		}
	case !isString:
		return errs.New(errs.ProfileTypeMismatch, "value of %s must be a string", it.Tag)
	case allowed != nil:
		for _, a := range allowed {
			if str == a {
				return nil
			}
		}
		return errs.New(errs.ProfileBadValue, "value of %s must be one of %s", it.Tag, strings.Join(allowed, ", "))
	}
	return nil
}

// UserProfile is the requested tags of one user, or Found=false.
type UserProfile struct {
	User  string
	Found bool
	Items []ProfileItem
}

// GetProfiles returns the requested tags of users; Nick and Image fall back to the
// values given at import.
func (s *Service) GetProfiles(ctx context.Context, app store.App, users, tags []string) ([]UserProfile, error) {
	if err := s.gate.Active(app); err != nil {
		return nil, err
	}
	if len(users) == 0 || len(users) > MaxBatchAccounts {
		return nil, errs.New(errs.ProfileBadParams, "To_Account must list 1 to %d accounts", MaxBatchAccounts)
	}
	if len(tags) == 0 {
		return nil, errs.New(errs.ProfileBadParams, "TagList is empty")
	}
	found, err := s.loadUsers(ctx, app.SDKAppID, users...)
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
				case tag == TagNick:
					v = jsonString(u.Nick)
				case tag == TagImage:
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
