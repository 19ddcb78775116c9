package partitioner

import (
	"fmt"
	"testing"
)

func BenchmarkMurmur2(b *testing.B) {
	for _, n := range []int{8, 64, 1024} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			key := make([]byte, n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				Murmur2(key)
			}
		})
	}
}

// BenchmarkPartition measures the per-record cost a producer pays: for
// sticky partitioning that is Partition plus OnAppend, with records of 100
// bytes and batch.size 16384, so a switch every 164 records.
func BenchmarkPartition(b *testing.B) {
	topic := Topic{Name: "bench", NumPartitions: 12, Available: allPartitions(12)}
	key := []byte("user-1234567")
	sizes := []int{0, 3, 1, 0, 2, 5, 0, 1, 1, 0, 4, 2}

	tests := []struct {
		name    string
		p       Partitioner
		key     []byte
		observe bool // call OnAppend after Partition
	}{
		{"keyed", NewDefault(16384), key, true},
		{"unkeyed", NewDefault(16384), nil, true},
		{"unkeyed-adaptive-load", NewDefault(16384), nil, true},
		// The read side alone: what Send pays before the accumulator.
		{"unkeyed-without-OnAppend", NewDefault(16384), nil, false},
		{"round-robin", NewRoundRobin(), nil, false},
	}
	for _, tt := range tests {
		if d, ok := tt.p.(*Default); ok && tt.name == "unkeyed-adaptive-load" {
			d.UpdateLoad(topic.Name, topic.Available, sizes)
		}
		app, _ := tt.p.(AppendObserver)
		if !tt.observe {
			app = nil
		}
		record := func() {
			p := tt.p.Partition(topic, tt.key, nil)
			if app != nil {
				app.OnAppend(topic.Name, p, 100, true)
			}
		}
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				record()
			}
		})
		b.Run(tt.name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					record()
				}
			})
		})
	}
}

func BenchmarkUpdateLoad(b *testing.B) {
	ids := allPartitions(12)
	steady := []int{0, 3, 1, 0, 2, 5, 0, 1, 1, 0, 4, 2}
	other := []int{1, 3, 1, 0, 2, 5, 0, 1, 1, 0, 4, 2}
	b.Run("unchanged", func(b *testing.B) {
		d := NewDefault(16384)
		b.ReportAllocs()
		for b.Loop() {
			d.UpdateLoad("t", ids, steady)
		}
	})
	b.Run("changing", func(b *testing.B) {
		d := NewDefault(16384)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if i++; i%2 == 0 {
				d.UpdateLoad("t", ids, steady)
			} else {
				d.UpdateLoad("t", ids, other)
			}
		}
	})
}
