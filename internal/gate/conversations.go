package gate

import (
	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/store"
)

// Conversation limits of every edition (rest-api.md 3.6; the reference's
// documented limits).
const (
	MaxConvGroups    = 20   // conversation groups per user
	MaxConvsPerGroup = 1000 // conversations in one conversation group
	MaxMarkedConvs   = 1000 // conversations with a standard or custom mark, per user
)

// ConversationMarks refuses conversation marks (recentcontact/mark_contact and
// the WebSocket mark op) unless the app's edition has them: errs.FeatureNotInEdition.
func (g *Gate) ConversationMarks(app store.App) error {
	return g.convFeature(app, catalog.ConversationMarks, "conversation marks")
}

// ConversationGroups refuses conversation groups (create/update/del/get/
// search_contact_group and their WebSocket ops) unless the app's edition has
// them: errs.FeatureNotInEdition.
func (g *Gate) ConversationGroups(app store.App) error {
	return g.convFeature(app, catalog.ConversationGroups, "conversation groups")
}

func (g *Gate) convFeature(app store.App, f catalog.Feature, name string) error {
	if err := g.Active(app); err != nil {
		return err
	}
	return feature(app, f, name)
}
