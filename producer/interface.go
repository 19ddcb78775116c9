package producer

import "context"

// Interface is the set of methods a Producer offers to code that sends
// records, so that such code can be tested without a cluster: accept an
// Interface, pass a *Producer in production and a producertest.Producer
// (package producer/producertest) in unit tests, as Java code takes a
// Producer<K, V> and tests pass a MockProducer. NewTyped accepts any
// Interface.
//
// Implementations must be safe for concurrent use and follow the
// Producer's documented behaviour: Send and SendCallback report misuse at
// once and delivery outcomes later; the transactional methods fail with
// ErrNotTransactional on a producer without a transactional id and with
// the typed transaction errors (*TxnStateError, …) in a wrong state.
type Interface interface {
	// Send sends rec and returns its Future (see Producer.Send).
	Send(ctx context.Context, rec *Record) *Future
	// SendCallback sends rec and reports to cb (see Producer.SendCallback).
	SendCallback(ctx context.Context, rec *Record, cb Callback)
	// Flush waits for every record sent before the call (see Producer.Flush).
	Flush(ctx context.Context) error
	// Close delivers what is buffered and releases resources.
	Close(ctx context.Context) error
	// PartitionsFor returns a topic's partitions.
	PartitionsFor(ctx context.Context, topic string) ([]PartitionInfo, error)
	// Metrics returns a snapshot of the producer's metrics.
	Metrics() Metrics
	// InitTransactions, BeginTransaction, SendOffsetsToTransaction,
	// CommitTransaction and AbortTransaction are the transactional API
	// (see Producer.InitTransactions).
	InitTransactions(ctx context.Context) error
	BeginTransaction() error
	SendOffsetsToTransaction(ctx context.Context, offsets map[string][]PartitionOffset, group GroupMetadata) error
	CommitTransaction(ctx context.Context) error
	AbortTransaction(ctx context.Context) error
}

var _ Interface = (*Producer)(nil)
