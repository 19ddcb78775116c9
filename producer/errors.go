package producer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/internal/shutdown"
	"github.com/tributary-go/tributary/metadata"
	"github.com/tributary-go/tributary/sender"
)

// Sentinel errors returned (through a Future, a Callback or directly) for
// misuse. Delivery failures carry the sender's and Kafka's typed errors;
// see the package documentation.
var (
	// ErrClosed is returned by Send, SendCallback and PartitionsFor after
	// Close, and matched by the error of every record Close had to abandon:
	// one still queued ("producer: closed before the record was sent"),
	// one whose request was in flight ("producer: closed while its request
	// was in flight; it may have been written") and a Send that was waiting
	// for metadata or buffer memory when Close was called.
	ErrClosed = shutdown.ErrClosed
	// ErrNilRecord is returned when Send is given a nil *Record.
	ErrNilRecord = errors.New("producer: nil record")
	// ErrNoTopic is returned for a record without a topic.
	ErrNoTopic = errors.New("producer: record has no topic")
	// ErrInvalidPartition is matched by *PartitionError.
	ErrInvalidPartition = errors.New("producer: invalid partition")
	// ErrInvalidTopic is matched by *InvalidTopicError.
	ErrInvalidTopic = errors.New("producer: invalid topic name")
	// ErrMetadataTimeout is matched by *MetadataTimeoutError.
	ErrMetadataTimeout = errors.New("producer: no metadata within max.block.ms")
	// ErrFlushInCallback is returned by Flush called from a Callback or an
	// interceptor's OnAcknowledgement: it would wait for callbacks that
	// cannot run before the calling one returns (Java's KafkaProducer.flush
	// throws a KafkaException from its I/O thread for the same reason).
	ErrFlushInCallback = errors.New("producer: Flush called from a callback or OnAcknowledgement, where waiting for the callbacks would deadlock")
)

// MetadataTimeoutError reports a Send or PartitionsFor that waited
// max.block.ms for a topic's metadata in vain. It matches
// ErrMetadataTimeout and, through Unwrap, Last, but never
// context.DeadlineExceeded: the caller's context did not end (when it
// does, the error matches ctx.Err() instead).
type MetadataTimeoutError struct {
	Topic    string
	MaxBlock time.Duration // max.block.ms
	// Last is why the metadata was missing, when known: the broker's last
	// answer for the topic (UNKNOWN_TOPIC_OR_PARTITION, …), the last failed
	// fetch (a broker unreachable or silent past request.timeout.ms or
	// socket.connection.setup.timeout.ms), or a broker still silent.
	Last error
}

func (e *MetadataTimeoutError) Error() string {
	msg := fmt.Sprintf("producer: no metadata for topic %q within max.block.ms=%v", e.Topic, e.MaxBlock)
	var se *metadata.SilentBrokerError
	switch {
	case e.Last == nil:
	case errors.As(e.Last, &se):
		msg += "; " + e.Last.Error()
	default:
		msg += "; last error: " + e.Last.Error()
	}
	return msg
}

// Is matches ErrMetadataTimeout.
func (e *MetadataTimeoutError) Is(target error) bool { return target == ErrMetadataTimeout }

// Unwrap returns Last, unless Last itself matches context.DeadlineExceeded
// (a network timeout does), which would make the error claim that the
// caller's context ended.
func (e *MetadataTimeoutError) Unwrap() error {
	if errors.Is(e.Last, context.DeadlineExceeded) {
		return nil
	}
	return e.Last
}

// InvalidTopicError reports a topic name Kafka does not accept (Kafka's
// org.apache.kafka.common.internals.Topic.validate): 1 to 249 characters
// of ASCII letters, digits, '.', '_' and '-', and not "." or "..". Send
// returns it at once, without asking a broker. It matches ErrInvalidTopic.
type InvalidTopicError struct {
	Topic  string
	Reason string // which part of the rule the name breaks
}

func (e *InvalidTopicError) Error() string {
	name := e.Topic
	if len(name) > 64 {
		name = fmt.Sprintf("%s… (%d characters)", name[:48], len(e.Topic))
	}
	return fmt.Sprintf("producer: invalid topic name %q: %s (Kafka topic names are 1 to 249 characters of [a-zA-Z0-9._-], not \".\" or \"..\")", name, e.Reason)
}

// Is matches ErrInvalidTopic.
func (e *InvalidTopicError) Is(target error) bool { return target == ErrInvalidTopic }

// maxTopicLength is Kafka's limit on a topic name (Topic.MAX_NAME_LENGTH).
const maxTopicLength = 249

// validateTopic applies Kafka's topic name rule (Topic.java). It runs once
// per Send only until the topic is in the metadata cache, so the hot path
// never pays for it.
func validateTopic(name string) error {
	switch {
	case name == "." || name == "..":
		return &InvalidTopicError{Topic: name, Reason: "the name cannot be \".\" or \"..\""}
	case len(name) > maxTopicLength:
		return &InvalidTopicError{Topic: name, Reason: fmt.Sprintf("the name is %d characters long", len(name))}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-' {
			continue
		}
		return &InvalidTopicError{Topic: name, Reason: fmt.Sprintf("character %q at offset %d is not allowed", rune(c), i)}
	}
	return nil
}

// metadataError turns WaitForTopic's error into the one Send returns,
// saying which of these happened: Close ended the wait (matches
// ErrClosed), the caller's ctx ended (matches ctx.Err()), max.block.ms
// passed (*MetadataTimeoutError), authentication failed (the connection's
// error, matching ErrAuthentication), or the broker rejected the topic
// (the Kafka error).
func metadataError(ctx context.Context, name string, maxBlock, waited time.Duration, err error) error {
	var we *metadata.WaitError
	var te *metadata.TopicError
	switch {
	case errors.Is(err, metadata.ErrClosed):
		return shutdown.New(fmt.Sprintf("producer: closed while waiting for metadata for topic %q", name))
	case ctx.Err() != nil:
		return fmt.Errorf("producer: stopped waiting for metadata for topic %q after %v: %w", name, waited.Round(time.Millisecond), ctx.Err())
	case errors.As(err, &we):
		return &MetadataTimeoutError{Topic: name, MaxBlock: maxBlock, Last: we.Last}
	case errors.As(err, &te) && errors.Is(te.Err, ErrAuthentication):
		return te.Err
	case errors.As(err, &te):
		return fmt.Errorf("producer: the broker rejected topic %q: %w", name, te.Err)
	}
	return err
}

// PartitionError reports a record whose partition (explicit, or returned by
// a custom partitioner) is outside the topic's range.
type PartitionError struct {
	Topic           string
	Partition       int32
	NumPartitions   int
	FromPartitioner bool // the partitioner, not the record, chose it
}

func (e *PartitionError) Error() string {
	who := "record names"
	if e.FromPartitioner {
		who = "partitioner chose"
	}
	return fmt.Sprintf("producer: %s partition %d but topic %q has %d partitions", who, e.Partition, e.Topic, e.NumPartitions)
}

// Is matches ErrInvalidPartition.
func (e *PartitionError) Is(target error) bool { return target == ErrInvalidPartition }

// CloseError reports a Close that did not deliver everything: its context
// ended first, or it was called from a callback and did not wait. The
// abandoned records failed with errors matching ErrClosed.
type CloseError struct {
	Err error // the context's error, or one saying Close ran in a callback
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("producer: Close stopped before delivering everything (%v); the undelivered records failed", e.Err)
}

// errCloseInCallback is CloseError.Err for a Close called from a callback.
var errCloseInCallback = errors.New("it was called from a callback, so it did not wait")

// Unwrap returns the context's error.
func (e *CloseError) Unwrap() error { return e.Err }

// Is matches ErrClosed.
func (e *CloseError) Is(target error) bool { return target == ErrClosed }

// recordErr returns the error of the record at idx of a batch result as
// the caller sees it. A record abandoned in flight by Close carries the
// sender's ErrClosedInFlight joined with the connection error of the
// request Close cut short (the connection Close itself closed, or the
// attempt being retried); that second line adds nothing the first does not
// say, so the record fails with the sentinel alone.
func recordErr(r *accumulator.Result, idx int32) error {
	err := r.RecordErr(idx)
	if err != nil && err != sender.ErrClosedInFlight && errors.Is(err, sender.ErrClosedInFlight) {
		return sender.ErrClosedInFlight
	}
	return err
}
