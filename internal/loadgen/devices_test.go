package loadgen

import (
	"errors"
	"testing"
	"time"
)

func TestDeviceURLRoundRobin(t *testing.T) {
	u := &Users{Server: "http://a:1"}
	if got := u.DeviceURL(5); got != "ws://a:1/v1/ws" {
		t.Fatalf("no Devices: %s", got)
	}
	u.Devices = []string{"http://a:1", "https://b:2", "http://c:3"}
	want := []string{"ws://a:1/v1/ws", "wss://b:2/v1/ws", "ws://c:3/v1/ws", "ws://a:1/v1/ws"}
	for i, w := range want {
		if got := u.DeviceURL(i); got != w {
			t.Errorf("user %d: %s, want %s", i, got, w)
		}
	}
	for p := 0; p < 10; p++ { // a pair's sender and receiver are on two nodes
		if u.DeviceURL(2*p) == u.DeviceURL(2*p+1) {
			t.Errorf("pair %d on one node", p)
		}
	}
}

func TestSumUsage(t *testing.T) {
	one := func(cpu time.Duration, rss int64) func() (Usage, error) {
		return func() (Usage, error) { return Usage{cpu, rss}, nil }
	}
	u, err := SumUsage(one(time.Second, 10), one(2*time.Second, 5))()
	if err != nil || u.CPU != 3*time.Second || u.RSS != 15 {
		t.Fatalf("%+v %v", u, err)
	}
	bad := func() (Usage, error) { return Usage{}, errors.New("down") }
	if _, err := SumUsage(one(time.Second, 1), bad)(); err == nil {
		t.Fatal("a failed sample was summed")
	}
}
