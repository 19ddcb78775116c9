package accumulator

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testWait is how long a test waits for a condition that should hold
// almost at once: generous, so a loaded machine does not fail it.
const testWait, testTick = 30 * time.Second, time.Millisecond

func newIncomplete() *incomplete {
	c := &incomplete{}
	c.init()
	return c
}

// awaitAsync runs await in a goroutine and returns where its result lands.
func awaitAsync(c *incomplete, ctx context.Context) <-chan error {
	out := make(chan error, 1)
	go func() { out <- c.await(ctx) }()
	return out
}

// waitGen waits until a waiter moved the generation past g.
func waitGen(t *testing.T, c *incomplete, g uint64) {
	t.Helper()
	require.Eventually(t, func() bool { return c.gen.Load() > g }, testWait, testTick)
}

func TestIncompleteNothingToWaitFor(t *testing.T) {
	c := newIncomplete()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.NoError(t, c.await(ctx), "nothing is incomplete: no wait, whatever ctx says")
	assert.False(t, c.any())
}

// A batch counted before the wait holds it: the waiter gives up only by
// its context, and returns nil once the batch is counted out.
func TestIncompleteWaitsForEarlierBatches(t *testing.T) {
	c := newIncomplete()
	g := c.add()
	ctx, cancel := context.WithCancel(context.Background())
	res := awaitAsync(c, ctx)
	cancel()
	assert.ErrorIs(t, <-res, context.Canceled, "returned while a batch counted before it was incomplete")

	res = awaitAsync(c, context.Background())
	c.done(g)
	assert.NoError(t, <-res)
	assert.False(t, c.any())
}

// Batches counted after the wait began do not hold it.
func TestIncompleteIgnoresLaterBatches(t *testing.T) {
	c := newIncomplete()
	early := c.add()
	g0 := c.gen.Load()
	res := awaitAsync(c, context.Background())
	waitGen(t, c, g0)
	late := c.add()
	assert.NotEqual(t, early, late, "a batch counted after the wait began shares the waited-for counter")
	c.done(early)
	assert.NoError(t, <-res)
	assert.True(t, c.any())
	c.done(late)
	assert.False(t, c.any())
}

// A waiter that gave up leaves its generation open; the next waiter waits
// for that generation too before it closes its own.
func TestIncompleteNextWaiterCoversAbandonedGeneration(t *testing.T) {
	c := newIncomplete()
	a := c.add()
	g0 := c.gen.Load()
	ctx, cancel := context.WithCancel(context.Background())
	res := awaitAsync(c, ctx)
	waitGen(t, c, g0)
	cancel()
	require.ErrorIs(t, <-res, context.Canceled)

	b := c.add() // the generation after the abandoned one
	ctx2, cancel2 := context.WithCancel(context.Background())
	res2 := awaitAsync(c, ctx2)
	c.done(b)
	cancel2()
	assert.ErrorIs(t, <-res2, context.Canceled, "returned while a batch of the abandoned generation was incomplete")

	res3 := awaitAsync(c, context.Background())
	c.done(a)
	assert.NoError(t, <-res3)
	assert.False(t, c.any())
}

// Many goroutines count batches in and out while others wait: every wait
// that returns nil finds every batch counted before it began counted out.
func TestIncompleteConcurrent(t *testing.T) {
	c := newIncomplete()
	const producers, perProducer, waiters = 8, 2000, 4
	type item struct {
		g    int8
		done atomic.Bool
	}
	var mu sync.Mutex
	var all []*item
	var wg sync.WaitGroup
	for range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []*item
			for i := range perProducer {
				it := &item{g: c.add()}
				mu.Lock()
				all = append(all, it)
				mu.Unlock()
				mine = append(mine, it)
				if i%3 == 2 { // complete out of order, in small groups
					for _, x := range mine {
						x.done.Store(true)
						c.done(x.g)
					}
					mine = mine[:0]
				}
			}
			for _, x := range mine {
				x.done.Store(true)
				c.done(x.g)
			}
		}()
	}
	var failures atomic.Int32
	var ww sync.WaitGroup
	for range waiters {
		ww.Add(1)
		go func() {
			defer ww.Done()
			for range 50 {
				mu.Lock()
				before := append([]*item(nil), all...)
				mu.Unlock()
				if err := c.await(context.Background()); err != nil {
					failures.Add(1)
					return
				}
				for _, it := range before {
					if !it.done.Load() {
						failures.Add(1)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	ww.Wait()
	assert.Zero(t, failures.Load(), "a wait returned before a batch counted before it was counted out")
	assert.False(t, c.any())
}
