package sender

import (
	"context"
	"fmt"
	"sort"

	"github.com/chatd/chatd/internal/callback"
	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/commerce"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store"
)

// MaxTokenBytes bounds a callback authentication token.
const MaxTokenBytes = 128

// AllCommands, given as a command, turns every command of callback.Commands on.
const AllCommands = callback.AllCommands

// Configs keeps apps' callback settings (the console's callback
// configuration): it validates them against the operator's Policy and the
// rules of the reference, and stores them.
type Configs struct {
	st  store.Callbacks
	p   Policy
	clk clock.Clock
	// OnSet, when set before use, is called with the app after each
	// successful Set (Hooks.Invalidate, so this node sees the change at once).
	OnSet func(app int64)
}

// NewConfigs returns the settings service over st, checking URLs with p;
// clk stamps UpdatedAt.
func NewConfigs(st store.Callbacks, p Policy, clk clock.Clock) *Configs {
	return &Configs{st: st, p: p, clk: clk}
}

// ValidateURL reports whether raw is acceptable as a callback URL under the
// operator's policy (errs.ErrInvalid when not; "" is acceptable: it turns
// callbacks off).
func (c *Configs) ValidateURL(raw string) error {
	if raw == "" {
		return nil
	}
	return c.p.Check(raw)
}

// Update applies ch to app's settings with Set: what ch leaves nil is kept,
// except that an app never configured before gets every command when ch
// names none. Errors as Set's, and a failed read of the current settings.
func (c *Configs) Update(ctx context.Context, app store.App, ch callback.ConfigChange) (store.CallbackConfig, error) {
	cur, err := c.Get(ctx, app)
	if err != nil {
		return store.CallbackConfig{}, err
	}
	url, token, cmds := cur.URL, cur.Token, cur.Commands
	if ch.URL != nil {
		url = *ch.URL
	}
	if ch.Token != nil {
		token = *ch.Token
	}
	switch {
	case ch.Commands != nil:
		cmds = *ch.Commands
	case cur.UpdatedAt.IsZero():
		cmds = []string{AllCommands}
	}
	return c.Set(ctx, app, url, token, cmds)
}

// Set replaces app's callback settings: url ("" turns every callback off;
// else it must pass the Policy), token (at most MaxTokenBytes of printable
// ASCII; "" sends no Sign) and commands (names of callback.Commands, or
// AllCommands; stored sorted without repeats). It returns what was stored.
//
// Errors: errs.ErrConflict when the app is suspended or deleted (a suspended
// app cannot change its callbacks, product.md §5.4); errs.ErrInvalid for a
// bad URL, token or command (nothing is changed); an internal error (hidden
// storage text) when the store fails.
func (c *Configs) Set(ctx context.Context, app store.App, url, token string, commands []string) (store.CallbackConfig, error) {
	switch app.Status {
	case store.StatusSuspended:
		return store.CallbackConfig{}, errs.Kind(errs.ErrConflict, commerce.SuspendedMessage(app, "its callbacks cannot be configured"))
	case store.StatusDeleted:
		return store.CallbackConfig{}, errs.Kind(errs.ErrConflict, fmt.Sprintf("app %d is deleted: its callbacks cannot be changed", app.SDKAppID))
	}
	if err := c.ValidateURL(url); err != nil {
		return store.CallbackConfig{}, err
	}
	if err := checkToken(token); err != nil {
		return store.CallbackConfig{}, err
	}
	cmds, err := normalizeCommands(commands)
	if err != nil {
		return store.CallbackConfig{}, err
	}
	cfg := store.CallbackConfig{URL: url, Token: token, Commands: cmds, UpdatedAt: c.clk.Now()}
	if err := c.st.SetCallbackConfig(ctx, app.SDKAppID, cfg); err != nil {
		return store.CallbackConfig{}, errs.Hidden(err)
	}
	if c.OnSet != nil {
		c.OnSet(app.SDKAppID)
	}
	return cfg, nil
}

// Get returns app's callback settings (the zero value when none were set).
// Errors: an internal error (hidden storage text) when the store fails.
func (c *Configs) Get(ctx context.Context, app store.App) (store.CallbackConfig, error) {
	cfg, err := c.st.CallbackConfig(ctx, app.SDKAppID)
	if err != nil {
		return store.CallbackConfig{}, errs.Hidden(err)
	}
	return cfg, nil
}

func checkToken(token string) error {
	if len(token) > MaxTokenBytes {
		return errs.Kind(errs.ErrInvalid, fmt.Sprintf("callback token: longer than %d bytes", MaxTokenBytes))
	}
	for i := 0; i < len(token); i++ {
		if token[i] < 0x21 || token[i] > 0x7e {
			return errs.Kind(errs.ErrInvalid, "callback token: only printable ASCII characters, no spaces")
		}
	}
	return nil
}

// normalizeCommands checks names against callback.Commands and returns them
// sorted without repeats (never nil).
func normalizeCommands(in []string) ([]string, error) {
	if len(in) > 4*len(callback.Commands) {
		return nil, errs.Kind(errs.ErrInvalid, fmt.Sprintf("callback commands: more than %d names", 4*len(callback.Commands)))
	}
	set := make(map[string]bool, len(in))
	for _, c := range in {
		if c == AllCommands {
			for _, k := range callback.Commands {
				set[k] = true
			}
			continue
		}
		if !known(c) {
			return nil, errs.Kind(errs.ErrInvalid, fmt.Sprintf("callback commands: unknown command %q (known: the CallbackCommand names chatd sends, or %q)", c, AllCommands))
		}
		set[c] = true
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out, nil
}

func known(c string) bool {
	for _, k := range callback.Commands {
		if k == c {
			return true
		}
	}
	return false
}
