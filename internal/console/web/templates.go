package web

import (
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"time"

	"github.com/chatd/chatd/internal/money"
)

// pageNames are the templates under templates/, each with layout.html.
var pageNames = []string{"error", "signin", "signup", "apps", "app", "buy", "billing", "try", "renewals", "accounts", "catalog", "clock"}

var funcs = template.FuncMap{
	// cents writes an amount of US cents as dollars: $399.00, −$49.00.
	"cents": func(c any) string {
		switch v := c.(type) {
		case int64:
			return dollars(money.Cents(v))
		case money.Cents:
			return dollars(v)
		}
		return "?"
	},
	"edition": editionName, // an edition's name: "Standard"
	// limit writes a catalog limit, "unlimited" for catalog.Unlimited.
	"limit": limit,
	"total": func(a, b int64) string { return dollars(money.Cents(a + b)) },
	// date is a UTC day, "—" for the zero time.
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02")
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	// requestID names one rendering of an order form, so that sending it
	// twice places one order.
	"requestID": func() string {
		var b [12]byte
		_, _ = rand.Read(b[:])
		return "web-" + hex.EncodeToString(b[:])
	},
}

// parsePages parses every page with the layout and the shared blocks; a bad
// template is a build error the tests catch, so it panics.
func parsePages() map[string]*template.Template {
	out := make(map[string]*template.Template, len(pageNames))
	for _, n := range pageNames {
		files := []string{"templates/layout.html", "templates/" + n + ".html"}
		t := template.Must(template.New(n).Funcs(funcs).ParseFS(templateFS, files...))
		out[n] = t
	}
	return out
}

// dollars writes c as the pages show money: $399.00, −$49.00 (the sign
// before the dollar sign).
func dollars(c money.Cents) string {
	if c < 0 {
		return "−$" + (-c).String()
	}
	return "$" + c.String()
}
