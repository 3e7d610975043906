package gate

import (
	"sort"

	"github.com/chatd/chatd/internal/catalog"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// Capabilities is what a device learns of its app's edition at login: the
// edition id (catalog.Trial, catalog.Standard, catalog.Premium) and the
// edition's features (catalog.Feature names, sorted), so that a client enables
// or hides what the edition has (local message search, user status, ...).
type Capabilities struct {
	Edition  string
	Features []string
}

// Capabilities returns the edition and feature flags of app, read from the catalog.
func (g *Gate) Capabilities(app store.App) Capabilities {
	ed := catalog.MustLookup(app.Edition)
	c := Capabilities{Edition: ed.ID, Features: []string{}}
	for f, on := range ed.Features {
		if on {
			c.Features = append(c.Features, string(f))
		}
	}
	sort.Strings(c.Features)
	return c
}

// UserStatus refuses user status (custom status, status subscriptions, the
// custom status in query_online_status) on an app that is not active (60020)
// or whose edition lacks it (errs.FeatureNotInEdition, product spec section 3:
// Free Trial and Premium have it, Standard does not).
func (g *Gate) UserStatus(app store.App) error {
	if err := g.Active(app); err != nil {
		return err
	}
	return feature(app, catalog.UserStatus, "user status (online state, custom status, subscriptions)")
}

// feature refuses f when app's edition lacks it, with a message naming the
// feature, the app's edition and the editions that have it.
func feature(app store.App, f catalog.Feature, name string) error {
	ed := catalog.MustLookup(app.Edition)
	if ed.Has(f) {
		return nil
	}
	return errs.New(errs.FeatureNotInEdition, "%s is not part of the %s edition; it is in %s", name, ed.Name, editionsWith(f, " and "))
}
