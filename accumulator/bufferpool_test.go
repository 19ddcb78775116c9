package accumulator

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBufferPoolRecyclesPoolableBuffers(t *testing.T) {
	p := NewBufferPool(4096, 1024)
	b, err := p.Allocate(context.Background(), 1024, time.Second)
	require.NoError(t, err)
	assert.Equal(t, 1024, cap(b))
	assert.Equal(t, int64(3072), p.Available())
	b = append(b, 'x')
	p.Deallocate(b)
	assert.Equal(t, int64(4096), p.Available())
	b2, err := p.Allocate(context.Background(), 1024, time.Second)
	require.NoError(t, err)
	assert.Equal(t, 0, len(b2))
	assert.Equal(t, &b[:1][0], &b2[:1][0], "the free list hands back the same buffer")
}

func TestBufferPoolExactBound(t *testing.T) {
	p := NewBufferPool(10_000, 1000)
	var held [][]byte
	for _, size := range []int{1000, 3000, 1000, 5000} {
		b, err := p.Allocate(context.Background(), size, time.Second)
		require.NoError(t, err)
		held = append(held, b)
	}
	assert.Equal(t, int64(0), p.Available())
	_, err := p.Allocate(context.Background(), 1, 20*time.Millisecond)
	require.ErrorIs(t, err, ErrBufferExhausted)
	var be *BufferExhaustedError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, 1, be.Size)
	assert.Nil(t, errors.Unwrap(be), "max.block.ms, not a context, ended the wait")
	for _, b := range held {
		p.Deallocate(b)
	}
	assert.Equal(t, int64(10_000), p.Available())
}

func TestBufferPoolMaxBlockZeroDoesNotWait(t *testing.T) {
	p := NewBufferPool(100, 100)
	b, err := p.Allocate(context.Background(), 100, 0)
	require.NoError(t, err, "memory available: no wait needed")
	_, err = p.Allocate(context.Background(), 1, 0)
	require.ErrorIs(t, err, ErrBufferExhausted, "max.block.ms=0 fails at once when memory is short")
	assert.Equal(t, 0, p.Waiters())
	p.Deallocate(b)
}

func TestBufferPoolTooLarge(t *testing.T) {
	p := NewBufferPool(1000, 100)
	_, err := p.Allocate(context.Background(), 1001, time.Second)
	var tl *RecordTooLargeError
	require.ErrorAs(t, err, &tl)
	assert.Equal(t, "buffer.memory", tl.Setting)
	assert.ErrorIs(t, err, ErrRecordTooLarge)
}

// TestBufferPoolFIFO checks that waiters are served in arrival order: a
// large waiter at the head is not starved by later small requests that
// would fit sooner.
func TestBufferPoolFIFO(t *testing.T) {
	p := NewBufferPool(1000, 100)
	a, err := p.Allocate(context.Background(), 500, time.Second)
	require.NoError(t, err)
	b, err := p.Allocate(context.Background(), 500, time.Second)
	require.NoError(t, err)

	type got struct {
		id  int
		buf []byte
	}
	served := make(chan got, 3)
	start := func(id, size int) {
		go func() {
			buf, err := p.Allocate(context.Background(), size, 10*time.Second)
			assert.NoError(t, err)
			served <- got{id, buf}
		}()
		require.Eventually(t, func() bool { return p.Waiters() == id }, 5*time.Second, time.Millisecond)
	}
	start(1, 800) // large, first
	start(2, 100) // small: would fit after the first release if it could jump the queue
	start(3, 100)

	p.Deallocate(a) // 500 free: not enough for the head, so nobody is served
	select {
	case g := <-served:
		t.Fatalf("waiter %d was served ahead of waiter 1", g.id)
	case <-time.After(50 * time.Millisecond):
	}
	assert.Equal(t, 3, p.Waiters())
	p.Deallocate(b) // 1000 free: head takes 800, then 100 and 100
	var order []int
	for range 3 {
		g := <-served
		order = append(order, g.id)
		defer p.Deallocate(g.buf)
	}
	assert.ElementsMatch(t, []int{1, 2, 3}, order)
	assert.Equal(t, 0, p.Waiters())
	assert.Equal(t, int64(0), p.Available(), "exactly the memory there was")
}

func TestBufferPoolContextAndClose(t *testing.T) {
	p := NewBufferPool(100, 100)
	b, err := p.Allocate(context.Background(), 100, time.Second)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err = p.Allocate(ctx, 50, time.Hour)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, ErrBufferExhausted)

	errc := make(chan error, 1)
	go func() { _, err := p.Allocate(context.Background(), 50, time.Hour); errc <- err }()
	require.Eventually(t, func() bool { return p.Waiters() == 1 }, 5*time.Second, time.Millisecond)
	p.Close()
	require.ErrorIs(t, <-errc, ErrClosed)
	p.Deallocate(b)
	assert.Equal(t, int64(100), p.Available(), "memory returns after Close")
	_, err = p.Allocate(context.Background(), 1, time.Second)
	require.ErrorIs(t, err, ErrClosed)
}

// TestBufferPoolPartialGrantReturned checks a waiter that gives up passes
// on the memory it had been set aside.
func TestBufferPoolPartialGrantReturned(t *testing.T) {
	p := NewBufferPool(1000, 100)
	a, _ := p.Allocate(context.Background(), 500, time.Second)
	b, _ := p.Allocate(context.Background(), 500, time.Second)
	errc := make(chan error, 1)
	go func() { _, err := p.Allocate(context.Background(), 1000, 200*time.Millisecond); errc <- err }()
	require.Eventually(t, func() bool { return p.Waiters() == 1 }, 5*time.Second, time.Millisecond)
	p.Deallocate(a) // 500 set aside for the waiter, not enough
	require.ErrorIs(t, <-errc, ErrBufferExhausted)
	assert.Equal(t, int64(500), p.Available(), "the partial grant came back")
	p.Deallocate(b)
	assert.Equal(t, int64(1000), p.Available())
}

// TestBufferPoolConcurrentBound hammers the pool and checks the bound holds
// at every moment.
func TestBufferPoolConcurrentBound(t *testing.T) {
	const total = 8 << 10
	p := NewBufferPool(total, 512)
	var mu sync.Mutex
	inUse := 0
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				size := 512
				if (g+i)%5 == 0 {
					size = 1500
				}
				b, err := p.Allocate(context.Background(), size, 5*time.Second)
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				inUse += cap(b)
				assert.LessOrEqual(t, inUse, total)
				mu.Unlock()
				mu.Lock()
				inUse -= cap(b)
				mu.Unlock()
				p.Deallocate(b)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(total), p.Available())
}

// madeCount returns how many buffers the pool has made rather than recycled.
func (p *BufferPool) madeCount() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.made
}

// TestBufferPoolHandsReturnedBufferToWaiter checks that under pressure a
// returned buffer goes to the waiting Allocate as it is: no new slice is
// made and zeroed for the waiter (Java BufferPool.deallocate puts the
// buffer on its free list before signalling).
func TestBufferPoolHandsReturnedBufferToWaiter(t *testing.T) {
	const size = 64 << 10
	p := NewBufferPool(2*size, size)
	a, err := p.Allocate(context.Background(), size, time.Second)
	require.NoError(t, err)
	b, err := p.Allocate(context.Background(), size, time.Second)
	require.NoError(t, err)
	require.Equal(t, int64(2), p.madeCount())

	for range 50 {
		got := make(chan []byte, 1)
		go func() {
			buf, err := p.Allocate(context.Background(), size, 10*time.Second)
			assert.NoError(t, err)
			got <- buf
		}()
		require.Eventually(t, func() bool { return p.Waiters() == 1 }, 5*time.Second, time.Millisecond)
		a = append(a, 'x')
		p.Deallocate(a)
		c := <-got
		assert.Equal(t, &a[:1][0], &c[:1][0], "the waiter got the returned buffer")
		assert.Equal(t, 0, len(c))
		assert.Equal(t, int64(0), p.Available())
		a, b = b, c
	}
	assert.Equal(t, int64(2), p.madeCount(), "no buffer made while one was returned")
	p.Deallocate(a)
	p.Deallocate(b)
	assert.Equal(t, int64(2*size), p.Available())
}

// TestBufferPoolWaiterOfAnotherClass checks that a waiter whose class has
// no free buffer is served from the bytes of other classes' free buffers,
// first come first served, and that the account stays exact.
func TestBufferPoolWaiterOfAnotherClass(t *testing.T) {
	const size = 16 << 10
	p := NewBufferPool(size, size)
	var small [][]byte
	for range 4 {
		b, err := p.Allocate(context.Background(), 3000, time.Second)
		require.NoError(t, err)
		require.Equal(t, 4<<10, cap(b))
		small = append(small, b)
	}
	got := make(chan []byte, 1)
	go func() {
		buf, err := p.Allocate(context.Background(), size, 10*time.Second)
		assert.NoError(t, err)
		got <- buf
	}()
	require.Eventually(t, func() bool { return p.Waiters() == 1 }, 5*time.Second, time.Millisecond)
	_, ok := p.TryAllocate(1)
	assert.False(t, ok, "TryAllocate does not overtake a waiter")
	for i, b := range small {
		p.Deallocate(b)
		if i < 3 {
			assert.Equal(t, 1, p.Waiters(), "not enough yet")
		}
	}
	b := <-got
	assert.Equal(t, size, cap(b))
	assert.Equal(t, int64(0), p.Available())
	p.Deallocate(b)
	assert.Equal(t, int64(size), p.Available())
}

func TestBufferPoolSizeClasses(t *testing.T) {
	const batch = 64 << 10
	p := NewBufferPool(1<<20, batch)
	assert.Equal(t, []int{1 << 10, 2 << 10, 4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10}, p.classes)
	held := int64(0)
	for _, c := range []struct{ ask, cap int }{
		{1, 1 << 10}, {1025, 2 << 10}, {4 << 10, 4 << 10}, {4<<10 + 1, 8 << 10}, {20_000, 32 << 10},
		{batch, batch}, {batch + 1, batch + 1}, {100_000, 100_000},
	} {
		b, err := p.Allocate(context.Background(), c.ask, time.Second)
		require.NoError(t, err)
		assert.Equal(t, c.cap, cap(b), "Allocate(%d)", c.ask)
		held += int64(cap(b))
		assert.Equal(t, int64(1<<20)-held, p.Available(), "the pool counts capacity")
		p.Deallocate(b)
		held -= int64(cap(b))
		assert.Equal(t, int64(1<<20), p.Available())
	}
	assert.Equal(t, []int{100}, NewBufferPool(1000, 100).classes, "batch.size below 1 KiB is the only class")
	assert.Equal(t, []int{1 << 10, 2 << 10, 4 << 10, 8 << 10, 10_000}, NewBufferPool(1<<20, 10_000).classes)
}

func TestBufferPoolTryAllocate(t *testing.T) {
	p := NewBufferPool(12<<10, 8<<10)
	a, ok := p.TryAllocate(5000)
	require.True(t, ok)
	assert.Equal(t, 8<<10, cap(a))
	b, ok := p.TryAllocate(3000)
	require.True(t, ok)
	assert.Equal(t, 4<<10, cap(b))
	_, ok = p.TryAllocate(1)
	assert.False(t, ok, "no memory left")
	_, ok = p.TryAllocate(13 << 10)
	assert.False(t, ok, "larger than buffer.memory")
	p.Deallocate(a)
	p.Deallocate(b)
	assert.Equal(t, int64(12<<10), p.Available())
	p.Close()
	_, ok = p.TryAllocate(1)
	assert.False(t, ok, "closed")
}

// TestBufferPoolSteadyStateAllocs pins the free lists: allocating and
// returning buffers of every class allocates nothing once each was made.
func TestBufferPoolSteadyStateAllocs(t *testing.T) {
	p := NewBufferPool(1<<20, 64<<10)
	sizes := []int{100, 5000, 10_000, 20_000, 64 << 10}
	run := func() {
		for _, s := range sizes {
			b, err := p.Allocate(context.Background(), s, time.Second)
			if err != nil {
				panic(err)
			}
			c, ok := p.TryAllocate(min(2*s, 64<<10))
			p.Deallocate(b)
			if ok {
				p.Deallocate(c)
			}
		}
	}
	run()
	made := p.madeCount()
	assert.Zero(t, testing.AllocsPerRun(100, run))
	assert.Equal(t, made, p.madeCount())
}
