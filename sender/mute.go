package sender

// With max.in.flight.requests.per.connection=1 the Java producer promises
// order even without idempotence (KafkaProducer: guaranteeMessageOrder =
// maxInflightRequests == 1): the Sender mutes a partition while one of its
// batches is in flight (RecordAccumulator.mutePartition) and unmutes it when
// the request completes (Sender.completeBatch → unmutePartition). A window
// of one request per connection alone is not enough: after a leader move a
// partition's next batch can go to the new leader while the previous one is
// still in flight to the old leader, and if that one then fails with
// NOT_LEADER_OR_FOLLOWER its retry lands after the later batch. muteGate
// closes that gap: at most one batch per partition is in flight, whichever
// broker it went to.

import (
	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/protocol"
)

// muteGate is the DrainGate used with max.in.flight=1. It wraps the
// idempotence gate, if any. Owned by the sender goroutine.
type muteGate struct {
	inner accumulator.DrainGate // the ProducerState, or nil
	muted map[topicPartition]struct{}
}

func newMuteGate(inner accumulator.DrainGate) *muteGate {
	return &muteGate{inner: inner, muted: map[topicPartition]struct{}{}}
}

// Allow implements accumulator.DrainGate: nothing of a muted partition goes.
func (g *muteGate) Allow(b *accumulator.Batch, node int32) bool {
	if _, ok := g.muted[topicPartition{Topic: b.Topic, Partition: b.Partition}]; ok {
		return false
	}
	return g.inner == nil || g.inner.Allow(b, node)
}

// Options implements accumulator.DrainGate.
func (g *muteGate) Options(b *accumulator.Batch) protocol.BatchOptions {
	if g.inner != nil {
		return g.inner.Options(b)
	}
	return protocol.BatchOptions{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
}

// mute marks the partitions of a request's batches as in flight.
func (g *muteGate) mute(batches []*accumulator.Batch) {
	for _, b := range batches {
		g.muted[topicPartition{Topic: b.Topic, Partition: b.Partition}] = struct{}{}
	}
}

// unmute releases the partitions of a finished request's batches.
func (g *muteGate) unmute(batches []*accumulator.Batch) {
	for _, b := range batches {
		delete(g.muted, topicPartition{Topic: b.Topic, Partition: b.Partition})
	}
}
