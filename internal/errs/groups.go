package errs

// Group codes (reference rest-api.md §5, 10xxx). Names say what chatd means.
const (
	GroupInternal            = 10002 // internal error of a group command; retry
	GroupBadParams           = 10004 // an invalid parameter of a group command
	GroupTooManyAccounts     = 10005 // more accounts in one request than the command allows
	GroupTooFrequent         = 10006 // operation frequency limit (daily net increase, broadcasting live rooms)
	GroupNoPermission        = 10007 // the operator may not do this (not a member, not owner/admin, kicking an admin)
	GroupOwnerCannotQuit     = 10009 // the owner may not quit this group type
	GroupNotFound            = 10010 // the group does not exist or was disbanded
	GroupJSONParse           = 10011 // the request body is not valid JSON (a group command)
	GroupOperatorInvalid     = 10012 // the operator's UserID is invalid
	GroupAlreadyMember       = 10013 // the invitee is already a member
	GroupFull                = 10014 // the group has its MaxMemberNum members
	GroupIDInvalid           = 10015 // a GroupId (or TopicId) that is not valid
	GroupMuted               = 10017 // the sender is muted in the group (or the group mutes all members)
	GroupNoAccount           = 10019 // a requested account does not exist (not imported, or not a member)
	GroupIDInUse             = 10021 // create_group with a GroupId already in use
	GroupSendTooFrequent     = 10023 // message send frequency limit of the group
	GroupRequestHandled      = 10024 // the application or invitation was already handled (none is pending)
	GroupRecallNotFound      = 10030 // recall: no message with that MsgSeq
	GroupRecallNotAllowed    = 10033 // recall: the group type does not allow recall (live rooms)
	GroupDeleteNotAllowed    = 10035 // live rooms keep no messages to delete
	GroupLiveRoomLimit       = 10036 // live rooms created over the edition's limit
	GroupJoinedLimit         = 10037 // a user's groups over the edition's limit
	GroupMemberLimit         = 10038 // a group's members over the edition's limit
	GroupAttrNotFound        = 10050 // a group attribute key does not exist
	GroupFeatureNotInEdition = 10059 // a group feature the app's edition lacks

	// GroupAppLimit refuses a group over the edition's groups-at-once limit (Free
	// Trial: 100, live rooms excluded). The reference has no code for it (and uses
	// 10060 onwards for other things); chatd's choice, documented in
	// docs/rest-api.md section 5 and kept stable.
	GroupAppLimit = 10960
	// GroupDailyLimit refuses a group over the edition's net increase of the UTC
	// day (created minus disbanded). chatd's choice, as GroupAppLimit.
	GroupDailyLimit = 10961
	// GroupBroadcastLimit refuses a sixth broadcasting live room online at once.
	// chatd's choice, as GroupAppLimit.
	GroupBroadcastLimit = 10962
)
