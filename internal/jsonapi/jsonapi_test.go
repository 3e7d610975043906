package jsonapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDecodeMessages(t *testing.T) {
	type req struct {
		Months int      `json:"months"`
		Name   string   `json:"name"`
		IDs    []int64  `json:"ids"`
		Auto   *bool    `json:"auto"`
		Price  float64  `json:"price"`
		Tags   []string `json:"tags"`
	}
	for _, c := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"months":"two"}`, 400, `field "months" must be an integer in the range of int, not string`},
		{`{"name":1}`, 400, `field "name" must be a string, not number`},
		{`{"ids":{}}`, 400, `field "ids" must be an array, not object`},
		{`{"auto":"yes"}`, 400, `field "auto" must be a boolean, not string`},
		{`[]`, 400, `body must be a JSON object, not array`},
		{`{"x":1}`, 400, `unknown field "x"`},
		{`{} {}`, 400, `unexpected data after the JSON object`},
		{"{\"name\":\"\xff\"}", 400, `bad request body`},
		{`{"name":`, 400, `unexpected end of body`},
		{``, 400, `request body is empty`},
		{`{"name":"` + strings.Repeat("a", 100) + `"}`, 413, `larger than 64 bytes`},
		{`{"months":2}`, 200, ``},
	} {
		w := httptest.NewRecorder()
		var v req
		ok := Decode(w, httptest.NewRequest("POST", "/", strings.NewReader(c.body)), &v, 64, false)
		if c.status == 200 {
			if !ok || v.Months != 2 {
				t.Errorf("%s: ok=%v %+v", c.body, ok, v)
			}
			continue
		}
		var e Error
		_ = json.Unmarshal(w.Body.Bytes(), &e)
		if ok || w.Code != c.status || !strings.Contains(e.Error, c.want) {
			t.Errorf("%s: ok=%v %d %s, want %d %q", c.body, ok, w.Code, w.Body, c.status, c.want)
		}
	}
	var v struct{}
	if !Decode(httptest.NewRecorder(), httptest.NewRequest("POST", "/", strings.NewReader(" ")), &v, 64, true) {
		t.Fatal("empty body refused with emptyOK")
	}
}

func TestUnrouted(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /x", func(http.ResponseWriter, *http.Request) {})
	for _, c := range []struct {
		method, path string
		status       int
		want         string
	}{
		{"GET", "/x", 0, ""},
		{"GET", "/y", 404, `no test route /y`},
		{"POST", "/x", 405, `method POST is not allowed on /x (allowed: GET, HEAD)`},
		{"GET", "/x?q=%00", 400, `bad request URL`},
	} {
		w := httptest.NewRecorder()
		done := Unrouted(w, httptest.NewRequest(c.method, c.path, nil), mux, "test")
		if done != (c.status != 0) || c.status != 0 && (w.Code != c.status || !strings.Contains(w.Body.String(), c.want) ||
			w.Header().Get("Content-Type") != "application/json") {
			t.Errorf("%s %s: done=%v %d %s", c.method, c.path, done, w.Code, w.Body)
		}
	}
}
