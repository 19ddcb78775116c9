package accumulator

// The buffer pool is the producer's memory bound (buffer.memory).
//
// Every byte a batch holds comes from here, so the total of all open,
// queued and in-flight batches never exceeds the pool's size. Buffers of
// exactly batch.size bytes, the common case, are kept on a free list and
// reused, which is what lets the hot path append into memory without
// allocating. Larger buffers (for a record bigger than batch.size) are
// allocated on demand and dropped when returned; their bytes go back to the
// pool's account.
//
// When memory runs out, Allocate waits. Waiters are served strictly first
// come, first served: a new request never jumps ahead of a queued one, and
// memory released by Deallocate is handed to the head waiter until its need
// is met (so a large request is not starved by a stream of small ones). A
// waiter gives up when its context ends or max.block.ms passes; the memory
// it had been given so far goes back to the next waiter.

import (
	"context"
	"sync"
	"time"
)

// BufferPool hands out byte buffers within a fixed total, like the Java
// producer's BufferPool. It is safe for concurrent use. Allocate blocks when
// memory is exhausted; Deallocate never blocks.
type BufferPool struct {
	total    int64 // buffer.memory; immutable
	poolable int   // batch.size; buffers of this capacity are recycled

	mu        sync.Mutex
	free      [][]byte  // recycled buffers of cap poolable; guarded by mu
	available int64     // bytes not handed out and not on free; guarded by mu
	waiters   []*waiter // FIFO; guarded by mu
	closed    bool      // guarded by mu
	waitNanos int64     // total time spent waiting; guarded by mu
}

type waiter struct {
	need  int64
	got   int64         // bytes set aside for this waiter so far; guarded by BufferPool.mu
	ready chan struct{} // closed when got == need
}

// NewBufferPool returns a pool of total bytes that recycles buffers of
// poolable bytes.
func NewBufferPool(total int64, poolable int) *BufferPool {
	return &BufferPool{total: total, poolable: poolable, available: total}
}

// Total returns the pool's size (buffer.memory).
func (p *BufferPool) Total() int64 { return p.total }

// Available returns the bytes not currently handed out, free list included.
func (p *BufferPool) Available() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.available + int64(len(p.free))*int64(p.poolable)
}

// Waiters returns how many Allocate calls are waiting for memory. The
// accumulator treats a non-empty queue as "drain now": batches must go out
// to free memory.
func (p *BufferPool) Waiters() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.waiters)
}

// WaitTime returns the total time callers spent blocked in Allocate
// (Java's bufferpool-wait-time).
func (p *BufferPool) WaitTime() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Duration(p.waitNanos)
}

// Allocate returns a zero-length buffer with capacity size. It blocks until
// memory is available, ctx ends, or maxBlock passes; with maxBlock <= 0 it
// does not wait at all (Java's max.block.ms=0). It returns a *BufferExhaustedError when it gave
// up waiting, ErrRecordTooLarge-wrapping *RecordTooLargeError when size can
// never fit, and ErrClosed after Close.
func (p *BufferPool) Allocate(ctx context.Context, size int, maxBlock time.Duration) ([]byte, error) {
	if int64(size) > p.total {
		return nil, &RecordTooLargeError{Size: size, Max: int(p.total), Setting: "buffer.memory"}
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	if len(p.waiters) == 0 {
		if buf, ok := p.takeLocked(int64(size)); ok {
			p.mu.Unlock()
			return p.materialize(buf, size), nil
		}
	}
	if maxBlock <= 0 {
		p.mu.Unlock()
		return nil, &BufferExhaustedError{Size: size, Total: p.total, Cause: errMaxBlock}
	}
	w := &waiter{need: int64(size), ready: make(chan struct{})}
	p.waiters = append(p.waiters, w)
	p.serveLocked()
	p.mu.Unlock()

	start := time.Now()
	t := time.NewTimer(maxBlock)
	defer t.Stop()
	timeout := t.C
	var cause error
	select {
	case <-w.ready:
	case <-ctx.Done():
		cause = ctx.Err()
	case <-timeout:
		cause = errMaxBlock
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	p.waitNanos += int64(time.Since(start))
	if w.got == w.need && isClosed(w.ready) {
		if p.closed {
			p.available += w.got
			return nil, ErrClosed
		}
		return p.materialize(nil, size), nil
	}
	// Gave up (or closed): leave the queue and pass on what we were given.
	p.removeWaiterLocked(w)
	p.available += w.got
	p.serveLocked()
	if p.closed {
		return nil, ErrClosed
	}
	return nil, &BufferExhaustedError{Size: size, Total: p.total, Waited: time.Since(start), Cause: cause}
}

// takeLocked reserves size bytes if they are free now. It prefers a pooled
// buffer for poolable sizes and otherwise frees pooled buffers into the
// unpooled account as needed.
func (p *BufferPool) takeLocked(size int64) ([]byte, bool) {
	if size == int64(p.poolable) && len(p.free) > 0 {
		b := p.free[len(p.free)-1]
		p.free[len(p.free)-1] = nil
		p.free = p.free[:len(p.free)-1]
		return b, true
	}
	if p.available+int64(len(p.free))*int64(p.poolable) < size {
		return nil, false
	}
	p.freeUpLocked(size)
	p.available -= size
	return nil, true
}

// freeUpLocked releases pooled buffers to the GC until available >= size.
func (p *BufferPool) freeUpLocked(size int64) {
	for p.available < size && len(p.free) > 0 {
		p.free[len(p.free)-1] = nil
		p.free = p.free[:len(p.free)-1]
		p.available += int64(p.poolable)
	}
}

// materialize turns a reservation into a buffer: a recycled one, or a new
// one of exactly size bytes so that cap() always equals what was counted.
func (p *BufferPool) materialize(buf []byte, size int) []byte {
	if buf != nil {
		return buf[:0]
	}
	return make([]byte, 0, size)
}

// serveLocked hands free memory to waiters in arrival order.
func (p *BufferPool) serveLocked() {
	for len(p.waiters) > 0 {
		w := p.waiters[0]
		p.freeUpLocked(w.need - w.got)
		give := min(w.need-w.got, p.available)
		w.got += give
		p.available -= give
		if w.got < w.need {
			return
		}
		close(w.ready)
		p.waiters[0] = nil
		p.waiters = p.waiters[1:]
	}
}

func (p *BufferPool) removeWaiterLocked(w *waiter) {
	for i, x := range p.waiters {
		if x == w {
			copy(p.waiters[i:], p.waiters[i+1:])
			p.waiters[len(p.waiters)-1] = nil
			p.waiters = p.waiters[:len(p.waiters)-1]
			return
		}
	}
}

// Deallocate returns buf's memory (its capacity) to the pool. Buffers of
// exactly batch.size are recycled unless a waiter needs the bytes.
// Deallocate never blocks; buf must not be used afterwards.
func (p *BufferPool) Deallocate(buf []byte) {
	size := cap(buf)
	if size == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if size == p.poolable && len(p.waiters) == 0 && !p.closed {
		p.free = append(p.free, buf[:0])
		return
	}
	p.available += int64(size)
	p.serveLocked()
}

// Close wakes every waiter with ErrClosed; later Allocate calls fail.
// Deallocate keeps working so in-flight batches can return their memory.
func (p *BufferPool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for _, w := range p.waiters {
		p.available += w.got
		w.got = 0
		close(w.ready)
	}
	p.waiters = nil
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
