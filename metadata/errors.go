package metadata

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors from this package wrap them, so test with
// errors.Is.
var (
	// ErrClosed reports that the Metadata was closed.
	ErrClosed = errors.New("metadata: closed")
	// ErrUnknownTopic reports that a topic did not appear in the metadata
	// before the caller's deadline: it does not exist (and auto-creation
	// is off), or no broker could be reached.
	ErrUnknownTopic = errors.New("metadata: topic not present in metadata")
)

// TopicError reports why metadata for a topic is not available: Err matches
// ErrUnknownTopic (with the context's error) when the wait timed out, a
// Kafka error such as protocol.ErrTopicAuthorizationFailed when the broker
// refused the topic, or ErrClosed.
type TopicError struct {
	Topic string
	Err   error
}

func (e *TopicError) Error() string { return fmt.Sprintf("metadata: topic %q: %v", e.Topic, e.Err) }

// Unwrap returns the cause.
func (e *TopicError) Unwrap() error { return e.Err }
