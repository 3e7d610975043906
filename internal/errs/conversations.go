package errs

// Reference codes of recent contacts and conversation groups (rest-api.md 3.6
// and section 5) (conversation marks and groups missing
// from an edition are refused with FeatureNotInEdition).
const (
	ConvAccountNotFound = 50001 // From_Account (or a listed account) is not imported
	ConvBadParams       = 50002 // a malformed or missing field of a recentcontact command
	ConvLimit           = 51008 // over 1,000 conversations in a group or marked, or over 20 conversation groups
)
