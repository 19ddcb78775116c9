package accumulator

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/protocol"
)

// TestBatchFullMeansLastBatchFull: the sticky partitioner may switch only
// when the partition's last batch is full (Java RecordAccumulator.append:
// allBatchesFull), not merely because the deque holds more than one batch.
func TestBatchFullMeansLastBatchFull(t *testing.T) {
	acc, _ := newTestAcc(1024, time.Hour)
	var res []AppendResult
	for {
		r := appendN(t, acc, "t", 0, 1, 100)[0]
		res = append(res, r)
		if r.NewBatch && len(res) > 1 {
			break // the first batch overflowed into a second
		}
	}
	require.Equal(t, 2, acc.Queued())
	last := res[len(res)-1]
	assert.False(t, last.BatchFull, "the new last batch holds one record: no switch yet, though two batches are queued")
	for i, r := range res[:len(res)-1] {
		assert.False(t, r.BatchFull, "append %d: the first batch was not full yet", i)
	}

	// Once the last batch cannot take the next record either, the record
	// opens a third batch and the second is full; the switch still waits
	// for the last one.
	for {
		r := appendN(t, acc, "t", 0, 1, 100)[0]
		assert.False(t, r.BatchFull)
		if r.NewBatch {
			break
		}
	}
	assert.Equal(t, 3, acc.Queued())
}

// seqGate is a DrainGate that numbers batches like the idempotent producer
// and remembers which batches it numbered.
type seqGate struct {
	next     int32
	numbered map[*Batch]bool
}

func (g *seqGate) Allow(*Batch, int32) bool { return true }
func (g *seqGate) Options(b *Batch) protocol.BatchOptions {
	if g.numbered == nil {
		g.numbered = map[*Batch]bool{}
	}
	g.numbered[b] = true
	seq := g.next
	g.next += int32(b.NumRecords())
	return protocol.BatchOptions{ProducerID: 1, ProducerEpoch: 0, BaseSequence: seq}
}

// TestDrainChecksSizeBeforeSequence: a batch that does not fit in the
// request's max.request.size stays queued open, without a sequence (Java
// drainBatchesForOneNode checks the size before closing the batch), and
// goes first in the next request.
func TestDrainChecksSizeBeforeSequence(t *testing.T) {
	acc, clk := newTestAcc(1024, 0)
	appendN(t, acc, "t", 0, 1, 700)
	appendN(t, acc, "t", 1, 1, 700)
	leaders := leaderMap{"t/0": 1, "t/1": 1}
	gate := &seqGate{}
	out, err := acc.Drain(leaders, []int32{1}, 1000, clk.Now(), gate)
	require.NoError(t, err)
	require.Len(t, out[1], 1, "only one batch fits in 1000 bytes")
	sent := out[1][0]
	require.Equal(t, 1, acc.Queued())
	left := acc.AbortAll()[0]
	assert.False(t, left.Closed(), "the batch left behind was closed")
	assert.False(t, left.HasSequence(), "the batch left behind holds a sequence")
	assert.False(t, gate.numbered[left], "the gate numbered a batch that was not sent")
	assert.True(t, sent.HasSequence())
	assert.Equal(t, int32(0), sent.BaseSequence)
}

// TestSplitIntoBatchSizePieces: a batch rejected as too large splits into
// pieces of at most batch.size bytes (Java ProducerBatch.split with
// splitBatchSize = batch.size), not halves, and the pieces start with no
// attempts counted while keeping the creation time and the sequences.
func TestSplitIntoBatchSizePieces(t *testing.T) {
	const batchSize = 1024
	// The batch was made when batch.size was larger (or the broker's
	// message.max.bytes was lowered since): 40 records of ~115 bytes.
	acc, clk := newTestAcc(8192, 0)
	var hs [40]Handle
	for i := range hs {
		_, err := acc.Append(context.Background(), "t", 0, 1, []byte("k"), make([]byte, 110), nil, Thunk{Handle: &hs[i]}, time.Second)
		require.NoError(t, err)
	}
	require.Equal(t, 1, acc.Queued())
	acc.cfg.BatchSize = batchSize

	out, err := acc.Drain(leaderMap{"t/0": 1}, []int32{1}, 1<<20, clk.Now(), &seqGate{})
	require.NoError(t, err)
	b := out[1][0]
	b.Attempts = 3
	n := b.NumRecords()
	pieces, err := acc.Split(b)
	require.NoError(t, err)
	require.Greater(t, len(pieces), 2, "pieces of batch.size, not two halves")
	total := 0
	seq := int32(0)
	for i, c := range pieces {
		assert.Equal(t, 0, c.Attempts, "piece %d starts with no attempts", i)
		assert.Equal(t, b.Created(), c.Created(), "piece %d keeps the creation time", i)
		assert.Equal(t, seq, c.BaseSequence, "piece %d continues the sequences", i)
		if c.NumRecords() > 1 {
			assert.LessOrEqual(t, c.SizeBytes(), batchSize, "piece %d of %d records", i, c.NumRecords())
		}
		seq += int32(c.NumRecords())
		total += c.NumRecords()
	}
	assert.Equal(t, n, total)
	assert.Equal(t, len(pieces), acc.Queued(), "the pieces are queued")
	for i := range hs {
		r, idx := hs[i].Result()
		require.NotNil(t, r)
		assert.GreaterOrEqual(t, idx, int32(0))
	}
}
