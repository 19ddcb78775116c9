package cowmap

import (
	"fmt"
	"sync"
	"testing"
)

func TestMap(t *testing.T) {
	var m Map[int]
	if m.Load("a") != nil {
		t.Fatal("empty map returned a value")
	}
	calls := 0
	mk := func() *int { calls++; v := calls; return &v }
	a := m.LoadOrCreate("a", mk)
	if got := m.LoadOrCreate("a", mk); got != a || calls != 1 {
		t.Fatalf("second LoadOrCreate made a new value (calls=%d)", calls)
	}
	m.LoadOrCreate("b", mk)
	seen := map[string]int{}
	m.Range(func(k string, v *int) bool { seen[k] = *v; return true })
	if len(seen) != 2 || seen["a"] != 1 || seen["b"] != 2 {
		t.Fatalf("Range saw %v", seen)
	}
}

func TestMapConcurrent(t *testing.T) {
	var m Map[int]
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				k := fmt.Sprint(i % 50)
				v := m.LoadOrCreate(k, func() *int { x := i; return &x })
				if m.Load(k) != v {
					t.Errorf("goroutine %d: Load and LoadOrCreate disagree for %s", g, k)
				}
			}
		}()
	}
	wg.Wait()
	n := 0
	m.Range(func(string, *int) bool { n++; return true })
	if n != 50 {
		t.Fatalf("%d keys, want 50", n)
	}
}

func TestLoadAllocs(t *testing.T) {
	var m Map[int]
	m.LoadOrCreate("topic", func() *int { return new(int) })
	k := "topic"
	if a := testing.AllocsPerRun(1000, func() { _ = m.Load(k) }); a != 0 {
		t.Fatalf("Load allocates %v", a)
	}
}
