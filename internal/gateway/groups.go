package gateway

import (
	"strconv"

	"github.com/chatd/chatd/internal/bus"
	"github.com/chatd/chatd/internal/store"
	"github.com/chatd/chatd/protocol"
)

// Live-room frames (AVChatRoom messages) are dropped for a device that is
// behind, instead of queued without bound or ending its session: a device with
// MaxLiveQueueFrames frames, or half its Limits.QueueBytes, not yet written
// misses them (Metrics.LiveRoomDropped counts each). Other frames keep the
// rule of push.
const MaxLiveQueueFrames = 256

// deliverGroup hands one group entry to the connected devices of its
// recipients: encoded once (the delivery's shared Encoded), the same bytes
// queued for each device. Per receiver it costs a hub look-up (a hash and a
// read lock of one shard) and, per connected device, the queue append of
// push; no encoding, goroutine or allocation of its own (a device whose
// flusher is idle gets one started, as for any frame).
func (g *Gateway) deliverGroup(d *bus.Delivery) {
	if d.Group == nil || d.Entry == nil {
		return
	}
	frame := d.Group.Frame.Get(func() []byte { return groupEntryFrame(encodeGroupEntry(d.Entry)) })
	live := d.Group.LiveRoom
	d.Recipients(func(user string) {
		for _, s := range g.hub.get(userKey{d.App, user}) {
			if d.Origin.ConnID != "" && s.connID == d.Origin.ConnID {
				s.acked(d.Origin.Token, groupSendAck(d.Origin.RequestID, d.Entry, encodeGroupEntry(d.Entry)))
				continue
			}
			s.push(outFrame{b: frame, live: live})
		}
	})
}

// encodeGroupEntry is the one JSON encoding of a group entry: the fields of
// protocol.Entry that a group entry has, group first, decoded by
// json.Unmarshal into a protocol.Entry (TestGroupEntryEncoding).
func encodeGroupEntry(e *store.Entry) []byte {
	b := make([]byte, 0, 160+len(e.Group)+len(e.From)+len(e.ClientID)+len(e.Body)+len(e.CloudCustomData)+12*len(e.Targets))
	b = appendString(append(b, `{"group":`...), e.Group)
	b = strconv.AppendInt(append(b, `,"seq":`...), e.Seq, 10)
	b = appendString(append(b, `,"kind":`...), e.Kind)
	b = appendString(append(b, `,"from":`...), e.From)
	if e.Kind == store.KindRecall {
		b = strconv.AppendInt(append(b, `,"msg_seq":`...), e.MsgSeq, 10)
	}
	if e.MsgRandom != 0 {
		b = strconv.AppendUint(append(b, `,"msg_random":`...), uint64(e.MsgRandom), 10)
	}
	if e.MsgTime != 0 {
		b = strconv.AppendInt(append(b, `,"msg_time":`...), e.MsgTime, 10)
	}
	if e.ClientID != "" {
		b = appendString(append(b, `,"client_msg_id":`...), e.ClientID)
	}
	if len(e.Body) > 0 && e.Kind != store.KindRecall && !e.Recalled {
		b = appendRaw(append(b, `,"body":`...), e.Body)
	}
	if e.CloudCustomData != "" && !e.Recalled {
		b = appendString(append(b, `,"cloud_custom_data":`...), e.CloudCustomData)
	}
	if e.Recalled {
		b = append(b, `,"recalled":true`...)
	}
	if len(e.Targets) > 0 {
		b = append(b, `,"targets":[`...)
		for i, t := range e.Targets {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, t)
		}
		b = append(b, ']')
	}
	if e.NeedReceipt {
		b = append(b, `,"need_receipt":true`...)
	}
	return append(b, '}')
}

const groupEntryPrefix = `{"op":"` + protocol.OpGroupEntry + `","code":0,"entry":`

// groupEntryFrame is the push of an encoded group entry.
func groupEntryFrame(entry []byte) []byte { return pushFrame(groupEntryPrefix, entry) }

// groupSendAck is the reply to the group_send request id that wrote e.
func groupSendAck(id string, e *store.Entry, entry []byte) []byte {
	b := make([]byte, 0, 96+len(id)+len(e.Group)+len(e.ClientID)+len(entry))
	b = append(b, `{"op":"`+protocol.OpGroupSend+`"`...)
	if id != "" {
		b = appendString(append(b, `,"id":`...), id)
	}
	b = append(b, `,"code":0`...)
	if e.ClientID != "" {
		b = appendString(append(b, `,"client_msg_id":`...), e.ClientID)
	}
	if e.MsgTime != 0 {
		b = strconv.AppendInt(append(b, `,"msg_time":`...), e.MsgTime, 10)
	}
	if e.Seq != 0 {
		b = strconv.AppendInt(append(b, `,"seq":`...), e.Seq, 10)
	}
	b = append(b, `,"entry":`...)
	b = append(b, entry...)
	b = appendString(append(b, `,"group":`...), e.Group)
	return append(b, '}')
}
