package operator

import (
	"net/http"

	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/internal/views"
)

// Custom profile fields of an app (Tag_Profile_Custom_<name>; reference §3.4):
//
//	POST /operator/v1/apps/{sdkappid}/profile-fields {name,type,max_bytes} -> 201 field
//	GET  /operator/v1/apps/{sdkappid}/profile-fields -> {"fields":[field...]}
//
// name is 1 to 8 bytes of letters, digits and underscores; type "string"
// (default; max_bytes 1 to 500, default 500) or "integer" (0 to 2^64-1). 400 a
// bad name, type or bound; 404 an unknown app; 409 a name declared already or
// the app's 20 fields reached. Without Config.IM the routes answer 503.

// ProfileField is the JSON form of a declared custom profile field.
type ProfileField struct {
	Name      string `json:"name"`
	Tag       string `json:"tag"` // Tag_Profile_Custom_<name>
	Type      string `json:"type"`
	MaxBytes  int    `json:"max_bytes"` // 0 for integers
	CreatedAt string `json:"created_at"`
}

// ProfileFieldList is the JSON form of an app's declared fields.
type ProfileFieldList struct {
	Fields []ProfileField `json:"fields"`
}

type addProfileFieldRequest struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	MaxBytes int    `json:"max_bytes"`
}

func (h *handler) registerProfileFields() {
	h.mux.HandleFunc("POST "+Prefix+"/apps/{sdkappid}/profile-fields", h.addProfileField)
	h.mux.HandleFunc("GET "+Prefix+"/apps/{sdkappid}/profile-fields", h.listProfileFields)
}

func profileFieldJSON(f store.ProfileField) ProfileField {
	return ProfileField{Name: f.Name, Tag: "Tag_Profile_Custom_" + f.Name, Type: f.Type, MaxBytes: f.MaxBytes, CreatedAt: views.Time(f.CreatedAt)}
}

func (h *handler) addProfileField(w http.ResponseWriter, r *http.Request) {
	if h.cfg.IM == nil {
		writeError(w, http.StatusServiceUnavailable, "profile fields are not served by this server")
		return
	}
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	var req addProfileFieldRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Type == "" {
		req.Type = "string"
	}
	f, err := h.cfg.IM.DeclareProfileField(r.Context(), id, req.Name, req.Type, req.MaxBytes)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("operator: profile field declared", "sdkappid", id, "name", f.Name, "type", f.Type)
	writeJSON(w, http.StatusCreated, profileFieldJSON(f))
}

func (h *handler) listProfileFields(w http.ResponseWriter, r *http.Request) {
	if h.cfg.IM == nil {
		writeError(w, http.StatusServiceUnavailable, "profile fields are not served by this server")
		return
	}
	id, ok := sdkappidParam(w, r)
	if !ok {
		return
	}
	if _, err := h.cfg.Tenants.GetApp(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	fields, err := h.cfg.IM.ProfileFields(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := ProfileFieldList{Fields: make([]ProfileField, 0, len(fields))}
	for _, f := range fields {
		out.Fields = append(out.Fields, profileFieldJSON(f))
	}
	writeJSON(w, http.StatusOK, out)
}
