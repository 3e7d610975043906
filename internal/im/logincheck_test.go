package im

import (
	"testing"
	"time"
)

// A session ends when its account is gone, when its UserSig would now be
// refused (70052), or when the kick came after its login (the same second
// as its UserSig included); a login after the kick stays.
func TestLoginCheckEnds(t *testing.T) {
	login := time.Unix(1_000, 400e6) // the session logged in at 1000.4 s with a sig of 1000 s
	for _, tt := range []struct {
		name  string
		check LoginCheck
		sig   int64
		want  string
	}{
		{"account deleted", LoginCheck{}, 1_000, KickedDeleted},
		{"never kicked", LoginCheck{Exists: true}, 1_000, ""},
		{"kicked seconds later", LoginCheck{Exists: true, KickedAt: time.Unix(1_005, 0)}, 1_000, KickedByBackend},
		{"kicked later in the sig's second", LoginCheck{Exists: true, KickedAt: time.Unix(1_000, 900e6)}, 1_000, KickedByBackend},
		{"kicked before the login", LoginCheck{Exists: true, KickedAt: time.Unix(1_000, 100e6)}, 1_000, ""},
		{"an old sig, kicked before the login", LoginCheck{Exists: true, KickedAt: time.Unix(1_000, 100e6)}, 999, KickedByBackend},
	} {
		if got := tt.check.Ends(tt.sig, login); got != tt.want {
			t.Errorf("%s: Ends = %q, want %q", tt.name, got, tt.want)
		}
	}
}
