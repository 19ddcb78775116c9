package partitioner

import (
	"math"
	"slices"
	"testing"
)

func TestRoundRobin(t *testing.T) {
	tests := []struct {
		name  string
		topic Topic
		want  []int32
	}{
		{"all available", Topic{Name: "a", NumPartitions: 3, Available: allPartitions(3)}, []int32{0, 1, 2, 0, 1, 2, 0}},
		{"subset available", Topic{Name: "b", NumPartitions: 6, Available: []int32{0, 2, 5}}, []int32{0, 2, 5, 0, 2, 5}},
		{"order of Available kept", Topic{Name: "c", NumPartitions: 6, Available: []int32{5, 1}}, []int32{5, 1, 5, 1}},
		{"none available: all partitions", Topic{Name: "d", NumPartitions: 4}, []int32{0, 1, 2, 3, 0}},
		{"no partitions", Topic{Name: "e"}, []int32{-1, -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rr := NewRoundRobin()
			var got []int32
			for i := range tt.want {
				// Keys are ignored: a constant key still rotates.
				got = append(got, rr.Partition(tt.topic, []byte("same key"), []byte{byte(i)}))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("sequence %v, want %v", got, tt.want)
			}
		})
	}
}

// Each topic has its own counter, as in Java's per-topic map.
func TestRoundRobinPerTopic(t *testing.T) {
	rr := NewRoundRobin()
	a := Topic{Name: "a", NumPartitions: 4}
	b := Topic{Name: "b", NumPartitions: 4}
	got := []int32{
		rr.Partition(a, nil, nil), rr.Partition(a, nil, nil),
		rr.Partition(b, nil, nil), rr.Partition(a, nil, nil), rr.Partition(b, nil, nil),
	}
	if want := []int32{0, 1, 0, 2, 1}; !slices.Equal(got, want) {
		t.Errorf("interleaved sequence %v, want %v", got, want)
	}
}

// Past 2^31 records the counter wraps to MinInt32, which Java's toPositive
// maps to 0; the sequence stays in range and restarts there.
func TestRoundRobinWrap(t *testing.T) {
	rr := NewRoundRobin().(*roundRobin)
	topic := Topic{Name: "t", NumPartitions: 5}
	rr.counters.loadOrCreate("t").Store(math.MaxInt32 - 1)
	var got []int32
	for range 4 {
		got = append(got, rr.Partition(topic, nil, nil))
	}
	// (2^31-2)%5 = 1, (2^31-1)%5 = 2, then MinInt32 → 0 and MinInt32+1 → 1.
	if want := []int32{1, 2, 0, 1}; !slices.Equal(got, want) {
		t.Errorf("across the wrap: %v, want %v", got, want)
	}
}
