package main

import (
	"strings"
	"testing"
)

func TestURLList(t *testing.T) {
	var l urlList
	if err := l.Set("http://a:1, https://b:2/"); err != nil {
		t.Fatal(err)
	}
	if err := l.Set("http://c:3"); err != nil {
		t.Fatal(err)
	}
	if got := l.String(); got != "http://a:1,https://b:2,http://c:3" {
		t.Fatalf("got %s", got)
	}
	if err := l.Set("a:1"); err == nil || !strings.Contains(err.Error(), "not an http") {
		t.Fatalf("a URL without a scheme: %v", err)
	}
}
