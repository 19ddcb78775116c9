// Package accumulator queues records into per-partition record batches
// until the sender drains them, within a hard memory bound.
//
// # Place in the data flow
//
// producer → partitioner → accumulator → sender → protocol. The producer
// calls [Accumulator.Append] for every record after choosing its partition;
// the sender goroutine calls [Accumulator.Ready], [Accumulator.Drain],
// [Accumulator.Reenqueue] and [Accumulator.Expire], and completes batches.
//
// # Memory
//
// Every batch's bytes come from a [BufferPool] of buffer.memory bytes, in
// power-of-two classes from 1 KiB to batch.size, each recycled: a batch
// opens with 1 KiB (or its first record) and doubles up to batch.size as
// records arrive, so open batches hold about what they use. Buffers for a
// record larger than batch.size are allocated for it and dropped. When the
// pool is exhausted Append blocks, first come first served, up to
// max.block.ms or the caller's context, then fails with a
// [*BufferExhaustedError]. A batch's memory returns to the pool when it is
// deallocated, unless the sender pinned it ([Accumulator.Pin]) because a
// request still carries its bytes; then at the last [Accumulator.Unpin].
//
// # Readiness
//
// The sender does not sweep the partitions on each wake-up. Appenders report
// a partition when its first batch opens or becomes sendable by size, and
// the accumulator keeps, on the sender's side, each node's ring of partitions
// with batches, a count of those sendable now, and heaps of the linger,
// retry-backoff and delivery-timeout deadlines. [Accumulator.Ready],
// [Accumulator.Drain] and [Accumulator.Expire] therefore look only at
// partitions that changed, are due, or are drained; Drain keeps Java's
// per-node rotation. Appenders wake the sender only when a partition becomes
// sendable or a new batch's deadline comes before the sender's next one. A
// [LeaderTable] (the sender's metadata snapshot) lets each topic's leaders be
// resolved once per snapshot.
//
// # Futures
//
// Each batch has one [Result] shared by its records; a record's future is a
// [Handle] pointing at (result, index), as in the Java producer.
//
// # Concurrency
//
// Append is safe for concurrent use and never blocks while holding a lock:
// appends to different partitions do not contend. The sender-side methods
// are meant for a single goroutine; they serialize on one lock, which
// appenders never take.
//
//	pool := accumulator.NewBufferPool(32<<20, 16384)
//	acc := accumulator.New(accumulator.Config{BatchSize: 16384, Linger: 5 * time.Millisecond}, pool)
//	res, err := acc.Append(ctx, "events", 3, nowMillis, key, value, nil, accumulator.Thunk{}, time.Minute)
package accumulator
