package sender

import (
	"fmt"
	"time"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/internal/shutdown"
)

// Sentinel errors reported for batches the sender could not deliver.
var (
	// ErrClosedBeforeSent fails batches still queued when Close's deadline
	// passed. It matches producer.ErrClosed and accumulator.ErrAborted.
	ErrClosedBeforeSent = shutdown.New("producer: closed before the record was sent", accumulator.ErrAborted)
	// ErrClosedInFlight fails batches whose request was outstanding when
	// Close's deadline passed; they may or may not have been written. It
	// matches producer.ErrClosed.
	ErrClosedInFlight = shutdown.New("producer: closed while its request was in flight; it may have been written")
)

// DeliveryTimeoutError fails a batch that was not acknowledged within
// delivery.timeout.ms of its creation. It matches
// accumulator.ErrDeliveryTimeout.
type DeliveryTimeoutError struct {
	Topic     string
	Partition int32
	Timeout   time.Duration
	Records   int
	Last      error // the last attempt's error, if any
}

func (e *DeliveryTimeoutError) Error() string {
	msg := fmt.Sprintf("sender: %d records for %s-%d expired after delivery.timeout.ms=%v", e.Records, e.Topic, e.Partition, e.Timeout)
	if e.Last != nil {
		msg += ": last error: " + e.Last.Error()
	}
	return msg
}

// Is matches accumulator.ErrDeliveryTimeout.
func (e *DeliveryTimeoutError) Is(target error) bool { return target == accumulator.ErrDeliveryTimeout }

// Unwrap returns the last attempt's error.
func (e *DeliveryTimeoutError) Unwrap() error { return e.Last }

// BatchError reports a batch the broker rejected with a Kafka error.
// errors.Is matches the Kafka error (e.g. protocol.ErrTopicAuthorizationFailed).
type BatchError struct {
	Topic        string
	Partition    int32
	Records      int
	Err          error           // the partition's Kafka error
	RecordErrors map[int32]error // per-record errors by batch index (v8+)
}

func (e *BatchError) Error() string {
	return fmt.Sprintf("sender: %s-%d rejected a batch of %d records: %v", e.Topic, e.Partition, e.Records, e.Err)
}

// Unwrap returns the Kafka error.
func (e *BatchError) Unwrap() error { return e.Err }

// NetworkError reports a request that failed on the connection (closed,
// timed out, undecodable response).
type NetworkError struct {
	Node int32
	Err  error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("sender: request to broker %d failed: %v", e.Node, e.Err)
}

// Unwrap returns the connection's error.
func (e *NetworkError) Unwrap() error { return e.Err }

// ResponseError reports a response that does not fit its request.
type ResponseError struct {
	Topic     string
	Partition int32
	Reason    string
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("sender: bad Produce response for %s-%d: %s", e.Topic, e.Partition, e.Reason)
}

// FatalError fails records because the producer hit an error it cannot
// recover from (for example CLUSTER_AUTHORIZATION_FAILED or
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED from InitProducerId).
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return "sender: producer is in a fatal state: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *FatalError) Unwrap() error { return e.Err }

// UncertainDeliveryError fails a batch that may or may not have been
// written: an earlier attempt timed out or lost its connection, and the
// producer then had to bump its epoch (another batch of the partition
// failed for good), after which a resend could be written twice. The
// records are reported failed rather than risk duplicates; they may be in
// the log.
type UncertainDeliveryError struct {
	Topic     string
	Partition int32
	Records   int
}

func (e *UncertainDeliveryError) Error() string {
	return fmt.Sprintf("sender: %d records for %s-%d may or may not have been written; not resent after an epoch bump to avoid duplicates", e.Records, e.Topic, e.Partition)
}

// LeaderUnavailableError is the cause carried by a DeliveryTimeoutError
// when the partition had no known leader: metadata named none, or a leader
// that is not among the brokers. Err is the metadata's error for the topic
// or partition (e.g. protocol.ErrLeaderNotAvailable), or nil.
type LeaderUnavailableError struct {
	Topic     string
	Partition int32
	Err       error
}

func (e *LeaderUnavailableError) Error() string {
	msg := fmt.Sprintf("sender: no leader known for %s-%d", e.Topic, e.Partition)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the metadata's error.
func (e *LeaderUnavailableError) Unwrap() error { return e.Err }

// UnreachableError is the cause carried by a DeliveryTimeoutError when the
// partition's leader could not be connected to (or its last connection
// died). Err is the connection's error.
type UnreachableError struct {
	Node int32
	Addr string
	Err  error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("sender: leader %d at %s unreachable: %v", e.Node, e.Addr, e.Err)
}

// Unwrap returns the connection's error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// InFlightError is the cause carried by a DeliveryTimeoutError when the
// batch expired while a request carrying it to broker Node was still
// unanswered (sent at Sent, Waited before it expired). The records may or
// may not have been written.
//
// Previous is the error the batch's previous attempt got, if it was
// retried (e.g. NOT_ENOUGH_REPLICAS): the reason it was still unsent at
// its delivery timeout, which errors.Is and errors.As reach through
// Unwrap.
type InFlightError struct {
	Node     int32
	Sent     time.Time
	Waited   time.Duration
	Previous error
}

func (e *InFlightError) Error() string {
	msg := fmt.Sprintf("sender: the request to broker %d was not answered within %v; the records may or may not have been written", e.Node, e.Waited.Round(time.Millisecond))
	if e.Previous != nil {
		msg += " (the previous attempt failed: " + e.Previous.Error() + ")"
	}
	return msg
}

// Unwrap returns the previous attempt's error, nil when there was none.
func (e *InFlightError) Unwrap() error { return e.Previous }

// QueuedError is the cause carried by a DeliveryTimeoutError when the
// batch expired unsent, queued behind Requests requests to its leader
// Node at Addr that were still unanswered, the oldest sent Waited before
// the batch expired: a broker that stopped answering on an open
// connection fills the in-flight window (max.in.flight.requests.per.connection)
// and holds everything behind it. The batch was never written.
type QueuedError struct {
	Node     int32
	Addr     string
	Requests int
	Waited   time.Duration
}

func (e *QueuedError) Error() string {
	return fmt.Sprintf("sender: queued behind %d requests to broker %d at %s that were not answered (the oldest for %v); the records were not sent",
		e.Requests, e.Node, e.Addr, e.Waited.Round(time.Millisecond))
}
