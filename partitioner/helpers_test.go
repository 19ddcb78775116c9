package partitioner

import (
	"math/rand/v2"
	"sync/atomic"
)

// withRandN replaces the random source with f.
func withRandN(f func(n uint64) uint64) Option {
	return func(c *config) { c.randN = f }
}

// cycling returns a random source that yields 0, 1, 2, … modulo n, so that
// consecutive sticky choices over a topic's available partitions differ and a
// switch is visible as a change of partition.
func cycling() Option {
	var c atomic.Uint64
	return withRandN(func(n uint64) uint64 { return (c.Add(1) - 1) % n })
}

// seeded returns a deterministic pseudo-random source.
func seeded(seed uint64) Option {
	return withRandSource(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

func allPartitions(n int) []int32 {
	ps := make([]int32, n)
	for i := range ps {
		ps[i] = int32(i)
	}
	return ps
}

// switchCounts sends switches unkeyed records of one byte to a Default with
// batch.size 1 and every batch full, so each record starts a new sticky run,
// and counts where the runs went.
func switchCounts(d *Default, topic Topic, switches int) map[int32]int {
	counts := make(map[int32]int)
	for range switches {
		p := d.Partition(topic, nil, nil)
		counts[p]++
		d.OnAppend(topic.Name, p, 1, true)
	}
	return counts
}
