package errs

// Relationship-chain codes (reference §5, 30xxx) and the one-to-one refusals of
// the relationship rules (20xxx).
const (
	SNSBadParams       = 30001 // bad parameters; also an item whose friend exists (ResultInfo Err_SNS_FriendAdd_Friend_Exist)
	SNSNoAccount       = 30003 // the account does not exist
	SNSAddForbidden    = 30009 // the user's AdminForbidType forbids adding friends
	SNSOwnListFull     = 30010 // the user's friend list is at its edition's limit
	SNSListsFull       = 30011 // the user has the most friend lists (32)
	SNSPendingFull     = 30012 // the target has the most pending requests (100)
	SNSBlocklistFull   = 30013 // the user's blocklist is at its limit
	SNSPeerListFull    = 30014 // the peer's friend list is at its edition's limit
	SNSPeerBlocked     = 30515 // the target is in the user's blocklist
	SNSBlockedByPeer   = 30525 // the user is in the target's blocklist
	SNSDenyAny         = 30516 // the target's AllowType is AllowType_Type_DenyAny
	SNSPending         = 30539 // a pending request was created: the target must confirm
	SNSRequestNotFound = 30614 // no pending request of that user
	SNSNotFriends      = 31704 // not friends

	C2CBlocked         = 20007 // the sender is in the receiver's blocklist
	C2CNotFriends      = 20009 // friend-only messaging: neither has the other
	C2CSenderNotFriend = 20010 // friend-only messaging: the sender is not in the receiver's list
	C2CPeerNotFriend   = 20011 // friend-only messaging: the receiver is not in the sender's list
)
