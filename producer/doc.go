// Package producer is Tributary's Kafka producer: the Java producer's model
// and settings in idiomatic Go.
//
// # Sending
//
// [Producer.Send] runs interceptors, finds the topic's metadata, chooses a
// partition (explicit, Java-compatible murmur2 for keys, sticky for
// unkeyed records), appends the record to its partition's batch and returns
// a [*Future]. A sender goroutine drains full or lingered batches into one
// Produce request per broker and completes the futures with offsets.
//
//	p, err := producer.New(producer.WithBootstrapServers("localhost:9092"))
//	if err != nil { ... }
//	defer p.Close(context.Background())
//	f := p.Send(ctx, &producer.Record{Topic: "events", Key: []byte("k"), Value: []byte("v")})
//	md, err := f.Get(ctx) // md.Partition, md.Offset
//
// [Producer.SendCallback] reports through a [Callback] instead and allocates
// nothing per record. [NewFromProperties] accepts the Java property names
// ("batch.size", "linger.ms", "acks", …).
//
// # Blocking and memory
//
// Send blocks only for metadata and buffer memory, at most max.block.ms or
// until its context ends; buffer.memory is a hard bound on buffered bytes.
// Once Send returns, the record is delivered or fails within
// delivery.timeout.ms; the context no longer matters.
//
// # Errors
//
// Every error says what happened in one sentence, with the setting that
// applies, and matches a documented sentinel with errors.Is:
//
//   - Misuse fails Send at once: [ErrNilRecord], [ErrNoTopic],
//     [*InvalidTopicError] ([ErrInvalidTopic]; Kafka's rule is 1 to 249
//     characters of [a-zA-Z0-9._-], not "." or ".."), [*PartitionError]
//     ([ErrInvalidPartition]), a record over max.request.size or
//     buffer.memory (accumulator.RecordTooLargeError).
//   - Waiting for a topic's metadata ends in one of four ways: Close
//     ended it ([ErrClosed]); the caller's ctx ended (ctx.Err());
//     max.block.ms passed ([*MetadataTimeoutError], [ErrMetadataTimeout],
//     which never matches context.DeadlineExceeded, with the last cause:
//     the broker's answer, or a broker named by address that did not
//     answer within request.timeout.ms or
//     socket.connection.setup.timeout.ms); the broker rejected the topic
//     (the Kafka error, e.g. protocol.ErrTopicAuthorizationFailed).
//   - Refused credentials or TLS trust fail at once with an error matching
//     [ErrAuthentication] ([*AuthError], also matching
//     protocol.ErrSASLAuthenticationFailed, or [*TLSError]), never a
//     metadata timeout, and never showing a password.
//   - Delivery failures resolve the future with the sender's typed errors,
//     which wrap Kafka's (compare with errors.Is against protocol.Err*).
//   - Every record Close abandons fails with an error matching
//     [ErrClosed]: "producer: closed before the record was sent" or
//     "producer: closed while its request was in flight; it may have been
//     written"; Close then returns a [*CloseError].
//
// # Metrics, hooks and logs
//
// [Producer.Metrics] returns a [Metrics] snapshot of the Java producer's
// figures (record-send-rate, request-latency-avg, …; see [Metric] for the
// Java names and units), counted once per batch or request. [WithHooks]
// registers [Hook] values that see each batch and request on the sender
// goroutine. Logs go to the [WithLogger] slog.Logger, quiet (Warn) by
// default, with broker, topic, partition and attempt as fields.
//
// # Testing
//
// Code that sends records can accept an [Interface], which *Producer
// implements; package producer/producertest provides a mock of it for unit
// tests, and [NewTyped] accepts either.
//
// # Concurrency
//
// A Producer is safe for concurrent use. Callbacks run off the sender
// goroutine on a few completion workers (at most max(4, GOMAXPROCS),
// started on demand), those of one partition in offset order: a slow
// callback never stalls the sender, and delays other partitions only when
// it holds up every worker. [Future.Get] returns after the record's
// callbacks and interceptors ran, as in Java. [Producer.Close] delivers
// what is buffered, then releases every goroutine; its wait for callbacks
// is bounded by its context, and called from a callback it closes without
// waiting (Java's zero timeout from the I/O thread). [Producer.Flush]
// called from a callback returns [ErrFlushInCallback] at once.
package producer
