package producer

import (
	"errors"
	"fmt"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/internal/shutdown"
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
)

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

// CloseError reports a Close whose context ended before everything was
// delivered; the abandoned records failed with errors matching ErrClosed.
type CloseError struct {
	Err error // the context's error
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("producer: close did not finish delivering: %v; undelivered records failed", e.Err)
}

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
