package protocol

import (
	"errors"
	"fmt"
)

// ErrMalformed is matched (errors.Is) by every error reporting input that
// does not follow the protocol: truncated frames, bad lengths, bad CRCs.
var ErrMalformed = errors.New("protocol: malformed input")

// Error is a Kafka error code from a broker response. The package holds one
// *Error per known code (the table below); compare with errors.Is against the
// Err* variables. A broker's free-text error message, when a response carries
// one, is attached with WithMessage, which keeps errors.Is working.
type Error struct {
	Code      int16  // Kafka's numeric error code
	Name      string // Kafka's name, e.g. NOT_LEADER_OR_FOLLOWER
	Retriable bool   // Kafka marks the error retriable
	Message   string // what it means
	// Detail is the broker's own message for this occurrence, if any.
	Detail string
}

func (e *Error) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("kafka: %s (%d): %s: %s", e.Name, e.Code, e.Message, e.Detail)
	}
	return fmt.Sprintf("kafka: %s (%d): %s", e.Name, e.Code, e.Message)
}

// Is reports whether target is a Kafka error with the same code, so that a
// copy carrying a broker message still matches the table's sentinel.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// WithMessage returns a copy of e carrying the broker's message. It returns
// e itself when msg is empty, so the common case does not allocate.
func (e *Error) WithMessage(msg string) *Error {
	if msg == "" || e == nil {
		return e
	}
	c := *e
	c.Detail = msg
	return &c
}

// ErrorForCode returns the error for a Kafka error code: nil for 0, the
// table's sentinel for a known code, and a new *Error named UNKNOWN_CODE_n
// for a code this library does not know (treated as not retriable).
func ErrorForCode(code int16) error {
	if code == 0 {
		return nil
	}
	if e := lookupCode(code); e != nil {
		return e
	}
	return &Error{Code: code, Name: fmt.Sprintf("UNKNOWN_CODE_%d", code), Message: "an error code this client does not know"}
}

// KafkaError is like ErrorForCode but returns a typed *Error (nil for 0),
// with the broker's message attached when non-empty.
func KafkaError(code int16, msg *string) *Error {
	if code == 0 {
		return nil
	}
	e := lookupCode(code)
	if e == nil {
		e = &Error{Code: code, Name: fmt.Sprintf("UNKNOWN_CODE_%d", code), Message: "an error code this client does not know"}
	}
	if msg != nil {
		return e.WithMessage(*msg)
	}
	return e
}

// IsRetriable reports whether err is, or wraps, a retriable Kafka error.
func IsRetriable(err error) bool {
	var ke *Error
	return errors.As(err, &ke) && ke.Retriable
}

func lookupCode(code int16) *Error {
	if code == -1 {
		return ErrUnknownServerError
	}
	if code > 0 && int(code) < len(codeTable) {
		return codeTable[code]
	}
	return nil
}

// codeTable indexes the Err* variables by code; built once at init.
var codeTable = func() []*Error {
	max := int16(0)
	for _, e := range allErrors {
		if e.Code > max {
			max = e.Code
		}
	}
	t := make([]*Error, max+1)
	for _, e := range allErrors {
		if e.Code > 0 {
			t[e.Code] = e
		}
	}
	return t
}()
