package natsbus

import (
	"github.com/nats-io/nats.go"

	"github.com/chatd/chatd/internal/bus"
)

type routes struct{}

func (r *routes) init() {}

type presence struct{}

func (p *presence) init() {}

func (b *Bus) dispatch()                                { b.done.Done() }
func (b *Bus) heartbeats()                              { b.done.Done() }
func (b *Bus) heartbeat()                               {}
func (b *Bus) reloadAllRoutes()                         {}
func (b *Bus) onDelta(*nats.Msg)                        {}
func (b *Bus) onHeartbeat(*nats.Msg)                    {}
func (b *Bus) onInvalidation(*nats.Msg)                 {}
func (b *Bus) onSnapshotRequest(*nats.Msg)              {}
func (b *Bus) Publish([]bus.Delivery)                   {}
func (b *Bus) Devices(int64, string) []bus.Device       { return nil }
func (b *Bus) RemoteDevices(int64, string) []bus.Device { return nil }
func (b *Bus) Subscribe(int64, string)                  {}
func (b *Bus) Unsubscribe(int64, string)                {}
func (b *Bus) DevicesChanged(int64, string)             {}
func (b *Bus) Invalidate(...bus.Invalidation)           {}

var _ bus.Bus = (*Bus)(nil)
