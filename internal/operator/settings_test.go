package operator

import (
	"net/http"
	"testing"
)

// Without a settings service the settings routes answer 503, after the token check.
func TestSettingsNotServed(t *testing.T) {
	e := newEnv(t)
	if code, _ := e.do("GET", "/operator/v1/apps/1400000001/settings", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("GET settings without the service: %d, want 503", code)
	}
	if code, _ := e.do("PUT", "/operator/v1/apps/1400000001/settings", `{"settings":{"friend_only_c2c":"on"}}`); code != http.StatusServiceUnavailable {
		t.Fatalf("PUT settings without the service: %d, want 503", code)
	}
	if code, _ := e.doAuth("GET", "/operator/v1/apps/1400000001/settings", "", "Bearer wrong"); code != http.StatusUnauthorized {
		t.Fatalf("GET settings with a wrong token: %d, want 401", code)
	}
}
