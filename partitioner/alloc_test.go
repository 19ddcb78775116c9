package partitioner

import "testing"

// The per-record path (Partition, then OnAppend) must not allocate once a
// topic has been seen. The sticky cases use batch.size 1 so that every
// record switches: choosing a partition is part of the steady state too.
func TestNoAllocs(t *testing.T) {
	topic := Topic{Name: "t", NumPartitions: 12, Available: allPartitions(12)}
	key := []byte("user-42")
	sizes := []int{0, 3, 1, 0, 2, 5, 0, 1, 1, 0, 4, 2}

	adaptive := NewDefault(1)
	adaptive.Partition(topic, nil, nil) // a first sticky choice: load is kept from now on
	adaptive.UpdateLoad(topic.Name, topic.Available, sizes)
	uniform := NewDefault(16384, Adaptive(false))
	rr := NewRoundRobin()
	bound := uniform.BindTopic(topic.Name)
	boundAdaptive := adaptive.BindTopic(topic.Name)
	boundRR := rr.(TopicBinder).BindTopic(topic.Name)

	tests := []struct {
		name string
		fn   func()
	}{
		{"Murmur2", func() { Murmur2(key) }},
		{"keyed Partition", func() { uniform.Partition(topic, key, nil) }},
		{"unkeyed Partition", func() { uniform.Partition(topic, nil, nil) }},
		{"Partition+OnAppend", func() {
			p := uniform.Partition(topic, nil, nil)
			uniform.OnAppend(topic.Name, p, 100, true)
		}},
		{"switch every record, adaptive", func() {
			p := adaptive.Partition(topic, nil, nil)
			adaptive.OnAppend(topic.Name, p, 100, true)
		}},
		{"OnAppend unknown topic", func() { uniform.OnAppend("unknown", 0, 100, true) }},
		{"UpdateLoad unchanged", func() { adaptive.UpdateLoad(topic.Name, topic.Available, sizes) }},
		{"round robin", func() { rr.Partition(topic, key, nil) }},
		{"bound Partition+OnAppend", func() {
			p := bound.Partition(topic, nil, nil)
			bound.OnAppend(p, 100, true)
		}},
		{"bound keyed Partition", func() { bound.Partition(topic, key, nil) }},
		{"bound, switch every record, adaptive", func() {
			p := boundAdaptive.Partition(topic, nil, nil)
			boundAdaptive.OnAppend(p, 100, true)
		}},
		{"bound round robin", func() { boundRR.Partition(topic, key, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn() // first use of a topic allocates its state
			if n := testing.AllocsPerRun(1000, tt.fn); n != 0 {
				t.Errorf("%v allocations per call, want 0", n)
			}
		})
	}
}
