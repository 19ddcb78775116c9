// Package sender moves record batches from the accumulator to the brokers.
//
// # Place in the data flow
//
// producer → partitioner → accumulator → sender → protocol, with metadata
// beside. One goroutine, started by [Sender.Start], loops: it wakes when a
// batch fills, linger.ms expires, a response or a connection arrives; it
// drains every ready batch into one Produce request per broker (one batch
// per partition, within max.request.size), keeps at most
// max.in.flight.requests.per.connection requests outstanding per broker,
// and completes each batch's futures with its offsets. With
// max.in.flight.requests.per.connection=1 it also keeps at most one batch
// per partition in flight, across brokers, so order holds through a leader
// move even without idempotence (Java's guaranteeMessageOrder).
//
// # Errors and retries
//
// Retriable Kafka errors and connection failures put the batch back at the
// front of its partition's queue, after an exponential backoff
// (retry.backoff.ms doubling to retry.backoff.max.ms, ±20% jitter), until
// retries or delivery.timeout.ms run out; errors that mean stale metadata
// refresh it (at once from a KIP-951 leader hint). Other errors fail the
// batch with a [*BatchError] wrapping the Kafka error. A batch not
// acknowledged within delivery.timeout.ms fails with a
// [*DeliveryTimeoutError], queued or in flight, whose Last is what held it:
// the last attempt's error, a [*LeaderUnavailableError], an
// [*UnreachableError] or an [*InFlightError].
//
// # Observing
//
// An [Observer] in [Config] hears, on the sender goroutine, every request
// written and finished and every batch retried, failed, acknowledged or
// split: the producer's metrics and hooks are built on it.
//
// # Concurrency
//
// All in-flight bookkeeping is owned by the sender goroutine; connection
// goroutines only post responses to it, through a queue that never blocks
// them. [Sender.Close] drains, then (when its context ends) fails what
// remains and waits for the goroutine.
//
//	s := sender.New(cfg, acc, meta, pool)
//	s.Start()
//	defer s.Close(ctx)
package sender
