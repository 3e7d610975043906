package restapi

import (
	"os"
	"regexp"
	"testing"
)

// TestDocsCoverage keeps docs/rest-api.md honest: one row per reference endpoint, and
// the rows marked "yes" are exactly the commands the registry serves.
func TestDocsCoverage(t *testing.T) {
	doc, err := os.ReadFile("../../docs/rest-api.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\| ([a-z ]+) \\|")
	rows := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		if _, dup := rows[m[1]]; dup {
			t.Errorf("docs/rest-api.md lists %s twice", m[1])
		}
		rows[m[1]] = m[2]
	}
	served := registry()
	for _, p := range referenceCommands {
		status, ok := rows[p]
		switch {
		case !ok:
			t.Errorf("docs/rest-api.md has no row for %s", p)
		case served[p] != nil && status != "yes" && status != "partial":
			t.Errorf("%s is served but documented as %q", p, status)
		case served[p] == nil && status != "not yet":
			t.Errorf("%s is not served but documented as %q", p, status)
		}
	}
	for p := range rows {
		if !referenceSet[p] {
			t.Errorf("docs/rest-api.md lists %s, which is not a reference endpoint", p)
		}
	}
	for p := range served {
		if !referenceSet[p] {
			t.Errorf("registry serves %s, which is missing from referenceCommands", p)
		}
	}
}
