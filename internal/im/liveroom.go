package im

// liveRooms is the in-memory state of live rooms (AVChatRoom) in this
// process: which rooms broadcast (liveroom_broadcasting.go).
type liveRooms struct {
	broadcasting broadcasting
}
