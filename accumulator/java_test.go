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
		r, err := acc.Append(context.Background(), "t", 0, 1, []byte("k"), make([]byte, 110), nil, Thunk{}, time.Second)
		require.NoError(t, err)
		hs[i] = r.Handle
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

// TestSplitMovesHandlesAndThunks: records without an Ack keep no thunk, so
// a batch mixing them with Ack-carrying records keeps zero thunks for the
// gaps; a split must carry each Ack to the record's new place, and once
// the pieces complete every record's Handle (written once, at Append)
// must lead to the piece and index that finally carried it.
func TestSplitMovesHandlesAndThunks(t *testing.T) {
	acc, clk := newTestAcc(8192, 0)
	var hs [40]Handle
	for i := range hs {
		var th Thunk
		if i%7 == 3 {
			th.Ack = i // opaque to the accumulator
		}
		r, err := acc.Append(context.Background(), "t", 0, 1, []byte("k"), make([]byte, 110), nil, th, time.Second)
		require.NoError(t, err)
		hs[i] = r.Handle
	}
	out, err := acc.Drain(leaderMap{"t/0": 1}, []int32{1}, 1<<20, clk.Now(), &seqGate{})
	require.NoError(t, err)
	b := out[1][0]
	require.Equal(t, 40, b.NumRecords())
	require.Len(t, b.Thunks(), 39, "thunks up to the last record with an Ack (38), none after it")
	acc.cfg.BatchSize = 1024
	orig := b.Result
	pieces, err := acc.Split(b)
	require.NoError(t, err)
	require.Greater(t, len(pieces), 2)

	first := 0 // index in the original batch of each piece's first record
	for _, c := range pieces {
		for j, th := range c.Thunks() {
			if i := first + j; i%7 == 3 {
				assert.Equal(t, i, th.Ack, "record %d keeps its Ack in piece index %d", i, j)
			} else {
				assert.Nil(t, th.Ack, "record %d has no Ack", i)
			}
		}
		assert.LessOrEqual(t, len(c.Thunks()), c.NumRecords())
		first += c.NumRecords()
	}
	require.Equal(t, 40, first)

	r, idx := hs[5].Result()
	assert.Same(t, orig, r, "before completion a Handle names the batch it was appended to")
	assert.Equal(t, int32(5), idx)
	for i, c := range pieces {
		c.Complete(int64(1000*i), -1, nil, nil)
		acc.Completed(c)
	}
	require.True(t, orig.IsDone(), "the split batch's result completes with its pieces")
	first = 0
	for i, c := range pieces {
		for j := range c.NumRecords() {
			r, idx := hs[first+j].Result()
			assert.Same(t, c.Result, r, "record %d is in piece %d", first+j, i)
			assert.Equal(t, int32(j), idx, "record %d's index in piece %d", first+j, i)
		}
		first += c.NumRecords()
	}
}
