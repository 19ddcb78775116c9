package accumulator

// Splitting answers MESSAGE_TOO_LARGE: the broker refused a batch bigger
// than its message.max.bytes, so the records are decoded and rebuilt into
// batches of at most batch.size bytes each, which go back to the front of the
// partition's queue, as the Java producer's RecordAccumulator.splitAndReenqueue
// and ProducerBatch.split do. A record larger than batch.size gets a batch of
// its own. When batch.size pieces would give back one batch (the broker's
// limit is below batch.size), the records are halved instead, so every split
// makes progress; a batch of one record that is still too large fails.
//
// The new batches start with no attempts counted (they are new batches in
// Java too) but keep the old batch's creation time, so delivery.timeout.ms
// still counts from the first Send.
//
// As in the Java producer, the pieces live in memory allocated outside the
// BufferPool while the big batch's pooled buffer is returned at once: the
// records exist only once either way. The pieces inherit the big batch's
// producer state: with idempotence the first takes its base sequence and
// each next one continues after it, so the partition's later sequences stay
// valid (the broker wrote nothing of the refused batch).

import (
	"errors"
	"fmt"

	"github.com/tributary-go/tributary/protocol"
)

// ErrSplitSingleRecord is returned by Split for a batch of one record.
var ErrSplitSingleRecord = errors.New("accumulator: a batch of one record cannot be split")

// Split breaks b, a closed batch the broker rejected as too large, into
// batches of at most batch.size bytes that take its place at the front of
// its partition's queue, and returns them in order. b's Result records
// where each record went (Handle.Result follows it) and completes when all
// of the new batches' Results have. b itself must not be
// completed or deallocated by the caller afterwards. Split is called by the
// sender goroutine.
func (a *Accumulator) Split(b *Batch) ([]*Batch, error) {
	if b.NumRecords() < 2 {
		return nil, ErrSplitSingleRecord
	}
	rb, _, err := protocol.ReadBatch(b.encoded)
	if err != nil {
		return nil, fmt.Errorf("accumulator: splitting %s-%d: %w", b.Topic, b.Partition, err)
	}
	if len(rb.Records) != b.NumRecords() {
		return nil, fmt.Errorf("accumulator: splitting %s-%d: batch holds %d records, expected %d", b.Topic, b.Partition, len(rb.Records), b.NumRecords())
	}
	bounds := splitBounds(rb.Records, a.cfg.BatchSize)
	seq := b.BaseSequence
	children := make([]*Batch, 0, len(bounds))
	for _, bd := range bounds {
		c, err := a.rebuild(b, rb, bd[0], bd[1], seq)
		if err != nil {
			return nil, err
		}
		if seq >= 0 {
			seq = protocol.AddSequence(seq, c.NumRecords())
		}
		children = append(children, c)
	}

	// Commit: nothing above changed b. Record where each record went (the
	// Handles read it once b's Result is final), link results.
	moves := make([]move, 0, b.NumRecords())
	for _, c := range children {
		for i := range c.NumRecords() {
			moves = append(moves, move{res: c.Result, index: int32(i)})
		}
	}
	b.Result.moves = moves
	b.Result.children.Store(int32(len(children)))
	b.splitOpen.Store(int32(len(children)))
	for _, c := range children {
		a.track(c)
	}
	b.thunks, b.records = nil, 0
	if b.buf != nil {
		a.pool.Deallocate(b.buf)
		b.buf = nil
	}
	b.encoded = nil

	dq := a.deque(b.Topic, b.Partition)
	a.smu.Lock()
	defer a.smu.Unlock()
	dq.mu.Lock()
	i := 0
	if b.HasSequence() {
		for i < len(dq.batches) && dq.batches[i].HasSequence() && dq.batches[i].BaseSequence < b.BaseSequence {
			i++
		}
	}
	dq.batches = append(dq.batches, children...)
	copy(dq.batches[i+len(children):], dq.batches[i:len(dq.batches)-len(children)])
	copy(dq.batches[i:], children)
	a.fileLocked(dq, unknownNow)
	dq.mu.Unlock()
	a.signal()
	return children, nil
}

// splitBounds returns the record ranges [lo, hi) of the pieces: records in
// order, a piece closed once the next record would take it past batchSize
// bytes (header included), every piece holding at least one record. If that
// gives one piece, it returns two halves.
func splitBounds(recs []protocol.Record, batchSize int) [][2]int {
	var out [][2]int
	lo, size := 0, protocol.BatchHeaderSize
	for i, r := range recs {
		rs := protocol.EstimateRecordSize(r.Key, r.Value, r.Headers)
		if i > lo && size+rs > batchSize {
			out = append(out, [2]int{lo, i})
			lo, size = i, protocol.BatchHeaderSize
		}
		size += rs
	}
	out = append(out, [2]int{lo, len(recs)})
	if len(out) == 1 {
		mid := len(recs) / 2
		out = [][2]int{{0, mid}, {mid, len(recs)}}
	}
	return out
}

// rebuild makes one piece of a split: records [lo, hi) of rb, closed with
// b's producer state and base sequence seq.
func (a *Accumulator) rebuild(b *Batch, rb protocol.RecordBatch, lo, hi int, seq int32) (*Batch, error) {
	size := protocol.BatchHeaderSize
	for _, r := range rb.Records[lo:hi] {
		size += protocol.EstimateRecordSize(r.Key, r.Value, r.Headers)
	}
	c := &Batch{
		Topic: b.Topic, Partition: b.Partition, Result: newResult(b.Topic, b.Partition),
		created: b.created, maxSize: size, full: true,
		splitFrom:  b,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1,
	}
	c.refs.Store(1)
	c.Result.parent = b.Result
	c.builder.Reset(make([]byte, 0, size))
	for _, r := range rb.Records[lo:hi] {
		c.builder.Append(rb.BaseTimestamp+r.TimestampDelta, r.Key, r.Value, r.Headers)
	}
	c.records = int32(hi - lo)
	if lo < len(b.thunks) {
		c.thunks = append([]Thunk(nil), b.thunks[lo:min(hi, len(b.thunks))]...)
	}
	for _, th := range c.thunks {
		if th.Ack != nil {
			c.hasAcks = true
		}
	}
	opts := protocol.BatchOptions{ProducerID: b.ProducerID, ProducerEpoch: b.ProducerEpoch, BaseSequence: -1, Compressor: a.cfg.Compressor}
	if b.HasSequence() {
		opts.BaseSequence = seq
	}
	opts.Transactional = rb.Transactional()
	if err := c.Close(opts); err != nil {
		return nil, err
	}
	return c, nil
}
