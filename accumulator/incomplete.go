package accumulator

// Incomplete batches: what Flush (and a transaction's commit) waits for.
//
// Java's RecordAccumulator keeps every incomplete batch in a set under a
// lock (IncompleteBatches) and Flush copies it. A linked list under one
// mutex did the same here, and with keyed records over thousands of
// partitions — one or two records per batch — linking and unlinking each
// batch cost a lock round trip and cache misses on its neighbours, a
// twentieth of the producer's CPU. Flush does not need the batches, only to
// know when those that existed when it began are gone, so batches are
// counted instead, in two generations:
//
//   - gen is the current generation; its parity (gen&1) picks the counter
//     a new batch is counted in (Batch.counted records which), and Deallocate
//     counts it out of the same one.
//   - A waiter (AwaitIncomplete) first waits until the other parity's
//     counter is zero (batches of the generation before the current one,
//     left by an earlier waiter that gave up), then moves gen on, so new
//     batches count in the other counter, and waits until the counter of
//     the generation it closed is zero. Every batch that existed when it
//     began is then gone. Waiters take turns (turn), so at most two
//     generations are ever open.
//   - A batch counted while gen moves on may land in the closed
//     generation's counter after the waiter saw it at zero: its record's
//     Send had not returned when the wait began, so it need not be waited
//     for; a later waiter waits for it before it moves gen on.
//
// Counting is an atomic add on one of two counters; only a counter
// reaching zero takes zmu, to wake a waiter.
import (
	"context"
	"sync"
	"sync/atomic"
)

// incomplete counts the batches not yet deallocated; see the top of the
// file. Safe for concurrent use.
type incomplete struct {
	gen  atomic.Uint64
	live [2]atomic.Int64
	turn chan struct{} // holds a token while a waiter moves gen and waits; made by init

	zmu   sync.Mutex
	zwait [2]chan struct{} // closed when live[i] reaches zero; guarded by zmu
}

func (c *incomplete) init() { c.turn = make(chan struct{}, 1) }

// add counts a new batch and returns the counter it is in.
func (c *incomplete) add() int8 {
	g := int8(c.gen.Load() & 1)
	c.live[g].Add(1)
	return g
}

// done counts out a batch counted in g.
func (c *incomplete) done(g int8) {
	if c.live[g].Add(-1) != 0 {
		return
	}
	c.zmu.Lock()
	if ch := c.zwait[g]; ch != nil {
		close(ch)
		c.zwait[g] = nil
	}
	c.zmu.Unlock()
}

// any reports whether some batch is counted.
func (c *incomplete) any() bool { return c.live[0].Load()+c.live[1].Load() > 0 }

// await returns once every batch counted before it was called is counted
// out, or with ctx's error when ctx ends first.
func (c *incomplete) await(ctx context.Context) error {
	if !c.any() {
		return nil
	}
	select {
	case c.turn <- struct{}{}:
	default:
		select {
		case c.turn <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer func() { <-c.turn }()
	cur := c.gen.Load()
	if err := c.zero(ctx, int8((cur+1)&1)); err != nil {
		return err
	}
	c.gen.Store(cur + 1)
	return c.zero(ctx, int8(cur&1))
}

// zero waits until live[g] is zero, or ctx ends.
func (c *incomplete) zero(ctx context.Context, g int8) error {
	for {
		c.zmu.Lock()
		if c.live[g].Load() == 0 {
			c.zmu.Unlock()
			return nil
		}
		ch := c.zwait[g]
		if ch == nil {
			ch = make(chan struct{})
			c.zwait[g] = ch
		}
		c.zmu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// track counts b as incomplete. Called before b is published.
func (a *Accumulator) track(b *Batch) { b.counted = a.inc.add() + 1 }

// untrack counts b out, once. b.counted (0: not counted, else the counter
// plus one) is owned by whoever holds b: the appender before publishing
// it, the completion path after.
func (a *Accumulator) untrack(b *Batch) {
	if b.counted == 0 {
		return
	}
	g := b.counted - 1
	b.counted = 0
	a.inc.done(g)
}

// AwaitIncomplete returns once every batch that was queued, in flight or
// awaiting its callbacks when it was called has been deallocated (its
// records completed and their callbacks ran), or with ctx's error. Flush
// and a transaction's commit wait with it. Safe for concurrent use.
func (a *Accumulator) AwaitIncomplete(ctx context.Context) error { return a.inc.await(ctx) }

// HasIncomplete reports whether any batch is queued, in flight or awaiting
// its callbacks.
func (a *Accumulator) HasIncomplete() bool { return a.inc.any() }
