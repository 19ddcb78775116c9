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
// Misuse fails at once: [ErrClosed], [ErrNoTopic], [*PartitionError], a
// record over max.request.size or buffer.memory
// (accumulator.RecordTooLargeError), an unknown topic after max.block.ms.
// Delivery failures resolve the future with the sender's typed errors,
// which wrap Kafka's (compare with errors.Is against protocol.Err*).
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
// A Producer is safe for concurrent use. Callbacks of one partition run in
// order on a goroutine of their own, so a slow callback never stalls the
// sender or other partitions. [Producer.Close] delivers what is buffered,
// then releases every goroutine.
package producer
