package partitioner

import (
	"slices"
	"testing"
)

// Records stay on the first sticky partition until Java's switch rule fires;
// the cycling source makes the next choice a different partition, so the
// number of records sent before the partition changes is exact.
func TestStickySwitch(t *testing.T) {
	tests := []struct {
		name      string
		batchSize int
		size      int
		full      func(i int) bool // batchFull for the i-th append, from 0
		want      int              // records on the first partition
	}{
		{"batch.size reached, batches full", 100, 10, func(int) bool { return true }, 10},
		{"batch.size overshot, batches full", 100, 30, func(int) bool { return true }, 4},
		{"batches never full: 2 x batch.size", 100, 10, func(int) bool { return false }, 20},
		{"batch fills after batch.size", 100, 10, func(i int) bool { return i >= 14 }, 15},
		{"full before batch.size does not switch", 100, 10, func(i int) bool { return i < 5 }, 20},
		{"one record of 2 x batch.size", 100, 250, func(int) bool { return false }, 1},
		{"batch.size 0 acts as 1", 0, 1, func(int) bool { return true }, 1},
		{"negative byte counts add nothing", 100, -5, func(int) bool { return true }, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDefault(tt.batchSize, cycling())
			topic := Topic{Name: "t", NumPartitions: 4, Available: allPartitions(4)}
			got := -1
			var first int32
			for i := range 1000 {
				p := d.Partition(topic, nil, nil)
				if i == 0 {
					first = p
				} else if p != first {
					got = i
					break
				}
				d.OnAppend(topic.Name, p, tt.size, tt.full(i))
			}
			if got != tt.want {
				t.Errorf("records before switch = %d, want %d (-1: never switched)", got, tt.want)
			}
		})
	}
}

func TestOnAppendIgnoresOtherPartitions(t *testing.T) {
	d := NewDefault(100, cycling())
	topic := Topic{Name: "t", NumPartitions: 4, Available: allPartitions(4)}
	sticky := d.Partition(topic, nil, nil)

	// Keyed records, explicit partitions and sends that raced a switch
	// append elsewhere; none of that is the sticky run's data.
	for p := range int32(4) {
		if p != sticky {
			d.OnAppend(topic.Name, p, 1000, true)
		}
	}
	d.OnAppend("other-topic", sticky, 1000, true)

	if got := d.Partition(topic, nil, nil); got != sticky {
		t.Fatalf("sticky partition moved from %d to %d on appends elsewhere", sticky, got)
	}
	w := stickyWord(d.topics.load(topic.Name).sticky.Load())
	if w.bytes() != 0 {
		t.Errorf("counted %d bytes for the sticky partition, want 0", w.bytes())
	}
	if d.topics.load("other-topic") != nil {
		t.Error("OnAppend created state for a topic never partitioned")
	}
}

func TestStickyWord(t *testing.T) {
	tests := []struct {
		partition int32
		bytes     uint32
	}{
		{0, 0},
		{1, 16384},
		{2147483646, 4294967295},
		{2147483647, 1},
	}
	for _, tt := range tests {
		w := makeSticky(tt.partition, tt.bytes)
		if !w.chosen() || w.partition() != tt.partition || w.bytes() != tt.bytes {
			t.Errorf("makeSticky(%d, %d) unpacks to chosen=%v %d %d", tt.partition, tt.bytes, w.chosen(), w.partition(), w.bytes())
		}
	}
	if noSticky.chosen() {
		t.Error("noSticky is chosen")
	}
}

// Counts near the top of the 32-bit field, and single appends larger than it,
// switch rather than wrap into the partition bits.
func TestStickyLargeCounts(t *testing.T) {
	const batch = 1<<31 - 1 // Java's largest batch.size
	tests := []struct {
		name     string
		appends  []int
		switched bool
	}{
		{"just under batch.size", []int{batch - 1}, false},
		{"just under 2 x batch.size", []int{batch - 1, batch - 1}, false},
		{"2 x batch.size", []int{batch - 1, batch - 1, 2}, true},
		{"one append past 2^32", []int{1 << 40}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDefault(batch, cycling())
			topic := Topic{Name: "t", NumPartitions: 2, Available: allPartitions(2)}
			p := d.Partition(topic, nil, nil)
			var sum uint64
			for _, n := range tt.appends {
				d.OnAppend(topic.Name, p, n, false)
				sum += uint64(n)
			}
			w := stickyWord(d.topics.load(topic.Name).sticky.Load())
			if w.chosen() == tt.switched {
				t.Fatalf("switched = %v after %d bytes, want %v", !w.chosen(), sum, tt.switched)
			}
			if !tt.switched && (w.partition() != p || uint64(w.bytes()) != sum) {
				t.Errorf("word holds partition %d, %d bytes; want %d, %d", w.partition(), w.bytes(), p, sum)
			}
		})
	}
}

// Over many switches, uniform choice gives every partition about the same
// number of sticky runs. Expected 2000 per partition, standard deviation
// about 42: the bounds are over nine deviations wide.
func TestStickyUniform(t *testing.T) {
	tests := []struct {
		name string
		newP func(seed Option) *Default
	}{
		{"default", func(seed Option) *Default { return NewDefault(1, seed) }},
		{"not adaptive", func(seed Option) *Default { return NewDefault(1, Adaptive(false), seed) }},
		{"uniform sticky", func(seed Option) *Default {
			d := NewUniformSticky(1)
			seed(&d.cfg)
			return d
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.newP(seeded(uint64(i)))
			topic := Topic{Name: "t", NumPartitions: 8, Available: allPartitions(8)}
			counts := switchCounts(d, topic, 16000)
			for p := range int32(8) {
				if c := counts[p]; c < 1600 || c > 2400 {
					t.Errorf("partition %d: %d sticky runs, want 1600..2400 (all: %v)", p, c, counts)
				}
			}
		})
	}
}

func TestStickyAvailability(t *testing.T) {
	tests := []struct {
		name      string
		available []int32
		load      [2][]int // partitions (as ints), queue sizes; nil: none
		allowed   []int32
	}{
		{"subset available", []int32{1, 3}, [2][]int{}, []int32{1, 3}},
		// The load table is older than Available and favours 0 and 2,
		// which have since lost their leaders.
		{"stale load names unavailable", []int32{1, 3}, [2][]int{{0, 1, 2, 3}, {0, 5, 0, 5}}, []int32{1, 3}},
		{"none available: all partitions", nil, [2][]int{}, []int32{0, 1, 2, 3, 4}},
		{"empty available: all partitions", []int32{}, [2][]int{}, []int32{0, 1, 2, 3, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDefault(1, seeded(7))
			if tt.load[0] != nil {
				ids := make([]int32, len(tt.load[0]))
				for i, p := range tt.load[0] {
					ids[i] = int32(p)
				}
				d.Partition(Topic{Name: "t", NumPartitions: 5, Available: tt.available}, nil, nil) // a first sticky choice: load is kept from now on
				d.UpdateLoad("t", ids, tt.load[1])
			}
			topic := Topic{Name: "t", NumPartitions: 5, Available: tt.available}
			counts := switchCounts(d, topic, 5000)
			for p, c := range counts {
				if !slices.Contains(tt.allowed, p) {
					t.Errorf("partition %d chosen %d times, allowed only %v", p, c, tt.allowed)
				}
			}
			for _, p := range tt.allowed {
				if counts[p] == 0 {
					t.Errorf("allowed partition %d never chosen (counts %v)", p, counts)
				}
			}
		})
	}
}

// A sticky partition beyond the topic's partition count (the topic was
// recreated smaller) is replaced rather than returned.
func TestStickyOutOfRange(t *testing.T) {
	d := NewDefault(100, withRandN(func(n uint64) uint64 { return n - 1 }))
	big := Topic{Name: "t", NumPartitions: 8, Available: allPartitions(8)}
	if p := d.Partition(big, nil, nil); p != 7 {
		t.Fatalf("first choice = %d, want 7", p)
	}
	small := Topic{Name: "t", NumPartitions: 4, Available: allPartitions(4)}
	if p := d.Partition(small, nil, nil); p != 3 {
		t.Errorf("after shrink = %d, want 3", p)
	}
	// An Available entry out of range is a producer bug; still answer in range.
	bad := Topic{Name: "u", NumPartitions: 4, Available: []int32{9}}
	if p := d.Partition(bad, nil, nil); p < 0 || p >= 4 {
		t.Errorf("with Available [9] of 4: %d, want in [0, 4)", p)
	}
}
