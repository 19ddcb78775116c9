package partitioner

import "github.com/tributary-go/tributary/internal/cowmap"

// topics holds one *T of per-topic state for each topic name seen: written
// once per topic, then read on every send by many goroutines, so it is a
// copy-on-write map (a lock-free, interface-free lookup). Entries are never
// removed: a producer's topic set is small and long-lived, as in Java.
type topics[T any] struct {
	m cowmap.Map[T]
}

// load returns the state of topic, or nil if the topic was never seen.
func (ts *topics[T]) load(topic string) *T { return ts.m.Load(topic) }

// loadOrCreate returns the state of topic, creating it the first time. Only
// the first call for a topic allocates.
func (ts *topics[T]) loadOrCreate(topic string) *T {
	if v := ts.m.Load(topic); v != nil {
		return v
	}
	return ts.m.LoadOrCreate(topic, func() *T { return new(T) })
}
