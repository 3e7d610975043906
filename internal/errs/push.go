package errs

// Reference error codes of push to all users (all_member_push, reference
// rest-api.md §3.3; the push service's error table). Names say what chatd means.
const (
	PushMsgRandom       = 90005 // MsgRandom missing or not an integer
	PushAdminRequired   = 90009 // the request needs the App admin
	PushTooManyAccounts = 90018 // more accounts in one request than allowed
	PushTagTooLong      = 90020 // a tag is longer than 50 bytes
	PushTagsOverlap     = 90022 // a tag is in both TagsAnd and TagsOr
	PushTooFrequent     = 90024 // two pushes of an app less than the interval apart
	PushLifeTime        = 90026 // MsgLifeTime (offline storage time) invalid
	PushTooManyTags     = 90032 // more than 10 tags in a condition or per user in one request; also a user's tag limit
	PushBadAttr         = 90033 // an attribute name or value is invalid (unknown name, too long)
	PushAttrsAndTags    = 90039 // a condition names both attributes and tags
	PushEmptyTag        = 90040 // a tag of a condition (or request) is empty
	PushNotEnabled      = 90045 // push to all users is not in the app's edition
	PushDailyLimit      = 90047 // the app's pushes of the UTC day are used up
	PushTaskNotFound    = 90049 // no push task with that TaskId
)
