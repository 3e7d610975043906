package errs

// FeatureNotInEdition refuses a non-group feature the app's edition lacks (user
// status, conversation marks and groups, push to all users, ...). The reference
// has a code only for group features (10059); this one is chatd's choice,
// documented in docs/rest-api.md section 5 and kept stable.
const FeatureNotInEdition = 60030
