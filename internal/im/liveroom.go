package im

// liveRooms is the in-memory state of live rooms (AVChatRoom) in this
// process: which rooms broadcast (liveroom_broadcasting.go), their recent
// messages for new members (liveroom_history.go) and the app's broadcast
// messages (liveroom_broadcast.go).
type liveRooms struct {
	broadcasting broadcasting
	history      liveHistory
	broadcasts   broadcasts
}
