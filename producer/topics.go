package producer

// Per-topic handles, and why Send resolves a topic name only once.
//
// Every Send names its topic by string, and the pipeline behind it keeps
// per-topic state in several places: the metadata snapshot, the
// partitioner's sticky word, the accumulator's deques. Looked up by name in
// each, that is four string-keyed map lookups per record (hashing the name
// each time), a tenth of Send's CPU in the headline benchmark. So the
// producer keeps one topicHandle per topic name in a copy-on-write map
// (written once per topic, read lock-free by every Send), and the handle
// carries what the later steps need:
//
//   - the partitioner bound to the topic (partitioner.TopicBinder), so
//     Partition and OnAppend find the topic's state without a lookup;
//   - the topic's metadata as of a snapshot (topicView): while the
//     metadata's current snapshot is the one the view was taken from, the
//     view's *metadata.Topic is exactly what Metadata.Use would return, so
//     one pointer comparison replaces the snapshot's map lookup.
//
// Metadata.Use also marks the topic in use, so that the metadata does not
// drop it after metadata.max.idle.ms. A view is therefore trusted for at
// most topicMarkInterval: after that, the next Send goes through
// Metadata.Use again, which marks the topic and renews the view. A topic
// sent to without pause is marked at least once a second, which the idle
// sweep (minutes apart) cannot tell from marking on every send; a topic's
// last use before it goes idle may be recorded up to a second early, so it
// is dropped up to a second sooner than metadata.max.idle.ms after its last
// send, which costs at most a metadata fetch if it is used again.
//
// The handle also holds the accumulator's handle on the topic's queues
// (accumulator.Topic), so Append finds the partition's deque by index.

import (
	"sync/atomic"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/metadata"
	"github.com/tributary-go/tributary/partitioner"
)

// topicMarkInterval is how long, in milliseconds, Send trusts a topic's
// view before going through Metadata.Use (which marks the topic in use)
// again.
const topicMarkInterval = 1000

// topicHandle is the producer's state for one topic name, shared by every
// Send to it. Safe for concurrent use.
type topicHandle struct {
	name string
	// part is the partitioner bound to the topic, or nil when the
	// partitioner is not a partitioner.TopicBinder. Set at creation.
	part partitioner.BoundTopic
	// q is the accumulator's handle on the topic's queues. Set at creation.
	q accumulator.Topic
	// view is the topic's metadata as of a snapshot; written by any Send
	// that went through Metadata.Use, read by every Send.
	view atomic.Pointer[topicView]
}

// topicView is a topic's metadata in one snapshot, with the partitioner's
// view of it. Immutable once published.
type topicView struct {
	snap   *metadata.Snapshot
	topic  *metadata.Topic
	pt     partitioner.Topic
	marked int64 // coarse-clock ms at which Metadata.Use marked the topic
}

// handle returns the topic's handle, creating it the first time. Only
// called for a topic whose metadata arrived, so invalid or unknown names do
// not get one.
func (p *Producer) handle(name string) *topicHandle {
	if h := p.topics.Load(name); h != nil {
		return h
	}
	return p.topics.LoadOrCreate(name, func() *topicHandle {
		h := &topicHandle{name: name, q: p.acc.Topic(name)}
		if b, ok := p.part.(partitioner.TopicBinder); ok {
			h.part = b.BindTopic(name)
		}
		return h
	})
}

// current returns the topic's view if it is still the metadata's current
// one and was marked less than topicMarkInterval before now; else nil.
func (h *topicHandle) current(m *metadata.Metadata, now int64) *topicView {
	v := h.view.Load()
	if v == nil || v.snap != m.Snapshot() || now-v.marked >= topicMarkInterval || now < v.marked {
		return nil
	}
	return v
}

// remember publishes t as the topic's view, if t is the current snapshot's
// entry for the topic (a refresh may have published a newer one since t
// was read), and returns the view to use for this send.
func (h *topicHandle) remember(m *metadata.Metadata, t *metadata.Topic, now int64) *topicView {
	v := &topicView{topic: t, marked: now, pt: partitioner.Topic{Name: t.Name, NumPartitions: len(t.Partitions), Available: t.Available}}
	if s := m.Snapshot(); s.Topics[h.name] == t {
		v.snap = s
		h.view.Store(v)
	}
	return v
}

// partition asks the partitioner for the record's partition.
func (p *Producer) partition(h *topicHandle, v *topicView, key, value []byte) int32 {
	if h.part != nil {
		return h.part.Partition(v.pt, key, value)
	}
	return p.part.Partition(v.pt, key, value)
}

// onAppend tells the partitioner about an append to partition.
func (p *Producer) onAppend(h *topicHandle, partition int32, size int, batchFull bool) {
	if h.part != nil {
		h.part.OnAppend(partition, size, batchFull)
	} else if p.appendObs != nil {
		p.appendObs.OnAppend(h.name, partition, size, batchFull)
	}
}
