package sender

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tributary-go/tributary/protocol"
)

// TestTxnRetriesOutOfOrderBehindUnacked: OUT_OF_ORDER_SEQUENCE_NUMBER for
// a batch behind an earlier unacknowledged batch of its partition (which
// a 4.x broker refused with a retriable error while it verified the
// implicit add) is retried in order, with the same epoch; for the first
// unacknowledged batch, or another error, the transaction must abort.
func TestTxnRetriesOutOfOrderBehindUnacked(t *testing.T) {
	m := newTestTxn(t)
	force(m, TxnStateInTransaction)
	first, second := batch("t", 0), batch("t", 0)
	m.Options(first)
	m.Options(second)
	second.MaybeWritten = true
	assert.True(t, m.CanRetry(second, protocol.ErrOutOfOrderSequenceNumber), "behind an unacknowledged batch")
	assert.False(t, second.MaybeWritten, "the broker refused it, so it was not written")
	assert.False(t, m.CanRetry(first, protocol.ErrOutOfOrderSequenceNumber), "the first unacknowledged batch")
	assert.False(t, m.CanRetry(second, protocol.ErrInvalidRecord), "another error")
	assert.False(t, m.CanRetry(batch("t", 0), protocol.ErrOutOfOrderSequenceNumber), "a batch never stamped")
	m.idem.mu.Lock()
	bump := m.idem.bumpNeeded
	m.idem.mu.Unlock()
	assert.False(t, bump, "no epoch bump mid-transaction")
}
