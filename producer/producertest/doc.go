// Package producertest provides a mock producer for unit tests of code
// that sends records, as Java's MockProducer does for KafkaProducer and
// net/http/httptest does for HTTP handlers.
//
// # Use
//
// Write the code under test against [producer.Interface] (or a
// [producer.Typed] made from one); pass a *producer.Producer in
// production and a [*Producer] from [New] in tests. The mock needs no
// cluster and starts no goroutine.
//
//	mock := producertest.New(producertest.WithPartitions("orders", 6))
//	svc := NewOrderService(mock) // takes a producer.Interface
//	svc.Place(ctx, order)
//	sent := mock.History()       // what was sent, where it went
//
// # Completion
//
// By default (auto-complete) every accepted record succeeds at once: its
// Future is resolved and its Callback has run when Send or SendCallback
// returns, with offsets counted per partition from 0. With
// WithAutoComplete(false) records wait until the test resolves them, oldest
// first, with [Producer.CompleteNext] or [Producer.ErrorNext]; Flush and
// CommitTransaction complete everything pending, as the real producer
// delivers everything before they return. Callbacks run on the goroutine
// that completes the record, never under the mock's lock.
//
// # Fidelity
//
// The mock behaves like the real producer where a test can tell: keyed
// records are placed by the real partitioner (Java's murmur2, so keys land
// where the real producer puts them for the same partition count), misuse
// fails at once with the producer's errors (ErrClosed, ErrNoTopic,
// *PartitionError, a record over max.request.size), and a transactional
// mock (WithTransactionalID) runs the real state machine: calls in the
// wrong state fail with *producer.TxnStateError, a failed record makes the
// transaction abortable (*producer.TxnAbortableError), and
// [Producer.FenceProducer] makes every later call fail with a
// *producer.TxnFatalError wrapping protocol.ErrProducerFenced.
//
// # Concurrency
//
// A Producer is safe for concurrent use, like the real one; the inspection
// methods (History, Uncommitted, …) return copies.
package producertest
