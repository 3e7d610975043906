package im

import (
	"encoding/json"
	"errors"
	"math"
	"strings"

	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/store"
)

// Validation of the relationship chain's input: every field from outside is
// checked here, and a bad one fails the whole call with 30001 before anything
// changes.
func snsBad(format string, args ...any) error { return errs.New(errs.SNSBadParams, format, args...) }

// checkSNSUser checks a user id of the relationship chain (30001 when malformed).
func checkSNSUser(field, id string) error {
	if err := ValidUserID(id); err != nil {
		return snsBad("%s: %s", field, errs.Message(err))
	}
	return nil
}

func checkSNSText(field, v string, max int) error {
	if err := input.Text(v); err != nil {
		return snsBad("%s: %v", field, err)
	}
	if len(v) > max {
		return snsBad("%s is longer than %d bytes", field, max)
	}
	return nil
}

func checkAddSource(v string) error {
	kw, ok := strings.CutPrefix(v, addSourcePrefix)
	if !ok || kw == "" || len(kw) > 8 {
		return snsBad("AddSource %q must be %s and a keyword of 1 to 8 letters", v, addSourcePrefix)
	}
	for i := 0; i < len(kw); i++ {
		if c := kw[i] | 0x20; c < 'a' || c > 'z' {
			return snsBad("AddSource %q must be %s and a keyword of 1 to 8 letters", v, addSourcePrefix)
		}
	}
	return nil
}

func checkListName(n string) error {
	if n == "" {
		return snsBad("a friend list name is empty")
	}
	return checkSNSText("friend list name", n, MaxListNameBytes)
}

// checkCustom validates Tag_SNS_Custom_* items and returns them as a map.
func checkCustom(items []ProfileItem) (map[string]string, error) {
	out := make(map[string]string, len(items))
	for _, it := range items {
		if err := validCustomSNS(it); err != nil {
			return nil, err
		}
		out[it.Tag] = string(it.Value)
	}
	return out, nil
}

func validCustomSNS(it ProfileItem) error {
	key, ok := strings.CutPrefix(it.Tag, TagSNSCustom)
	if !ok || key == "" || len(key) > 8 {
		return snsBad("friend field %q does not exist: custom fields are %s and a key of 1 to 8 bytes", it.Tag, TagSNSCustom)
	}
	if err := errors.Join(input.Text(it.Tag), input.JSON(it.Value)); err != nil {
		return snsBad("friend field %s: %v", it.Tag, err)
	}
	if len(it.Value) > MaxSNSCustomBytes+2 {
		return snsBad("value of %s is longer than %d bytes", it.Tag, MaxSNSCustomBytes)
	}
	var str string
	var num uint64
	if json.Unmarshal(it.Value, &str) != nil && json.Unmarshal(it.Value, &num) != nil {
		return snsBad("value of %s must be a string or a non-negative integer", it.Tag)
	}
	return nil
}

// checkItem validates one FriendItem (whole-call 30001 on a bad one).
func checkItem(it FriendItem, needSource bool) error {
	if err := checkSNSUser("To_Account", it.To); err != nil {
		return err
	}
	if needSource || it.AddSource != "" {
		if err := checkAddSource(it.AddSource); err != nil {
			return err
		}
	}
	if err := errors.Join(checkSNSText("Remark", it.Remark, MaxRemarkBytes), checkSNSText("AddWording", it.AddWording, MaxAddWordingBytes)); err != nil {
		return err
	}
	if len(it.Groups) > MaxFriendLists {
		return snsBad("GroupName lists more than %d friend lists", MaxFriendLists)
	}
	for _, g := range it.Groups {
		if err := checkListName(g); err != nil {
			return err
		}
	}
	if it.AddTime < 0 || it.AddTime > math.MaxUint32 {
		return snsBad("AddTime %d is not a Unix time in seconds", it.AddTime)
	}
	return nil
}

// applySNSItems sets the tags on f, refusing unknown tags and bad values (30001).
func applySNSItems(f *store.Friend, items []ProfileItem) error {
	for _, it := range items {
		if err := input.Text(it.Tag); err != nil {
			return snsBad("friend field: %v", err)
		}
		var str string
		isString := json.Unmarshal(it.Value, &str) == nil
		switch it.Tag {
		case TagSNSRemark, TagSNSAddWording:
			max := MaxRemarkBytes
			if it.Tag == TagSNSAddWording {
				max = MaxAddWordingBytes
			}
			if !isString {
				return snsBad("value of %s must be a string", it.Tag)
			}
			if err := checkSNSText(it.Tag, str, max); err != nil {
				return err
			}
			if it.Tag == TagSNSRemark {
				f.Remark = str
			} else {
				f.AddWording = str
			}
		case TagSNSGroup:
			var g []string
			if json.Unmarshal(it.Value, &g) != nil || len(g) > MaxFriendLists {
				return snsBad("value of %s must be an array of at most %d friend list names", it.Tag, MaxFriendLists)
			}
			for _, n := range g {
				if err := checkListName(n); err != nil {
					return err
				}
			}
			f.Groups = dedup(g)
		default:
			if err := validCustomSNS(it); err != nil {
				return err
			}
			if f.Custom == nil {
				f.Custom = map[string]string{}
			}
			f.Custom[it.Tag] = string(it.Value)
		}
	}
	return nil
}

func dedup(xs []string) []string {
	out := make([]string, 0, len(xs))
	seen := map[string]bool{}
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// checkAccounts validates a To_Account list of 1 to max ids (30001).
func checkAccounts(ids []string, max int) error {
	if len(ids) == 0 || len(ids) > max {
		return snsBad("To_Account must list 1 to %d accounts", max)
	}
	for _, id := range ids {
		if err := checkSNSUser("To_Account", id); err != nil {
			return err
		}
	}
	return nil
}
