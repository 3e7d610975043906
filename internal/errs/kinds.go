package errs

import "errors"

// Kinds of failure shared by every layer. Packages wrap them (fmt.Errorf("%w: ...")
// or Kind) and edges test them with errors.Is, so that each edge maps a kind to
// its answer once, whichever layer failed. They carry no code: a failure that a
// client sees with a reference code is an *Error.
var (
	// ErrInvalid: the request itself is malformed; repeating it cannot succeed.
	ErrInvalid = errors.New("invalid input")
	// ErrNotFound: the thing named does not exist (or is deleted).
	ErrNotFound = errors.New("not found")
	// ErrExists: the thing to create exists already.
	ErrExists = errors.New("already exists")
	// ErrLimit: a quota or limit is reached; nothing is changed.
	ErrLimit = errors.New("limit reached")
	// ErrConflict: the state of the things named refuses the request; it may
	// succeed once the state changes.
	ErrConflict = errors.New("conflict")
)

// Kind returns an error with its own text that is of the given kind
// (errors.Is(err, kind) is true): a domain error that keeps its name while the
// edges map its kind.
func Kind(kind error, text string) error { return &kinded{text: Clip(text), kind: kind} }

type kinded struct {
	text string
	kind error
}

func (k *kinded) Error() string { return k.text }
func (k *kinded) Unwrap() error { return k.kind }
