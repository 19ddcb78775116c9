package partitioner

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// Many goroutines partition, append and report load on shared topics at
// once, as a producer's Send callers and its accumulator do. Run with -race:
// it finds unsynchronised state; the assertions find wrong answers under
// contention (out of range, unavailable, or keys misplaced).
func TestConcurrentUse(t *testing.T) {
	const (
		goroutines = 8
		records    = 2000
	)
	topics := []Topic{
		{Name: "all", NumPartitions: 6, Available: allPartitions(6)},
		{Name: "some", NumPartitions: 12, Available: []int32{1, 4, 7, 10}},
		{Name: "none", NumPartitions: 3},
	}
	tests := []struct {
		name string
		p    Partitioner
	}{
		{"default", NewDefault(64)},
		{"default ignoring keys", NewDefault(64, IgnoreKeys(true))},
		{"uniform sticky", NewUniformSticky(64)},
		{"round robin", NewRoundRobin()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, _ := tt.p.(AppendObserver)
			load, _ := tt.p.(LoadObserver)
			d, _ := tt.p.(*Default)
			hashesKeys := d != nil && !d.cfg.ignoreKeys

			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(g), 0))
					key := make([]byte, 8)
					for i := range records {
						topic := topics[(g+i)%len(topics)]
						var k []byte
						if i%3 == 0 {
							k = fmt.Appendf(key[:0], "k%d", rng.IntN(1000))
						}
						p := tt.p.Partition(topic, k, nil)
						switch {
						case k != nil && hashesKeys:
							if want := KeyPartition(k, topic.NumPartitions); p != want {
								t.Errorf("%s key %q: %d, want %d", topic.Name, k, p, want)
							}
						case len(topic.Available) > 0:
							if !slices.Contains(topic.Available, p) {
								t.Errorf("%s: %d is not available %v", topic.Name, p, topic.Available)
							}
						case p < 0 || int(p) >= topic.NumPartitions:
							t.Errorf("%s: %d out of [0, %d)", topic.Name, p, topic.NumPartitions)
						}
						if app != nil {
							app.OnAppend(topic.Name, p, 1+rng.IntN(40), rng.IntN(2) == 0)
						}
						if load != nil && i%50 == 0 {
							sizes := make([]int, len(topic.Available))
							for j := range sizes {
								sizes[j] = rng.IntN(5)
							}
							load.UpdateLoad(topic.Name, topic.Available, sizes)
						}
					}
				})
			}
			wg.Wait()
		})
	}
}
