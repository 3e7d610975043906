package bus

import "testing"

type node struct{ got []Delivery }

func (n *node) Deliver(ds []Delivery)              { n.got = append(n.got, ds...) }
func (n *node) RemoteDevicesChanged(int64, string) {}
func (n *node) Devices(_ int64, user string) []Device {
	return []Device{{Platform: "Web", ConnID: user}}
}

// Before a handler attaches nothing is delivered and nobody is online; after, the
// handler gets the deliveries and answers for presence.
func TestLocalAttach(t *testing.T) {
	b := NewLocal()
	b.Publish([]Delivery{{App: 1, User: "alice", Kind: KindKick}})
	if d := b.Devices(1, "alice"); len(d) != 0 {
		t.Fatalf("devices without a handler: %v", d)
	}
	n := &node{}
	b.Attach(n)
	b.Publish([]Delivery{{App: 1, User: "bob", Kind: KindKick}})
	if len(n.got) != 1 || n.got[0].User != "bob" {
		t.Fatalf("delivered: %+v", n.got)
	}
	if d := b.Devices(1, "bob"); len(d) != 1 || d[0].ConnID != "bob" {
		t.Fatalf("devices: %v", d)
	}
}

// TestEncodedOnce: deliveries sharing a value encode it once.
func TestEncodedOnce(t *testing.T) {
	var e Encoded
	calls := 0
	enc := func() []byte { calls++; return []byte("frame") }
	for range 3 {
		if got := string(e.Get(enc)); got != "frame" {
			t.Fatalf("Get = %q", got)
		}
	}
	if calls != 1 {
		t.Fatalf("encoded %d times, want once", calls)
	}
}
