package accumulator

// The buffer pool is the producer's memory bound (buffer.memory).
//
// Every byte a batch holds comes from here, so the total of all open,
// queued and in-flight batches never exceeds the pool's size. The pool
// counts the capacity of every buffer it hands out, not the bytes written
// into it.
//
// Buffers come in size classes: powers of two from 1 KiB up to batch.size
// (batch.size itself is the largest class), each with its own free list, so
// the hot path reuses memory without allocating. A request is rounded up to
// its class. Batches open with a small buffer and grow by doubling
// (TryAllocate, then Deallocate of the old one), so a thousand partitions
// with a record or two each hold a few MiB, not a thousand times batch.size
// as in the Java producer, whose BufferPool hands every batch batch.size
// (clients/src/main/java/org/apache/kafka/clients/producer/internals/BufferPool.java).
// A buffer larger than batch.size (for a record bigger than batch.size) is
// allocated on demand with its exact size and dropped when returned; its
// bytes go back to the pool's account. Free buffers of one class are
// dropped to the garbage collector only when another class needs their
// bytes.
//
// When memory runs out, Allocate waits. Waiters are served strictly first
// come, first served: a new request never jumps ahead of a queued one (nor
// does TryAllocate), and memory released by Deallocate is handed to the head
// waiter until its need is met (so a large request is not starved by a
// stream of small ones). A returned buffer of the head waiter's class is
// handed to it as it is, as Java's BufferPool.deallocate puts the buffer on
// its free list before signalling the waiter: under pressure, memory
// circulates without a new slice being made and zeroed. A waiter gives up
// when its context ends or max.block.ms passes; what it had been given so
// far goes back to the next waiter.

import (
	"context"
	"sync"
	"time"
)

// minClass is the smallest buffer class: the size a batch opens with.
const minClass = 1 << 10

// BufferPool hands out byte buffers within a fixed total, like the Java
// producer's BufferPool. It is safe for concurrent use. Allocate blocks when
// memory is exhausted; TryAllocate and Deallocate never block.
type BufferPool struct {
	total    int64 // buffer.memory; immutable
	poolable int   // batch.size, the largest class; immutable
	classes  []int // buffer classes, ascending, the last poolable; immutable

	mu        sync.Mutex
	free      [][][]byte // per class, recycled buffers of that capacity; guarded by mu
	freeBytes int64      // bytes on the free lists; guarded by mu
	available int64      // bytes not handed out and not on free; guarded by mu
	waiters   []*waiter  // FIFO; guarded by mu
	closed    bool       // guarded by mu
	waitNanos int64      // total time spent waiting; guarded by mu
	made      int64      // buffers made with make (not recycled); guarded by mu
	onWait    func()     // called when an Allocate starts waiting; guarded by mu
}

type waiter struct {
	need  int64         // the class size (or exact size above batch.size)
	got   int64         // bytes set aside for this waiter so far; guarded by BufferPool.mu
	buf   []byte        // a recycled buffer handed over whole, or nil; guarded by BufferPool.mu
	ready chan struct{} // closed when got == need
}

// NewBufferPool returns a pool of total bytes whose largest recycled
// buffers have poolable bytes (batch.size).
func NewBufferPool(total int64, poolable int) *BufferPool {
	poolable = max(poolable, 1)
	var classes []int
	for c := min(minClass, poolable); c < poolable; c *= 2 {
		classes = append(classes, c)
	}
	classes = append(classes, poolable)
	return &BufferPool{total: total, poolable: poolable, classes: classes,
		free: make([][][]byte, len(classes)), available: total}
}

// SetOnWait registers f, called (without the pool's lock held) each time an
// Allocate call starts waiting for memory. The accumulator uses it to wake
// the sender: a waiter makes every queued batch sendable at once (Java's
// "exhausted" rule), which a sender asleep until a long linger would
// otherwise notice only at that deadline. f must not block. Safe for
// concurrent use.
func (p *BufferPool) SetOnWait(f func()) {
	p.mu.Lock()
	p.onWait = f
	p.mu.Unlock()
}

// Total returns the pool's size (buffer.memory).
func (p *BufferPool) Total() int64 { return p.total }

// Available returns the bytes not currently handed out, free lists included.
func (p *BufferPool) Available() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.available + p.freeBytes
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

// class returns the index of the smallest class holding size bytes, or -1
// above batch.size.
func (p *BufferPool) class(size int) int {
	for i, c := range p.classes {
		if size <= c {
			return i
		}
	}
	return -1
}

// roundUp returns the capacity the pool hands out for a request of size:
// its class, or size itself above batch.size or when the class would not
// fit in buffer.memory.
func (p *BufferPool) roundUp(size int) int {
	if i := p.class(size); i >= 0 && int64(p.classes[i]) <= p.total {
		return p.classes[i]
	}
	return size
}

// Allocate returns a zero-length buffer with capacity at least size (size
// rounded up to its class). It blocks until memory is available, ctx ends,
// or maxBlock passes; with maxBlock <= 0 it does not wait at all (Java's
// max.block.ms=0). It returns a *BufferExhaustedError when it gave up
// waiting, ErrRecordTooLarge-wrapping *RecordTooLargeError when size can
// never fit, and ErrClosed after Close.
func (p *BufferPool) Allocate(ctx context.Context, size int, maxBlock time.Duration) ([]byte, error) {
	if int64(size) > p.total {
		return nil, &RecordTooLargeError{Size: size, Max: int(p.total), Setting: "buffer.memory"}
	}
	want := p.roundUp(size)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	if len(p.waiters) == 0 {
		if buf, ok := p.takeLocked(want); ok {
			p.mu.Unlock()
			return buf, nil
		}
	}
	if maxBlock <= 0 {
		p.mu.Unlock()
		return nil, &BufferExhaustedError{Size: size, Total: p.total, Cause: errMaxBlock}
	}
	w := &waiter{need: int64(want), ready: make(chan struct{})}
	p.waiters = append(p.waiters, w)
	p.serveLocked()
	onWait := p.onWait
	if w.got == w.need {
		onWait = nil // served at once
	}
	p.mu.Unlock()
	if onWait != nil {
		onWait()
	}

	start := time.Now()
	t := time.NewTimer(maxBlock)
	defer t.Stop()
	var cause error
	select {
	case <-w.ready:
	case <-ctx.Done():
		cause = ctx.Err()
	case <-t.C:
		cause = errMaxBlock
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	p.waitNanos += int64(time.Since(start))
	if w.got == w.need && isClosed(w.ready) {
		buf := w.buf
		w.buf = nil
		if p.closed {
			p.putLocked(buf, w.got)
			return nil, ErrClosed
		}
		if buf != nil {
			return buf[:0], nil
		}
		p.made++
		return make([]byte, 0, want), nil
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

// TryAllocate is Allocate without waiting: it returns a buffer of capacity
// at least size when the memory is free now and nobody is waiting for it
// (a waiter is never overtaken), and false otherwise. The accumulator grows
// a batch with it under the partition lock. It never blocks.
func (p *BufferPool) TryAllocate(size int) ([]byte, bool) {
	want := p.roundUp(size)
	if int64(want) > p.total {
		return nil, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.waiters) > 0 {
		return nil, false
	}
	return p.takeLocked(want)
}

// takeLocked returns a buffer of capacity size if the memory is free now:
// a recycled one of its class, or a new one, dropping free buffers of other
// classes to make room.
func (p *BufferPool) takeLocked(size int) ([]byte, bool) {
	if i := p.classIndexLocked(size); i >= 0 {
		if buf := p.popLocked(i); buf != nil {
			return buf, true
		}
	}
	if p.available+p.freeBytes < int64(size) {
		return nil, false
	}
	p.freeUpLocked(int64(size))
	p.available -= int64(size)
	p.made++
	return make([]byte, 0, size), true
}

// classIndexLocked returns the class whose size is exactly size, or -1.
func (p *BufferPool) classIndexLocked(size int) int {
	if i := p.class(size); i >= 0 && p.classes[i] == size {
		return i
	}
	return -1
}

// popLocked takes a buffer off class i's free list, or returns nil.
func (p *BufferPool) popLocked(i int) []byte {
	l := p.free[i]
	if len(l) == 0 {
		return nil
	}
	buf := l[len(l)-1]
	l[len(l)-1] = nil
	p.free[i] = l[:len(l)-1]
	p.freeBytes -= int64(cap(buf))
	return buf
}

// putLocked takes back size bytes that were handed out, with their buffer
// if any: onto its class's free list, or into the unpooled account.
func (p *BufferPool) putLocked(buf []byte, size int64) {
	if buf != nil && !p.closed {
		if i := p.classIndexLocked(cap(buf)); i >= 0 && int64(cap(buf)) == size {
			p.free[i] = append(p.free[i], buf[:0])
			p.freeBytes += size
			return
		}
	}
	p.available += size
}

// freeUpLocked drops free buffers, largest class first, until available >=
// size.
func (p *BufferPool) freeUpLocked(size int64) {
	for i := len(p.free) - 1; i >= 0 && p.available < size; i-- {
		for p.available < size && len(p.free[i]) > 0 {
			buf := p.popLocked(i)
			p.available += int64(cap(buf))
		}
	}
}

// serveLocked hands free memory to waiters in arrival order: a free buffer
// of the head waiter's class when there is one, else bytes.
func (p *BufferPool) serveLocked() {
	for len(p.waiters) > 0 {
		w := p.waiters[0]
		if i := p.classIndexLocked(int(w.need)); i >= 0 {
			if buf := p.popLocked(i); buf != nil {
				p.available += w.got // what was set aside is not needed now
				w.buf, w.got = buf, w.need
			}
		}
		if w.got < w.need {
			p.freeUpLocked(w.need - w.got)
			give := min(w.need-w.got, p.available)
			w.got += give
			p.available -= give
		}
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

// Deallocate returns buf's memory (its capacity) to the pool. A buffer of
// a class size goes on its free list, or straight to the head waiter when
// it needs that class. Deallocate never blocks; buf must not be used
// afterwards.
func (p *BufferPool) Deallocate(buf []byte) {
	size := cap(buf)
	if size == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.putLocked(buf, int64(size))
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
		p.available += w.got // a queued waiter never holds a buffer
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
