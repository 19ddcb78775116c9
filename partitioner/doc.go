// Package partitioner chooses the partition of each record a producer sends,
// placing keys exactly where the Java client places them.
//
// # Place in the data flow
//
// A record travels producer → partitioner → accumulator → sender → protocol.
// For a record without an explicit partition, the producer calls
// [Partitioner.Partition] with a [Topic] built from its metadata, appends the
// record to the accumulator, then reports the append through
// [AppendObserver.OnAppend]. The accumulator, when it checks which batches
// are ready, reports queue depths through [LoadObserver.UpdateLoad]. A
// partitioner with per-topic state may also implement [TopicBinder]: the
// producer then binds each topic once and calls the [BoundTopic] on every
// record, so the topic's state is not looked up by name per record. The
// package imports nothing else of this module: callers pass plain data.
//
// # Partitioners
//
// [Default] is Java's built-in partitioner (KIP-480, KIP-794). A keyed record
// goes to [KeyPartition]: Kafka's [Murmur2] hash of the key, sign bit cleared,
// modulo the partition count, so keys land where Java, librdkafka's
// murmur2_random and franz-go put them (not where sarama's or kafka-go's FNV-1a
// defaults do). Unkeyed records stick to one partition until about batch.size
// bytes went to it, then switch to another, chosen at random among partitions
// with a leader and weighted toward those with shorter queues. Options mirror
// the Java properties: [IgnoreKeys] (partitioner.ignore.keys) and [Adaptive]
// (partitioner.adaptive.partitioning.enable).
//
// [NewUniformSticky] is sticky for every record, keyed or not.
// [NewRoundRobin] is Java's RoundRobinPartitioner. [Func] turns a function into
// a [Partitioner].
//
// # Concurrency
//
// Every partitioner here is safe for concurrent use by many sending
// goroutines, and no method blocks. State is kept per topic in atomics; the
// hot path takes no lock and, once a topic has been seen, allocates nothing.
// A sticky partitioner switches only when told of appends, so a producer must
// call OnAppend for every append when its partitioner implements
// [AppendObserver].
//
// # Example
//
//	p := partitioner.NewDefault(16384) // batch.size
//	t := partitioner.Topic{Name: "events", NumPartitions: 6, Available: []int32{0, 1, 2, 3, 4, 5}}
//
//	part := p.Partition(t, key, value) // key == nil: sticky
//	// ... append the record to partition part of the accumulator, then:
//	p.OnAppend(t.Name, part, encodedSize, batchFull)
package partitioner
