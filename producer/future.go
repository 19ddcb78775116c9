package producer

import (
	"context"
	"sync"
	"time"

	"github.com/tributary-go/tributary/accumulator"
)

// Future is the pending outcome of one Send. Its result is shared with the
// other records of the same batch (one completion per batch), so a Future
// costs one small allocation. A Future is safe for concurrent use; Get may
// be called any number of times.
type Future struct {
	h         accumulator.Handle
	topic     string
	partition int32
	ts        int64 // record timestamp, ms
	keySize   int32
	valueSize int32
	err       error           // set when Send failed before appending
	done      chan struct{}   // non-nil for futures not backed by a batch (failed at Send, or a Promise's)
	md        *RecordMetadata // a Promise's result; written before done closes
}

// closedChan is shared by every future that failed before appending.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func failedFuture(topic string, partition int32, err error) *Future {
	return &Future{topic: topic, partition: partition, err: err, done: closedChan, keySize: -1, valueSize: -1}
}

// Done returns a channel that is closed when the record's outcome is known.
// It does not block.
func (f *Future) Done() <-chan struct{} {
	if f.done != nil {
		return f.done
	}
	r, _ := f.h.Result()
	return r.Done()
}

// Get waits for the record's outcome and returns its metadata, or the
// error that failed it. It blocks until the outcome is known or ctx ends;
// ending ctx does not cancel the send (see Producer.Send).
func (f *Future) Get(ctx context.Context) (RecordMetadata, error) {
	if f.done != nil {
		select {
		case <-f.done:
		case <-ctx.Done():
			return RecordMetadata{}, ctx.Err()
		}
		if f.md != nil {
			return *f.md, f.err
		}
		return f.metadata(nil, 0), f.err
	}
	for {
		r, _ := f.h.Result()
		select {
		case <-r.Done():
		case <-ctx.Done():
			return RecordMetadata{}, ctx.Err()
		}
		// A split may have moved the record to another batch; its result
		// was published before this one closed.
		if r2, idx := f.h.Result(); r2 == r || r2.IsDone() {
			return f.metadata(r2, idx), recordErr(r2, idx)
		}
	}
}

// metadata builds the record's metadata from its batch result.
func (f *Future) metadata(r *accumulator.Result, idx int32) RecordMetadata {
	return recordMetadata(f.topic, f.partition, r, idx, f.ts, f.keySize, f.valueSize)
}

func recordMetadata(topic string, partition int32, r *accumulator.Result, idx int32, ts int64, keySize, valueSize int32) RecordMetadata {
	md := RecordMetadata{
		Topic: topic, Partition: partition, Offset: -1,
		Timestamp:         time.UnixMilli(ts),
		SerializedKeySize: int(keySize), SerializedValueSize: int(valueSize),
	}
	if r == nil {
		return md
	}
	if r.Err == nil && r.BaseOffset >= 0 {
		md.Offset = r.BaseOffset + int64(idx)
	}
	if r.LogAppendTime >= 0 {
		md.Timestamp = time.UnixMilli(r.LogAppendTime)
	}
	return md
}

// Promise completes a Future by hand. It exists for test doubles (see
// producer/producertest) and adapters that must hand out Futures for work
// done elsewhere. Complete must be called exactly once; it is safe to call
// from any goroutine.
type Promise struct {
	f    *Future
	once sync.Once
}

// NewPromise returns a pending Future and the Promise that completes it.
func NewPromise() (*Future, *Promise) {
	f := &Future{done: make(chan struct{}), partition: -1, keySize: -1, valueSize: -1}
	return f, &Promise{f: f}
}

// Complete resolves the Future with md and err. Calls after the first are
// ignored.
func (p *Promise) Complete(md RecordMetadata, err error) {
	p.once.Do(func() {
		p.f.md, p.f.err = &md, err
		close(p.f.done)
	})
}
