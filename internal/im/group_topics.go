package im

import (
	"context"
	"errors"
	"strings"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/gate"
	"github.com/chatd/chatd/internal/store"
)

// Community topics (reference rest-api.md §3.7 create_topic, get_topic,
// modify_topic, destroy_topic, import_topic). A topic lives in a Community
// created with SupportTopic; its id is the community's GroupId, "@TOPIC#_" and
// a suffix (custom, or "@TGS#" and 10 random letters and digits). Each topic
// has its own message log keyed by its TopicId (resolveTopic maps it back to
// the community, whose members are the topic's).

// TopicSep separates a topic id's community GroupId from its suffix.
const TopicSep = "@TOPIC#_"

// Bounds of topics, in bytes (or items). The reference states none of them
// (docs/decisions.md): MaxTopicsPerCommunity is chatd's choice, the text
// bounds are those of a group's profile.
const (
	MaxTopicsPerCommunity  = 100
	MaxTopicSuffixBytes    = 48
	MaxTopicIDBytes        = MaxGroupIDBytes + len(TopicSep) + MaxTopicSuffixBytes
	MaxTopicNameBytes      = MaxGroupNameBytes
	MaxTopicCustomBytes    = MaxAppDataValueBytes
	MaxTopicIDList         = MaxTopicsPerCommunity // get_topic, destroy_topic TopicIdList
	topicGeneratedIDPrefix = groupPrefix
)

// TopicSpec is a topic to create (create_topic) or import (import_topic).
type TopicSpec struct {
	GroupID      string
	TopicID      string // "" generates one
	Name         string
	Creator      string // From_Account ("" none)
	CustomString string
	FaceURL      string
	Notification string
	Introduction string
	CreateTime   int64 // import_topic: Unix seconds; 0 now
}

// TopicChange is modify_topic's change: nil fields stay.
type TopicChange struct {
	Name, CustomString, FaceURL, Notification, Introduction *string
	MuteAllMember                                           *string // "On" / "Off"
}

// TopicResult is one topic of get_topic, or the error of one requested id.
type TopicResult struct {
	TopicID string
	Topic   store.Topic
	Self    *store.GroupMember // the From_Account's membership of the community; nil when not a member
	Err     error
}

// TopicDeletion is the outcome for one id of destroy_topic.
type TopicDeletion struct {
	TopicID string
	Err     error
}

func topicNotFound(id string) error {
	return errs.New(errs.GroupNotFound, "topic %q does not exist", id)
}

// checkTopicID checks a TopicId naming a topic of groupID (groupID "" any
// community): 10015 when malformed.
func checkTopicID(id, groupID string) error {
	if len(id) > MaxTopicIDBytes {
		return errs.New(errs.GroupIDInvalid, "TopicId %.60q… is longer than %d bytes", id, MaxTopicIDBytes)
	}
	i := strings.Index(id, TopicSep)
	if groupID != "" {
		if !strings.HasPrefix(id, groupID+TopicSep) {
			return errs.New(errs.GroupIDInvalid, "TopicId %q is not %q, %q and a suffix", id, groupID, TopicSep)
		}
		i = len(groupID)
	} else if i <= 0 {
		return errs.New(errs.GroupIDInvalid, "TopicId %q is not <GroupId>%s<suffix>", id, TopicSep)
	} else if err := checkGroupID(id[:i]); err != nil {
		return errs.New(errs.GroupIDInvalid, "TopicId %q: %s", id, errs.Message(err))
	}
	suffix := id[i+len(TopicSep):]
	if suffix == "" || len(suffix) > MaxTopicSuffixBytes {
		return errs.New(errs.GroupIDInvalid, "the suffix of TopicId %q must be 1 to %d bytes", id, MaxTopicSuffixBytes)
	}
	for j := 0; j < len(suffix); j++ {
		if suffix[j] <= 0x20 || suffix[j] > 0x7e {
			return errs.New(errs.GroupIDInvalid, "TopicId %q has a character outside printable ASCII", id)
		}
	}
	return nil
}

// topicCommunity loads groupID and checks it takes topics: 10010 unknown,
// 10004 not a Community created with SupportTopic.
func (s *Service) topicCommunity(ctx context.Context, app store.App, groupID string, creating bool) (store.Group, error) {
	if creating { // new topics need the edition's communities (10059)
		if err := s.gate.GroupFeature(app, catalog.Community); err != nil {
			return store.Group{}, err
		}
	} else if err := s.gate.Active(app); err != nil {
		return store.Group{}, err
	}
	g, err := s.loadGroup(ctx, app.SDKAppID, groupID)
	if err != nil {
		return g, err
	}
	if g.Type != gate.GroupCommunity || !g.SupportTopic {
		return g, groupBad("group %q is not a Community created with SupportTopic; only those have topics", groupID)
	}
	return g, nil
}

func checkTopicText(name, custom, face, notification, intro *string) error {
	for _, f := range []struct {
		field string
		v     *string
		max   int
	}{{"TopicName", name, MaxTopicNameBytes}, {"CustomString", custom, MaxTopicCustomBytes}, {"FaceUrl", face, MaxGroupFaceURLBytes},
		{"Notification", notification, MaxNotificationBytes}, {"Introduction", intro, MaxIntroductionBytes}} {
		if f.v == nil {
			continue
		}
		if err := checkGroupText(f.field, *f.v, f.max); err != nil {
			return err
		}
	}
	return nil
}

// CreateTopic creates a topic (create_topic; import_topic with imported set,
// which takes CreateTime). Refusals: 10059 an edition without communities,
// 10010 unknown group, 10004 not a topic community or bad fields (TopicName
// required, 1..100 bytes), 10015 a malformed TopicId, 10021 TopicId in use,
// 10019 From_Account not imported, 10004 the community's 100 topics reached.
func (s *Service) CreateTopic(ctx context.Context, app store.App, spec TopicSpec, imported bool) (store.Topic, error) {
	if spec.Name == "" {
		return store.Topic{}, groupBad("TopicName is required")
	}
	if err := checkTopicText(&spec.Name, &spec.CustomString, &spec.FaceURL, &spec.Notification, &spec.Introduction); err != nil {
		return store.Topic{}, err
	}
	if !imported && spec.CreateTime != 0 {
		return store.Topic{}, groupBad("CreateTime is for import_topic")
	}
	if spec.CreateTime < 0 || spec.CreateTime > s.clock.Now().Unix() {
		return store.Topic{}, groupBad("CreateTime %d must be a Unix second not in the future", spec.CreateTime)
	}
	if err := checkGroupID(spec.GroupID); err != nil {
		return store.Topic{}, err
	}
	if spec.TopicID != "" {
		if err := checkTopicID(spec.TopicID, spec.GroupID); err != nil {
			return store.Topic{}, err
		}
		if strings.HasPrefix(spec.TopicID[len(spec.GroupID)+len(TopicSep):], topicGeneratedIDPrefix) {
			return store.Topic{}, errs.New(errs.GroupIDInvalid, "a custom TopicId suffix may not start with %q", topicGeneratedIDPrefix)
		}
	}
	if spec.Creator != "" {
		if err := checkGroupUser("From_Account", spec.Creator); err != nil {
			return store.Topic{}, err
		}
	}
	g, err := s.topicCommunity(ctx, app, spec.GroupID, true)
	if err != nil {
		return store.Topic{}, err
	}
	if spec.Creator != "" {
		have, err := s.imported(ctx, app.SDKAppID, spec.Creator)
		if err != nil {
			return store.Topic{}, err
		}
		if !have[spec.Creator] {
			return store.Topic{}, notImported(spec.Creator)
		}
	}
	t := store.Topic{App: app.SDKAppID, GroupID: g.GroupID, TopicID: spec.TopicID, Name: spec.Name, Creator: spec.Creator,
		CustomString: spec.CustomString, FaceURL: spec.FaceURL, Notification: spec.Notification, Introduction: spec.Introduction,
		CreatedAt: unixTime(s.clock.Now().Unix())}
	if spec.CreateTime > 0 {
		t.CreatedAt = unixTime(spec.CreateTime)
	}
	for try := 0; ; try++ {
		if spec.TopicID == "" {
			t.TopicID = g.GroupID + TopicSep + newGroupID(false)
		}
		got, err := s.store.CreateTopic(ctx, t, MaxTopicsPerCommunity)
		var l *store.GroupLimitError
		switch {
		case err == nil:
			return got, nil
		case errors.Is(err, errs.ErrExists) && spec.TopicID == "" && try < 3:
			continue // a generated id met another; draw again
		case errors.Is(err, errs.ErrExists):
			return store.Topic{}, errs.New(errs.GroupIDInUse, "TopicId %q is in use", t.TopicID)
		case errors.Is(err, errs.ErrNotFound):
			return store.Topic{}, groupNotFound(g.GroupID)
		case errors.As(err, &l):
			return store.Topic{}, groupBad("community %q has %d topics, the most it may have", g.GroupID, MaxTopicsPerCommunity)
		}
		return store.Topic{}, storageErr(err)
	}
}

// GetTopics returns the community's topics (get_topic): those of ids, in
// order (each unknown or malformed one with its error), or all when ids is
// empty. self, when set, is the account whose membership comes with each.
// Refusals: 10010, 10004 (not a topic community; more than 100 ids), 10015.
func (s *Service) GetTopics(ctx context.Context, app store.App, groupID, self string, ids []string) ([]TopicResult, error) {
	if len(ids) > MaxTopicIDList {
		return nil, groupBad("TopicIdList has %d ids; at most %d", len(ids), MaxTopicIDList)
	}
	if self != "" {
		if err := checkGroupUser("From_Account", self); err != nil {
			return nil, err
		}
	}
	if err := checkGroupID(groupID); err != nil {
		return nil, err
	}
	if _, err := s.topicCommunity(ctx, app, groupID, false); err != nil {
		return nil, err
	}
	all, err := s.store.GroupTopics(ctx, app.SDKAppID, groupID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, groupNotFound(groupID)
	}
	if err != nil {
		return nil, storageErr(err)
	}
	var me *store.GroupMember
	if self != "" {
		m, err := s.store.GetGroupMember(ctx, app.SDKAppID, groupID, self)
		switch {
		case err == nil:
			me = &m
		case !errors.Is(err, errs.ErrNotFound):
			return nil, storageErr(err)
		}
	}
	var out []TopicResult
	if len(ids) == 0 {
		for _, t := range all {
			out = append(out, TopicResult{TopicID: t.TopicID, Topic: t, Self: me})
		}
		return out, nil
	}
	byID := make(map[string]store.Topic, len(all))
	for _, t := range all {
		byID[t.TopicID] = t
	}
	for _, id := range ids {
		r := TopicResult{TopicID: id, Self: me}
		if err := checkTopicID(id, groupID); err != nil {
			r.Err = err
		} else if t, ok := byID[id]; ok {
			r.Topic = t
		} else {
			r.Err = topicNotFound(id)
		}
		out = append(out, r)
	}
	return out, nil
}

// ModifyTopic changes a topic (modify_topic). Refusals: 10010 (group or
// topic), 10004 (bad fields; not a topic community), 10015.
func (s *Service) ModifyTopic(ctx context.Context, app store.App, groupID, topicID string, c TopicChange) (store.Topic, error) {
	if err := checkGroupID(groupID); err != nil {
		return store.Topic{}, err
	}
	if err := checkTopicID(topicID, groupID); err != nil {
		return store.Topic{}, err
	}
	if c.Name != nil && *c.Name == "" {
		return store.Topic{}, groupBad("TopicName may not be empty")
	}
	if err := checkTopicText(c.Name, c.CustomString, c.FaceURL, c.Notification, c.Introduction); err != nil {
		return store.Topic{}, err
	}
	u := store.TopicUpdate{Name: c.Name, CustomString: c.CustomString, FaceURL: c.FaceURL, Notification: c.Notification, Introduction: c.Introduction}
	if c.MuteAllMember != nil {
		switch *c.MuteAllMember {
		case "On", "Off":
			on := *c.MuteAllMember == "On"
			u.MuteAllMember = &on
		default:
			return store.Topic{}, groupBad("MuteAllMember %q must be On or Off", *c.MuteAllMember)
		}
	}
	if _, err := s.topicCommunity(ctx, app, groupID, false); err != nil {
		return store.Topic{}, err
	}
	t, err := s.store.UpdateTopic(ctx, app.SDKAppID, groupID, topicID, u)
	if errors.Is(err, errs.ErrNotFound) {
		return t, topicNotFound(topicID)
	}
	if err != nil {
		return t, storageErr(err)
	}
	return t, nil
}

// DestroyTopics deletes topics of the community (destroy_topic), each id on
// its own: 10010 unknown, 10015 malformed. Refusals of the whole call: 10010
// (group), 10004 (not a topic community; no ids or more than 100).
func (s *Service) DestroyTopics(ctx context.Context, app store.App, groupID string, ids []string) ([]TopicDeletion, error) {
	if len(ids) == 0 || len(ids) > MaxTopicIDList {
		return nil, groupBad("TopicIdList has %d ids; 1 to %d", len(ids), MaxTopicIDList)
	}
	if err := checkGroupID(groupID); err != nil {
		return nil, err
	}
	if _, err := s.topicCommunity(ctx, app, groupID, false); err != nil {
		return nil, err
	}
	out := make([]TopicDeletion, len(ids))
	for i, id := range ids {
		out[i].TopicID = id
		if err := checkTopicID(id, groupID); err != nil {
			out[i].Err = err
			continue
		}
		err := s.store.DeleteTopic(ctx, app.SDKAppID, groupID, id)
		switch {
		case errors.Is(err, errs.ErrNotFound):
			out[i].Err = topicNotFound(id)
		case err != nil:
			out[i].Err = storageErr(err)
		}
	}
	return out, nil
}

// resolveTopic returns the community of a topic, for the message path (a
// topic's log is keyed by its TopicId, its members are the community's):
// 10015 a malformed id, 10010 no such topic.
func (s *Service) resolveTopic(ctx context.Context, app int64, topicID string) (groupID string, err error) {
	if err := checkTopicID(topicID, ""); err != nil {
		return "", err
	}
	t, err := s.store.GetTopic(ctx, app, topicID)
	if errors.Is(err, errs.ErrNotFound) {
		return "", topicNotFound(topicID)
	}
	if err != nil {
		return "", storageErr(err)
	}
	return t.GroupID, nil
}
