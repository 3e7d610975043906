package natsbus

import (
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/chatd/chatd/internal/bus"
)

// Presence across nodes. Every node keeps the devices of every other live
// node, so that Devices (query_online_status, live-room online members,
// status subscriptions) answers from memory. Each node numbers its changes
// (a user's device list here after a login, a logout, a drop): a change is
// a whole list, so applying one twice is harmless. A node that sees a gap in
// another's numbers, or a node it did not know, asks that node for all its
// devices (a snapshot taken at one number) and applies the changes after it.
// A node that stops its heartbeats for NodeTimeout is dead: its devices stop
// counting.

// presence is the directory: this node's own devices, as told to the others,
// and the other nodes' devices.
type presence struct {
	mu    sync.RWMutex
	seq   uint64 // this node's last change number
	local map[userKey][]bus.Device
	peers map[string]*peer
}

// peer is another node as this one knows it.
type peer struct {
	instance string
	seq      uint64 // the last change applied
	seen     time.Time
	devices  map[userKey][]bus.Device
	// syncing: a snapshot is being fetched; changes wait in pending.
	syncing bool
	pending []delta
}

// delta is one change of a node's devices (chatd.presence).
type delta struct {
	Node     string       `json:"n"`
	Instance string       `json:"i"`
	Seq      uint64       `json:"s"`
	App      int64        `json:"a"`
	User     string       `json:"u"`
	Devices  []bus.Device `json:"d,omitempty"`
}

// heartbeatMsg says a node is alive and its last change number (chatd.hb).
type heartbeatMsg struct {
	Node     string `json:"n"`
	Instance string `json:"i"`
	Seq      uint64 `json:"s"`
}

// snapshotPart is one message of a snapshot reply: the node's devices at
// change Seq, in Parts messages.
type snapshotPart struct {
	Instance string      `json:"i"`
	Seq      uint64      `json:"s"`
	Part     int         `json:"p"`
	Parts    int         `json:"ps"`
	Users    []userEntry `json:"u"`
}

type userEntry struct {
	App     int64        `json:"a"`
	User    string       `json:"u"`
	Devices []bus.Device `json:"d"`
}

func (p *presence) init() {
	p.local = map[userKey][]bus.Device{}
	p.peers = map[string]*peer{}
}

// DevicesChanged tells the other nodes the user's devices here now.
func (b *Bus) DevicesChanged(app int64, user string) {
	h := b.handler()
	if h == nil {
		return
	}
	k := userKey{app, user}
	devs := h.Devices(app, user)
	p := &b.pres
	p.mu.Lock()
	defer p.mu.Unlock() // held while publishing: changes leave in number order
	p.seq++
	if len(devs) == 0 {
		delete(p.local, k)
	} else {
		p.local[k] = devs
	}
	data, _ := json.Marshal(delta{Node: b.cfg.NodeID, Instance: b.instance, Seq: p.seq, App: app, User: user, Devices: devs})
	b.publish(subjPresence, data)
}

// Devices reports the user's devices here and on the other live nodes.
func (b *Bus) Devices(app int64, user string) []bus.Device {
	var out []bus.Device
	if h := b.handler(); h != nil {
		out = h.Devices(app, user)
	}
	return append(out, b.RemoteDevices(app, user)...)
}

// RemoteDevices reports the user's devices on the other live nodes.
func (b *Bus) RemoteDevices(app int64, user string) []bus.Device {
	k := userKey{app, user}
	p := &b.pres
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out []bus.Device
	for _, pr := range p.peers {
		out = append(out, pr.devices[k]...)
	}
	return out
}

// Nodes lists the live nodes this one knows, itself included.
func (b *Bus) Nodes() []string {
	p := &b.pres
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := []string{b.cfg.NodeID}
	for id := range p.peers {
		out = append(out, id)
	}
	return out
}

// heartbeats says this node is alive every HeartbeatEvery and drops the
// nodes that went silent.
func (b *Bus) heartbeats() {
	defer b.done.Done()
	t := time.NewTicker(b.cfg.HeartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case how := <-b.events:
			b.connected(how)
			continue
		case <-t.C:
		}
		b.heartbeat()
		b.expirePeers(time.Now())
	}
}

func (b *Bus) heartbeat() {
	p := &b.pres
	p.mu.RLock()
	data, _ := json.Marshal(heartbeatMsg{Node: b.cfg.NodeID, Instance: b.instance, Seq: p.seq})
	p.mu.RUnlock()
	b.publish(subjHB, data)
}

// expirePeers drops the nodes silent for NodeTimeout and tells the gateway
// whose devices went with them.
func (b *Bus) expirePeers(now time.Time) {
	p := &b.pres
	var gone []userKey
	p.mu.Lock()
	for id, pr := range p.peers {
		if now.Sub(pr.seen) > b.cfg.NodeTimeout {
			b.cfg.Logger.Warn("node silent: its devices no longer count", "node", id)
			for k := range pr.devices {
				gone = append(gone, k)
			}
			delete(p.peers, id)
		}
	}
	n := len(p.peers) + 1
	p.mu.Unlock()
	if b.cfg.Metrics.Nodes != nil {
		b.cfg.Metrics.Nodes(n)
	}
	b.remoteChanged(gone)
}

func (b *Bus) remoteChanged(users []userKey) {
	h := b.handler()
	if h == nil {
		return
	}
	for _, k := range users {
		h.RemoteDevicesChanged(k.app, k.user)
	}
}

// peerLocked returns the node's record, new when the node or its instance is
// new to this one (p.mu held); fresh reports that.
func (b *Bus) peerLocked(node, instance string, now time.Time) (pr *peer, fresh bool, dropped []userKey) {
	p := &b.pres
	pr = p.peers[node]
	if pr != nil && pr.instance == instance {
		pr.seen = now
		return pr, false, nil
	}
	if pr == nil && len(p.peers) >= MaxNodes-1 {
		return nil, false, nil // not a node of ours: a cluster this large is refused
	}
	if pr != nil { // the node restarted: its old devices are gone
		for k := range pr.devices {
			dropped = append(dropped, k)
		}
	}
	pr = &peer{instance: instance, seen: now, devices: map[userKey][]bus.Device{}}
	p.peers[node] = pr
	return pr, true, dropped
}

// onPresence handles changes and heartbeats, in the order each node sent
// them (one subscription), so that a heartbeat never overtakes a change.
func (b *Bus) onPresence(m *nats.Msg) {
	switch m.Subject {
	case subjPresence:
		b.onDelta(m)
	case subjHB:
		b.onHeartbeat(m)
	}
}

func (b *Bus) onHeartbeat(m *nats.Msg) {
	var hb heartbeatMsg
	if err := json.Unmarshal(m.Data, &hb); err != nil || hb.Node == "" {
		return
	}
	if hb.Node == b.cfg.NodeID { // NoEcho: never this process's own
		b.sameIDSeen.Store(time.Now().UnixNano())
		b.sameID.Do(func() {
			b.cfg.Logger.Error("another node runs with this node id: presence between the two is wrong until one is restarted with its own --node-id", "node", hb.Node)
		})
		return
	}
	p := &b.pres
	p.mu.Lock()
	pr, fresh, dropped := b.peerLocked(hb.Node, hb.Instance, time.Now())
	if pr == nil {
		p.mu.Unlock()
		return
	}
	resync := !pr.syncing && (fresh || hb.Seq > pr.seq)
	if resync {
		pr.syncing = true
	}
	p.mu.Unlock()
	b.remoteChanged(dropped)
	if resync {
		go b.fetchSnapshot(hb.Node, pr)
	}
}

func (b *Bus) onDelta(m *nats.Msg) {
	var d delta
	if err := json.Unmarshal(m.Data, &d); err != nil || d.Node == "" || d.Node == b.cfg.NodeID {
		return
	}
	p := &b.pres
	p.mu.Lock()
	pr, fresh, dropped := b.peerLocked(d.Node, d.Instance, time.Now())
	if pr == nil {
		p.mu.Unlock()
		return
	}
	var changed []userKey
	resync := false
	switch {
	case pr.syncing:
		pr.pending = append(pr.pending, d)
	case fresh || d.Seq > pr.seq+1:
		pr.syncing, resync = true, true
		pr.pending = append(pr.pending, d)
	case d.Seq == pr.seq+1:
		pr.apply(d)
		changed = append(changed, userKey{d.App, d.User})
	}
	p.mu.Unlock()
	b.remoteChanged(dropped)
	b.remoteChanged(changed)
	if resync {
		go b.fetchSnapshot(d.Node, pr)
	}
}

func (pr *peer) apply(d delta) {
	k := userKey{d.App, d.User}
	if len(d.Devices) == 0 {
		delete(pr.devices, k)
	} else {
		pr.devices[k] = d.Devices
	}
	pr.seq = d.Seq
}

// fetchSnapshot asks node for all its devices and replaces pr's with them,
// then applies the changes that came meanwhile.
func (b *Bus) fetchSnapshot(node string, pr *peer) {
	p := &b.pres
	select {
	case b.snapSlots <- struct{}{}:
		defer func() { <-b.snapSlots }()
	default: // enough snapshots in flight: asked again on the node's next heartbeat
		p.mu.Lock()
		pr.syncing, pr.pending = false, nil
		p.mu.Unlock()
		return
	}
	if b.cfg.Metrics.Resyncs != nil {
		b.cfg.Metrics.Resyncs()
	}
	devices, seq, instance, err := b.requestSnapshot(node)
	p.mu.Lock()
	if p.peers[node] != pr { // the node expired or restarted meanwhile
		p.mu.Unlock()
		return
	}
	if err != nil || instance != pr.instance {
		// Asked again on the node's next heartbeat.
		pr.syncing, pr.pending = false, nil
		p.mu.Unlock()
		b.cfg.Logger.Debug("presence snapshot failed", "node", node, "err", err)
		return
	}
	var changed []userKey
	for k := range pr.devices {
		if _, ok := devices[k]; !ok {
			changed = append(changed, k)
		}
	}
	for k, ds := range devices {
		if !sameDevices(pr.devices[k], ds) {
			changed = append(changed, k)
		}
	}
	pr.devices, pr.seq = devices, seq
	gap := false
	for _, d := range pr.pending {
		switch {
		case d.Seq <= pr.seq:
		case d.Seq == pr.seq+1:
			pr.apply(d)
			changed = append(changed, userKey{d.App, d.User})
		default:
			gap = true
		}
	}
	pr.syncing, pr.pending = false, nil
	if gap {
		pr.seq = 0 // the next heartbeat asks again
	}
	p.mu.Unlock()
	b.remoteChanged(changed)
}

func sameDevices(a, b []bus.Device) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// requestSnapshot gathers a node's snapshot parts.
func (b *Bus) requestSnapshot(node string) (map[userKey][]bus.Device, uint64, string, error) {
	inbox := b.nc.NewRespInbox()
	parts := make(chan *nats.Msg, 256)
	sub, err := b.nc.ChanSubscribe(inbox, parts)
	if err != nil {
		return nil, 0, "", err
	}
	defer sub.Unsubscribe()
	b.publishReply(prefixSnap+node, inbox, nil)
	deadline := time.Now().Add(snapTimeout)
	out := map[userKey][]bus.Device{}
	got, total := 0, -1
	var seq uint64
	var instance string
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for total < 0 || got < total {
		var m *nats.Msg
		select {
		case m = <-parts:
		case <-timer.C:
			return nil, 0, "", errSnapshotTimeout
		case <-b.stop:
			return nil, 0, "", errSnapshotTimeout
		}
		var sp snapshotPart
		if err := json.Unmarshal(m.Data, &sp); err != nil || sp.Parts < 1 {
			return nil, 0, "", errSnapshot
		}
		if total < 0 {
			total, seq, instance = sp.Parts, sp.Seq, sp.Instance
		} else if sp.Seq != seq || sp.Parts != total || sp.Instance != instance {
			return nil, 0, "", errSnapshot
		}
		for _, u := range sp.Users {
			out[userKey{u.App, u.User}] = u.Devices
		}
		got++
	}
	return out, seq, instance, nil
}

var (
	errSnapshot        = errors.New("malformed presence snapshot")
	errSnapshotTimeout = errors.New("presence snapshot timed out")
)

// onSnapshotRequest answers with this node's devices at its current change
// number, in parts below snapChunkBytes.
func (b *Bus) onSnapshotRequest(m *nats.Msg) {
	if m.Reply == "" {
		return
	}
	p := &b.pres
	p.mu.RLock()
	seq := p.seq
	users := make([]userEntry, 0, len(p.local))
	for k, ds := range p.local {
		users = append(users, userEntry{App: k.app, User: k.user, Devices: ds})
	}
	p.mu.RUnlock()
	var chunks [][]userEntry
	size, start := 0, 0
	for i, u := range users {
		n := 64 + len(u.User) + 48*len(u.Devices)
		if size+n > snapChunkBytes && i > start {
			chunks = append(chunks, users[start:i])
			start, size = i, 0
		}
		size += n
	}
	chunks = append(chunks, users[start:])
	for i, c := range chunks {
		data, _ := json.Marshal(snapshotPart{Instance: b.instance, Seq: seq, Part: i, Parts: len(chunks), Users: c})
		b.publish(m.Reply, data)
	}
}
