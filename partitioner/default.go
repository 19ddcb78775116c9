package partitioner

import "math"

// Default is Java's built-in partitioner (KIP-480, KIP-794), used when no
// partitioner is configured:
//
//   - a keyed record goes to [KeyPartition] over all partitions;
//   - an unkeyed record (or any record, with [IgnoreKeys]) goes to the
//     topic's sticky partition, which changes after about batch.size bytes
//     (see [Default.OnAppend]) to one chosen at random among available
//     partitions, weighted toward short queues when [Adaptive] (see
//     [Default.UpdateLoad]).
//
// Default implements [Partitioner], [AppendObserver] and [LoadObserver]; the
// producer must call OnAppend after each append for sticky partitioning to
// switch at all. A Default is safe for concurrent use, and none of its methods
// block. State is kept per topic, created on first use and never removed.
type Default struct {
	cfg       config
	batchSize uint64 // bytes to a sticky partition before a switch may happen
	topics    topics[topicState]
}

// NewDefault returns the built-in partitioner for a producer whose batch.size
// is batchSize. Like Java, it treats a batchSize below 1 as 1 (batch.size=0
// disables batching, so every record may switch). It is safe for concurrent
// use.
func NewDefault(batchSize int, opts ...Option) *Default {
	d := &Default{
		cfg:       defaultConfig(),
		batchSize: uint64(min(max(batchSize, 1), math.MaxInt32)),
	}
	for _, o := range opts {
		o(&d.cfg)
	}
	return d
}

// NewUniformSticky returns a sticky partitioner that ignores keys and chooses
// each next partition uniformly, the successor of Java's deprecated
// UniformStickyPartitioner. It is NewDefault(batchSize, IgnoreKeys(true),
// Adaptive(false)); for load-aware choice with keys ignored, use
// NewDefault(batchSize, IgnoreKeys(true)). It is safe for concurrent use.
func NewUniformSticky(batchSize int) *Default {
	return NewDefault(batchSize, IgnoreKeys(true), Adaptive(false))
}

// Partition returns the partition for a record of topic: the key's hash for
// a keyed record unless keys are ignored, else the topic's sticky partition.
// It returns -1 if topic.NumPartitions is less than 1. Partition is safe for
// concurrent use, does not block and, once the topic has been seen, does not
// allocate.
func (d *Default) Partition(topic Topic, key, _ []byte) int32 {
	if topic.NumPartitions < 1 {
		return -1
	}
	if key != nil && !d.cfg.ignoreKeys {
		return KeyPartition(key, topic.NumPartitions)
	}
	return d.stickyPartition(d.topics.loadOrCreate(topic.Name), &topic)
}

// OnAppend counts bytes appended to partition of topic and switches the
// topic's sticky partition, as Java's BuiltInPartitioner.updatePartitionInfo
// does, once at least batch.size bytes went to it and batchFull is true, or
// once 2 × batch.size bytes went to it whatever batchFull says. Appends to a
// partition that is not the topic's sticky partition are ignored. OnAppend is
// safe for concurrent use, does not block and does not allocate.
func (d *Default) OnAppend(topic string, partition int32, bytes int, batchFull bool) {
	if ts := d.topics.load(topic); ts != nil {
		d.count(ts, partition, bytes, batchFull)
	}
}

// UpdateLoad records the queue depths of topic's available partitions for
// the next sticky choice (Java's updatePartitionLoadStats). Equal depths, or
// none, make the choice uniform over the available partitions. It does
// nothing when [Adaptive] is false. Extra entries in the longer slice are
// ignored. Until the topic's first sticky choice (while all its records
// are keyed) it does nothing: the first choice is uniform, later ones use
// the depths reported after it. UpdateLoad is safe for concurrent use and
// does not block; it allocates only when the weights change.
func (d *Default) UpdateLoad(topic string, partitions []int32, queueSizes []int) {
	if !d.cfg.adaptive {
		return
	}
	ts := d.topics.loadOrCreate(topic)
	if !ts.choosing.Load() {
		return // no sticky choice yet: nothing reads the table
	}
	cur := ts.load.Load()
	if ls := buildLoad(cur, partitions, queueSizes); ls != cur {
		ts.load.Store(ls)
	}
}

// BindTopic returns the partitioner's view of topic: its Partition and
// OnAppend are d.Partition and d.OnAppend for topic without looking the
// topic's state up by name. It creates the topic's state if needed. It is
// safe for concurrent use.
func (d *Default) BindTopic(topic string) BoundTopic {
	return &defaultTopic{d: d, ts: d.topics.loadOrCreate(topic)}
}

// defaultTopic is a [Default] bound to one topic's state.
type defaultTopic struct {
	d  *Default
	ts *topicState
}

func (b *defaultTopic) Partition(topic Topic, key, _ []byte) int32 {
	if topic.NumPartitions < 1 {
		return -1
	}
	if key != nil && !b.d.cfg.ignoreKeys {
		return KeyPartition(key, topic.NumPartitions)
	}
	return b.d.stickyPartition(b.ts, &topic)
}

func (b *defaultTopic) OnAppend(partition int32, bytes int, batchFull bool) {
	b.d.count(b.ts, partition, bytes, batchFull)
}
