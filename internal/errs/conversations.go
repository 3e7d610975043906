package errs

// Reference codes of recent contacts and conversation groups (rest-api.md 3.6
// and section 5) and the edition refusal chatd gives for conversation marks and
// groups (docs/rest-api.md section 5).
const (
	ConvAccountNotFound = 50001 // From_Account (or a listed account) is not imported
	ConvBadParams       = 50002 // a malformed or missing field of a recentcontact command
	ConvLimit           = 51008 // over 1,000 conversations in a group or marked, or over 20 conversation groups
	// ConvFeatureNotInEdition refuses conversation marks and groups on an
	// edition without them: the reference's "feature needs a higher edition" (10059).
	ConvFeatureNotInEdition = 10059
)
