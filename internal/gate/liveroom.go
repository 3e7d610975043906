package gate

import "time"

// BroadcastIdle is how long a live room stays broadcasting after its last
// message (product spec §3, the reference's "online broadcasting chat rooms";
// docs/decisions.md): a live room is broadcasting while at least one member
// is online and a message was sent to it within BroadcastIdle.
const BroadcastIdle = 5 * time.Minute

// AdmitBroadcasting lets a live room start broadcasting when broadcasting
// other live rooms of the app do so now; the one that would pass
// MaxBroadcastingLiveRooms gets BroadcastingLimitErr (10962), on every edition.
func (g *Gate) AdmitBroadcasting(broadcasting int) error {
	if broadcasting >= MaxBroadcastingLiveRooms {
		return g.BroadcastingLimitErr()
	}
	return nil
}
