package partitioner

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A bound topic must make exactly the choices the partitioner's own methods
// make: two Defaults with the same deterministic random source, one driven
// by name and one through BindTopic, see the same records and must place
// every one of them on the same partition (sticky runs, switches, keys).
func TestBindTopicMatchesUnbound(t *testing.T) {
	topic := Topic{Name: "t", NumPartitions: 12, Available: []int32{0, 2, 3, 5, 7, 11}}
	for _, tc := range []struct {
		name string
		mk   func() *Default
	}{
		{"default", func() *Default { return NewDefault(1000, seeded(7)) }},
		{"ignore keys", func() *Default { return NewDefault(1000, seeded(7), IgnoreKeys(true)) }},
		{"uniform sticky", func() *Default { return NewDefault(1000, seeded(7), IgnoreKeys(true), Adaptive(false)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			byName, bound := tc.mk(), tc.mk()
			b := bound.BindTopic(topic.Name)
			for i := range 5000 {
				var key []byte
				if i%3 == 0 {
					key = fmt.Appendf(nil, "key-%d", i%97)
				}
				if i%400 == 0 {
					sizes := []int{i % 5, 1, 0, 3, 2, i % 7}
					byName.UpdateLoad(topic.Name, topic.Available, sizes)
					bound.UpdateLoad(topic.Name, topic.Available, sizes)
				}
				want := byName.Partition(topic, key, nil)
				got := b.Partition(topic, key, nil)
				require.Equal(t, want, got, "record %d", i)
				size, full := 30+i%50, i%7 == 0
				byName.OnAppend(topic.Name, want, size, full)
				b.OnAppend(got, size, full)
			}
		})
	}
}

// BindTopic shares the topic's state with the by-name methods: an append
// reported through one is seen by the other.
func TestBindTopicSharesState(t *testing.T) {
	topic := Topic{Name: "t", NumPartitions: 4, Available: allPartitions(4)}
	d := NewDefault(100, cycling())
	b := d.BindTopic(topic.Name)
	first := d.Partition(topic, nil, nil)
	assert.Equal(t, first, b.Partition(topic, nil, nil))
	b.OnAppend(first, 100, true) // a switch is due
	next := d.Partition(topic, nil, nil)
	assert.NotEqual(t, first, next, "the by-name Partition sees the bound OnAppend's switch")
	assert.Equal(t, next, b.Partition(topic, nil, nil))
}

func TestRoundRobinBindTopic(t *testing.T) {
	topic := Topic{Name: "t", NumPartitions: 5, Available: []int32{1, 3, 4}}
	rr := NewRoundRobin()
	b := rr.(TopicBinder).BindTopic(topic.Name)
	var got []int32
	for i := range 6 {
		if i%2 == 0 {
			got = append(got, rr.Partition(topic, nil, nil))
		} else {
			got = append(got, b.Partition(topic, nil, nil))
		}
		b.OnAppend(got[i], 10, true) // no effect on round robin
	}
	assert.Equal(t, []int32{1, 3, 4, 1, 3, 4}, got, "bound and unbound calls share one counter")
	assert.Equal(t, int32(-1), b.Partition(Topic{Name: "t"}, nil, nil))
}

// A bound Default is safe for concurrent use alongside the by-name methods
// (run with -race).
func TestBindTopicConcurrent(t *testing.T) {
	topic := Topic{Name: "t", NumPartitions: 8, Available: allPartitions(8)}
	d := NewDefault(64)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := d.BindTopic(topic.Name)
			for range 2000 {
				p := b.Partition(topic, nil, nil)
				if p < 0 || p >= 8 {
					t.Errorf("partition %d out of range", p)
					return
				}
				if g%2 == 0 {
					b.OnAppend(p, 16, true)
				} else {
					d.OnAppend(topic.Name, p, 16, true)
				}
			}
		}()
	}
	wg.Wait()
}
