package metadata

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Errors from this package wrap them, so test with
// errors.Is.
var (
	// ErrClosed reports that the Metadata was closed.
	ErrClosed = errors.New("metadata: closed")
	// ErrUnknownTopic is matched by *WaitError: a topic did not appear in
	// the metadata before the caller's context ended. It does not exist
	// (and auto-creation is off), or no broker could be reached.
	ErrUnknownTopic = errors.New("metadata: topic not present in metadata")
)

// TopicError reports why metadata for a topic is not available at once: Err
// is a Kafka error such as protocol.ErrTopicAuthorizationFailed when the
// broker refused the topic, or the fetch error matching
// conn.ErrAuthentication when the client could not authenticate.
type TopicError struct {
	Topic string
	Err   error
}

func (e *TopicError) Error() string { return fmt.Sprintf("metadata: topic %q: %v", e.Topic, e.Err) }

// Unwrap returns the cause.
func (e *TopicError) Unwrap() error { return e.Err }

// WaitError reports a WaitForTopic whose context ended before the topic had
// partitions. It matches ErrUnknownTopic, the context's error (Ctx) and,
// through Unwrap, Last.
type WaitError struct {
	Topic  string
	Waited time.Duration
	// Last is the broker's last answer for the topic, else the last failed
	// fetch, else a *SilentBrokerError for a fetch still unanswered; nil
	// when there is none of these.
	Last error
	Ctx  error // the context's error
}

func (e *WaitError) Error() string {
	msg := fmt.Sprintf("metadata: topic %q not present in metadata after %v", e.Topic, e.Waited.Round(time.Millisecond))
	if e.Last != nil {
		msg += "; last error: " + e.Last.Error()
	}
	return msg + " (" + e.Ctx.Error() + ")"
}

// Is matches ErrUnknownTopic.
func (e *WaitError) Is(target error) bool { return target == ErrUnknownTopic }

// Unwrap returns Last (when set) and Ctx.
func (e *WaitError) Unwrap() []error {
	if e.Last == nil {
		return []error{e.Ctx}
	}
	return []error{e.Last, e.Ctx}
}

// SilentBrokerError describes a metadata fetch still waiting for a broker
// when a WaitForTopic gave up: the broker accepted the connection (or has
// not refused it) and has not answered. Its own timeout
// (socket.connection.setup.timeout.ms while connecting,
// request.timeout.ms afterwards) had not run out yet.
type SilentBrokerError struct {
	Addr    string
	Waiting string // what it has not answered: "connection setup" or "the Metadata request"
	For     time.Duration
	Setting string        // the timeout that applies: socket.connection.setup.timeout.ms or request.timeout.ms
	Timeout time.Duration // its value
}

func (e *SilentBrokerError) Error() string {
	return fmt.Sprintf("broker %s has not answered %s for %v (%s=%v)", e.Addr, e.Waiting, e.For.Round(time.Millisecond), e.Setting, e.Timeout)
}
