package sender

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/protocol"
)

// TestOutOfOrderFirstMaybeWrittenNotResent: OUT_OF_ORDER_SEQUENCE_NUMBER
// for a partition's first unacknowledged batch, after an attempt of it may
// have been written (REQUEST_TIMED_OUT after the append, a lost answer),
// does not prove it absent: a broker gives the same answer for a batch it
// wrote that has left its window of five. The batch keeps its mark, so the
// epoch bump fails it as uncertain instead of resending it (a duplicate).
// Behind an earlier unacknowledged batch the answer does prove it absent.
func TestOutOfOrderFirstMaybeWrittenNotResent(t *testing.T) {
	m := newTestTxn(t).idem
	m.setProducerID(7, 3)
	m.Ready(0)
	first, second := batch("t", 0), batch("t", 0)
	m.Options(first)
	m.Options(second)
	first.MaybeWritten, second.MaybeWritten = true, true

	assert.True(t, m.CanRetry(second, protocol.ErrOutOfOrderSequenceNumber))
	assert.False(t, second.MaybeWritten, "behind an unacknowledged batch: refused, so not written")
	assert.True(t, m.CanRetry(first, protocol.ErrOutOfOrderSequenceNumber))
	assert.True(t, first.MaybeWritten, "the first unacknowledged batch may still be in the log")

	m.setProducerID(7, 4) // the bump's new epoch
	m.Ready(0)
	assert.Equal(t, []*accumulator.Batch{first}, m.Uncertain(), "the maybe-written batch fails as uncertain, not resent")
}

// TestEpochSetBetweenReadyAndDrain: a TxnManager sets the epoch EndTxn v5
// returned (KIP-890) while the sender is between Ready and Drain, and a
// batch of the next transaction drains in that window. It must start the
// new epoch's sequences at 0, and the next Ready must leave it alone: it
// may be on the wire by then (before, it took the new epoch with the old
// epoch's next sequence, which the broker refuses with
// OUT_OF_ORDER_SEQUENCE_NUMBER, and Ready restamped it under the writer:
// TestTxnCommitAndAbortVisibility's data race).
func TestEpochSetBetweenReadyAndDrain(t *testing.T) {
	m := newTestTxn(t).idem
	m.setProducerID(7, 3)
	m.Ready(0)
	first := batch("t", 0)
	o := m.Options(first)
	assert.Equal(t, protocol.BatchOptions{ProducerID: 7, ProducerEpoch: 3, BaseSequence: 0}, o)
	m.Acked(first)

	m.Ready(0)            // the sender's pass begins under epoch 3
	m.setProducerID(7, 4) // EndTxn's answer arrives meanwhile
	next := batch("t", 0)
	o = m.Options(next)
	assert.Equal(t, protocol.BatchOptions{ProducerID: 7, ProducerEpoch: 4, BaseSequence: 0}, o, "the new epoch's sequences start at 0")
	assert.Equal(t, [2]int64{7, 4}, [2]int64{m.seenID, int64(m.seenEpoch)}, "numbered for the epoch it carries, so Ready does not renumber it")

	m.Ready(1) // the next pass, with next in flight
	assert.Equal(t, []*accumulator.Batch{next}, m.parts[topicPartition{Topic: "t", Partition: 0}].unacked)
	o = m.Options(batch("t", 0))
	assert.Equal(t, int32(next.NumRecords()), o.BaseSequence, "numbering goes on after the batch in flight")
}

// TestOneInFlightUntilFirstAck: until a batch of the current producer id is
// acknowledged on a partition, the broker may hold no state for the id
// there and would take any sequence, so a new batch waits while one is in
// flight. After the first ack batches pipeline; an epoch bump keeps that
// (the broker keeps the id's state and takes only sequence 0 under the new
// epoch); a new producer id starts over.
func TestOneInFlightUntilFirstAck(t *testing.T) {
	m := newTestTxn(t).idem
	m.setProducerID(7, 3)
	m.Ready(0)
	send := func() *accumulator.Batch {
		b := batch("t", 0)
		o := m.Options(b)
		b.ProducerID, b.ProducerEpoch, b.BaseSequence = o.ProducerID, o.ProducerEpoch, o.BaseSequence // as Close stamps it
		b.InFlight = true
		return b
	}
	first := send()
	assert.False(t, m.Allow(batch("t", 0), 0), "no ack under id 7 yet: one batch in flight")
	assert.True(t, m.Allow(batch("t", 1), 0), "another partition is not held back")
	m.Acked(first)
	second := send()
	assert.True(t, m.Allow(batch("t", 0), 0), "acknowledged once: pipelined")
	m.Acked(second)

	m.setProducerID(7, 4)
	m.Ready(0)
	third := send()
	assert.True(t, m.Allow(batch("t", 0), 0), "a new epoch of the same id: the broker knows the id")
	m.Acked(third)

	m.setProducerID(8, 0)
	m.Ready(0)
	assert.True(t, m.Allow(batch("t", 0), 0), "nothing in flight")
	send()
	assert.False(t, m.Allow(batch("t", 0), 0), "a new producer id: one batch in flight again")
}
