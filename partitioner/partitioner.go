package partitioner

// Topic is what a partitioner knows of one topic at the time of a send. The
// producer builds it from its metadata; partitioners only read it and do not
// keep it after Partition returns, so the producer may reuse it.
type Topic struct {
	// Name is the topic's name; partitioners keep per-topic state under it.
	Name string
	// NumPartitions is the number of partitions of the topic, available or
	// not. Keyed records hash over all of them.
	NumPartitions int
	// Available lists the partitions, each in [0, NumPartitions), whose
	// leader is known and not excluded by partitioner.availability.timeout.ms.
	// Unkeyed records go only to these; when it is empty they go to any
	// partition, as in Java.
	Available []int32
}

// Partitioner chooses the partition of a record: a value in
// [0, topic.NumPartitions), or -1 if topic.NumPartitions is less than 1.
// Records with an explicit partition are handled by the producer before a
// Partitioner is asked. A nil key means the record has no key; an empty,
// non-nil key is a key (Java distinguishes null from empty the same way).
//
// Implementations must be safe for concurrent use by many sending goroutines
// and must not block.
type Partitioner interface {
	Partition(topic Topic, key, value []byte) int32
}

// AppendObserver is told about every record the producer appended to the
// accumulator, so that a sticky partitioner knows when to move on.
//
// OnAppend reports that a record of bytes encoded bytes was appended to
// partition. batchFull reports that the partition's queue holds no batch
// with room left after this append: the current batch is full or a new batch
// was started (Java's enableSwitch, RecordAccumulator.allBatchesFull).
//
// Implementations must be safe for concurrent use and must not block.
type AppendObserver interface {
	OnAppend(topic string, partition int32, bytes int, batchFull bool)
}

// LoadObserver is told the queue depths of a topic's partitions, so that an
// adaptive partitioner can favour partitions whose brokers keep up.
//
// UpdateLoad reports, for each partition in partitions, the number of
// batches queued for it in queueSizes (same index). partitions holds only
// available partitions (leader known, not excluded by the availability
// timeout); nil or empty slices mean "no load information". The observer
// does not keep the slices, so the caller may reuse them.
//
// Implementations must be safe for concurrent use and must not block.
type LoadObserver interface {
	UpdateLoad(topic string, partitions []int32, queueSizes []int)
}

// TopicBinder is a partitioner with per-topic state that can hand out a
// view bound to one topic. A producer binds each topic it sends to once and
// then calls the bound view on every record, so the partitioner finds the
// topic's state once per topic instead of by name twice per record
// (Partition and OnAppend). The bound view behaves exactly as the
// partitioner's own methods do for that topic.
//
// BindTopic may allocate; it is safe for concurrent use and does not block.
type TopicBinder interface {
	BindTopic(topic string) BoundTopic
}

// BoundTopic is a partitioner's view of one topic, from
// [TopicBinder.BindTopic]. Partition is [Partitioner.Partition] for that
// topic (topic.Name must be the bound name); OnAppend is
// [AppendObserver.OnAppend] for it (a no-op for partitioners that do not
// observe appends). Both are safe for concurrent use, do not block and do
// not allocate.
type BoundTopic interface {
	Partition(topic Topic, key, value []byte) int32
	OnAppend(partition int32, bytes int, batchFull bool)
}

// Func adapts an ordinary function to the [Partitioner] interface. The
// function must itself be safe for concurrent use and must not block.
type Func func(topic Topic, key, value []byte) int32

// Partition calls f(topic, key, value).
func (f Func) Partition(topic Topic, key, value []byte) int32 {
	return f(topic, key, value)
}
