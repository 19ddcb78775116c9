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
