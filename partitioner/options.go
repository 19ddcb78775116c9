package partitioner

import (
	"math/rand/v2"
	"sync"
)

// Option configures a [Default] partitioner. Options are applied in order by
// [NewDefault]; the last one for a setting wins.
type Option func(*config)

type config struct {
	ignoreKeys bool
	adaptive   bool
	// randN returns a uniform value in [0, n) for n > 0. It is called from
	// many goroutines at once, so it must be safe for concurrent use.
	randN func(n uint64) uint64
}

func defaultConfig() config {
	return config{
		adaptive: true,
		// The runtime's per-thread ChaCha8 source: lock-free and
		// allocation-free, like Java's ThreadLocalRandom.
		randN: rand.Uint64N,
	}
}

// IgnoreKeys makes a [Default] partitioner place keyed records like unkeyed
// ones (sticky), instead of hashing the key.
//
// Java property: partitioner.ignore.keys. Default: false.
func IgnoreKeys(ignore bool) Option {
	return func(c *config) { c.ignoreKeys = ignore }
}

// Adaptive makes a [Default] partitioner weight its choice of the next sticky
// partition by queue depth (KIP-794): a partition whose queue is shorter is
// more likely to be chosen. When false, or before any load is reported
// through [Default.UpdateLoad], the choice is uniform over available
// partitions.
//
// Java property: partitioner.adaptive.partitioning.enable. Default: true.
func Adaptive(adaptive bool) Option {
	return func(c *config) { c.adaptive = adaptive }
}

// withRandSource replaces the random source, so tests can fix the sequence of
// sticky choices. The source is guarded by a mutex because rand.Rand is not
// safe for concurrent use; that lock is taken only when a partition switches.
func withRandSource(src rand.Source) Option {
	var mu sync.Mutex
	r := rand.New(src)
	return func(c *config) {
		c.randN = func(n uint64) uint64 {
			mu.Lock()
			defer mu.Unlock()
			return r.Uint64N(n)
		}
	}
}
