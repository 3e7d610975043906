package gate

import (
	"strings"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// PushToAll refuses push to all users (im_push and the attribute and tag
// commands of all_member_push, reference §3.3) when the app is not active (the
// errors of Active) or its edition lacks the feature: 90045, with a message that
// names the feature, the app's edition and the editions that have it (product
// spec §3: Free Trial only).
func (g *Gate) PushToAll(app store.App) error {
	if err := g.Active(app); err != nil {
		return err
	}
	ed := catalog.MustLookup(app.Edition)
	if ed.Has(catalog.PushToAll) {
		return nil
	}
	return errs.New(errs.PushNotEnabled, "push to all users is not in the %s edition; it is in the %s edition", ed.Name, editionsWith(catalog.PushToAll, " or "))
}

// editionsWith names the editions that have feature f, joined by sep ("Free
// Trial", or "Free Trial and Premium").
func editionsWith(f catalog.Feature, sep string) string {
	var names []string
	for _, e := range catalog.Editions() {
		if e.Has(f) {
			names = append(names, e.Name)
		}
	}
	return strings.Join(names, sep)
}
