package partitioner

import "sync/atomic"

// roundRobin is Java's RoundRobinPartitioner: one counter per topic, taken
// modulo the available partitions, or all partitions when none is available.
type roundRobin struct {
	// Each counter is advanced by every Partition call for its topic.
	counters topics[atomic.Int32]
}

// NewRoundRobin returns a partitioner that gives each record of a topic the
// next partition in turn, ignoring keys, like Java's RoundRobinPartitioner.
// It cycles over the available partitions, or over all partitions when none
// is available. Its Partition is safe for concurrent use, does not block and,
// once a topic has been seen, does not allocate.
//
// Round robin makes small batches (each record goes to a different partition);
// prefer [NewDefault] unless an even record count per partition matters more
// than throughput.
func NewRoundRobin() Partitioner {
	return &roundRobin{}
}

func (rr *roundRobin) Partition(topic Topic, _, _ []byte) int32 {
	return roundRobinNext(rr.counters.loadOrCreate(topic.Name), &topic)
}

// BindTopic returns the round robin of one topic, its counter looked up once.
func (rr *roundRobin) BindTopic(topic string) BoundTopic {
	return roundRobinTopic{rr.counters.loadOrCreate(topic)}
}

// roundRobinTopic is a round robin bound to one topic's counter.
type roundRobinTopic struct{ counter *atomic.Int32 }

func (b roundRobinTopic) Partition(topic Topic, _, _ []byte) int32 {
	return roundRobinNext(b.counter, &topic)
}

// OnAppend does nothing: round robin does not depend on appends.
func (roundRobinTopic) OnAppend(int32, int, bool) {}

func roundRobinNext(counter *atomic.Int32, topic *Topic) int32 {
	if topic.NumPartitions < 1 {
		return -1
	}
	// Java uses getAndIncrement on an int that wraps, then clears the sign
	// bit (Utils.toPositive); int32 wraps the same way, so the sequence
	// continues as Java's does past 2^31 records.
	n := int(counter.Add(1)-1) & 0x7fffffff
	if avail := topic.Available; len(avail) > 0 {
		return avail[n%len(avail)]
	}
	return int32(n % topic.NumPartitions)
}
