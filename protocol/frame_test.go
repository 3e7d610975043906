package protocol_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/chatd/chatd/protocol"
)

// jsonNames collects the JSON names of t's fields, descending into embedded
// structs without a tag as encoding/json does.
func jsonNames(t reflect.Type, seen map[string][]string, path string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if f.Anonymous && name == "" {
			jsonNames(f.Type, seen, path+f.Name+".")
			continue
		}
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		seen[name] = append(seen[name], path+f.Name)
	}
}

// TestFrameFieldNamesAreUnique: Frame embeds the field sets of several features;
// two fields with one JSON name would make encoding/json drop one of them
// silently.
func TestFrameFieldNamesAreUnique(t *testing.T) {
	seen := map[string][]string{}
	jsonNames(reflect.TypeOf(protocol.Frame{}), seen, "")
	for name, fields := range seen {
		if len(fields) > 1 {
			t.Errorf("JSON name %q is used by %v", name, fields)
		}
	}
}
