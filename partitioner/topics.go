package partitioner

import "sync"

// topics holds one *T of per-topic state for each topic name seen.
//
// A sync.Map suits the access pattern exactly: each key is written once and
// then read on every send by many goroutines. Its Load takes no lock and, with
// a string key that does not escape, does not allocate; a mutex-guarded map
// would make every send contend on one lock. Entries are never removed: a
// producer's topic set is small and long-lived, as in Java.
type topics[T any] struct {
	m sync.Map // string → *T
}

// load returns the state of topic, or nil if the topic was never seen.
func (ts *topics[T]) load(topic string) *T {
	if v, ok := ts.m.Load(topic); ok {
		return v.(*T)
	}
	return nil
}

// loadOrCreate returns the state of topic, creating it the first time. Only
// the first call for a topic allocates.
func (ts *topics[T]) loadOrCreate(topic string) *T {
	if v := ts.load(topic); v != nil {
		return v
	}
	v, _ := ts.m.LoadOrStore(topic, new(T))
	return v.(*T)
}
