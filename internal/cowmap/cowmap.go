package cowmap

import (
	"sync"
	"sync/atomic"
)

// Map maps strings to *V. The zero value is empty and ready; it is safe for
// concurrent use and Load never blocks or allocates.
type Map[V any] struct {
	p  atomic.Pointer[map[string]*V]
	mu sync.Mutex // serializes writers
}

// Load returns the value for k, or nil.
func (m *Map[V]) Load(k string) *V {
	if mp := m.p.Load(); mp != nil {
		return (*mp)[k]
	}
	return nil
}

// LoadOrCreate returns the value for k, storing mk() first if there is
// none. mk runs at most once per key, under the writers' lock.
func (m *Map[V]) LoadOrCreate(k string, mk func() *V) *V {
	if v := m.Load(k); v != nil {
		return v
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.p.Load()
	if cur != nil {
		if v := (*cur)[k]; v != nil {
			return v
		}
	}
	next := make(map[string]*V, 1+lenOf(cur))
	if cur != nil {
		for kk, vv := range *cur {
			next[kk] = vv
		}
	}
	v := mk()
	next[k] = v
	m.p.Store(&next)
	return v
}

// Range calls fn for each entry until fn returns false, over a snapshot.
func (m *Map[V]) Range(fn func(k string, v *V) bool) {
	mp := m.p.Load()
	if mp == nil {
		return
	}
	for k, v := range *mp {
		if !fn(k, v) {
			return
		}
	}
}

func lenOf[V any](mp *map[string]*V) int {
	if mp == nil {
		return 0
	}
	return len(*mp)
}
