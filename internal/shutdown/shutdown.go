package shutdown

import "errors"

// ErrClosed is the producer's closed sentinel (producer.ErrClosed).
var ErrClosed = errors.New("producer: closed")

// closedError is an error with its own message that matches ErrClosed and
// any further sentinels it was given.
type closedError struct {
	msg  string
	also []error
}

// New returns an error whose message is msg and which matches ErrClosed
// and every error in also (by identity, as errors.Is compares sentinels).
func New(msg string, also ...error) error { return &closedError{msg: msg, also: also} }

func (e *closedError) Error() string { return e.msg }

// Is matches ErrClosed and the extra sentinels.
func (e *closedError) Is(target error) bool {
	if target == ErrClosed {
		return true
	}
	for _, a := range e.also {
		if target == a {
			return true
		}
	}
	return false
}
