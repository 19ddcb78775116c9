package partitioner

import (
	"slices"
	"testing"
)

func TestBuildLoad(t *testing.T) {
	tests := []struct {
		name       string
		partitions []int32
		sizes      []int
		wantIDs    []int32 // nil: uniform (no table)
		wantCFT    []uint64
	}{
		// The worked example in Java's updatePartitionLoadStats.
		{"java example", []int32{0, 1, 2}, []int{0, 3, 1}, []int32{0, 1, 2}, []uint64{4, 5, 8}},
		{"KIP-794 skew", []int32{0, 1, 2, 3}, []int{0, 10, 10, 10}, []int32{0, 1, 2, 3}, []uint64{11, 12, 13, 14}},
		{"ids kept in order", []int32{5, 2, 9}, []int{2, 0, 1}, []int32{5, 2, 9}, []uint64{1, 4, 6}},
		{"equal depths", []int32{0, 1, 2}, []int{4, 4, 4}, nil, nil},
		{"one partition", []int32{3}, []int{7}, nil, nil},
		{"nothing reported", nil, nil, nil, nil},
		{"sizes shorter", []int32{0, 1, 2}, []int{1, 0}, []int32{0, 1}, []uint64{1, 3}},
		{"partitions shorter", []int32{0}, []int{1, 0}, nil, nil},
		{"negative depth is 0", []int32{0, 1}, []int{-4, 1}, []int32{0, 1}, []uint64{2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls := buildLoad(nil, tt.partitions, tt.sizes)
			if tt.wantIDs == nil {
				if ls != nil {
					t.Fatalf("got table %v %v, want none", ls.ids, ls.cft)
				}
				return
			}
			if ls == nil {
				t.Fatal("got no table")
			}
			if !slices.Equal(ls.ids, tt.wantIDs) || !slices.Equal(ls.cft, tt.wantCFT) {
				t.Errorf("got ids %v cft %v, want %v %v", ls.ids, ls.cft, tt.wantIDs, tt.wantCFT)
			}
		})
	}
}

// pick maps r to the first entry strictly greater than it, over Java's
// example table 4 5 8.
func TestLoadPick(t *testing.T) {
	ls := &loadStats{ids: []int32{7, 8, 9}, cft: []uint64{4, 5, 8}}
	want := []int32{7, 7, 7, 7, 8, 9, 9, 9}
	for r, w := range want {
		t.Run(string(rune('0'+r)), func(t *testing.T) {
			got := ls.pick(func(n uint64) uint64 {
				if n != 8 {
					t.Errorf("random range = %d, want 8", n)
				}
				return uint64(r)
			})
			if got != w {
				t.Errorf("pick(r=%d) = %d, want %d", r, got, w)
			}
		})
	}
}

func TestUpdateLoadReusesUnchangedTable(t *testing.T) {
	d := NewDefault(100)
	ids := []int32{0, 1, 2}
	d.Partition(Topic{Name: "t", NumPartitions: 3, Available: ids}, nil, nil) // the first sticky choice: load matters from now on
	d.UpdateLoad("t", ids, []int{0, 3, 1})
	first := d.topics.load("t").load.Load()
	// Same weights from different depths (all shifted by one): same table.
	d.UpdateLoad("t", ids, []int{1, 4, 2})
	if got := d.topics.load("t").load.Load(); got != first {
		t.Error("unchanged weights published a new table")
	}
	d.UpdateLoad("t", ids, []int{3, 0, 1})
	changed := d.topics.load("t").load.Load()
	if changed == first || !slices.Equal(changed.cft, []uint64{1, 5, 8}) {
		t.Errorf("changed weights: table %v, want cft [1 5 8] in a new table", changed.cft)
	}
	if !slices.Equal(first.cft, []uint64{4, 5, 8}) {
		t.Errorf("published table was modified: %v", first.cft)
	}
	d.UpdateLoad("t", ids, []int{2, 2, 2})
	if got := d.topics.load("t").load.Load(); got != nil {
		t.Errorf("equal depths kept table %v", got.cft)
	}
}

// KIP-794: a partition whose queue is empty while the others hold ten
// batches gets weight 11 of 14 (78.6% of switches); each other gets 1/14.
// Without adaptive partitioning, or with equal depths, each gets a quarter.
func TestAdaptive(t *testing.T) {
	const switches = 14000
	tests := []struct {
		name     string
		opts     []Option
		sizes    []int
		min, max [4]int // bounds on sticky runs per partition
	}{
		{"skewed depths", nil, []int{0, 10, 10, 10},
			[4]int{9800, 500, 500, 500}, [4]int{12000, 1500, 1500, 1500}},
		{"adaptive off", []Option{Adaptive(false)}, []int{0, 10, 10, 10},
			[4]int{3000, 3000, 3000, 3000}, [4]int{4000, 4000, 4000, 4000}},
		{"equal depths", nil, []int{5, 5, 5, 5},
			[4]int{3000, 3000, 3000, 3000}, [4]int{4000, 4000, 4000, 4000}},
		{"no load reported", nil, nil,
			[4]int{3000, 3000, 3000, 3000}, [4]int{4000, 4000, 4000, 4000}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDefault(1, append(tt.opts, seeded(uint64(100+i)))...)
			topic := Topic{Name: "t", NumPartitions: 4, Available: allPartitions(4)}
			if tt.sizes != nil {
				d.Partition(topic, nil, nil) // a first sticky choice: load is kept from now on
				d.UpdateLoad(topic.Name, topic.Available, tt.sizes)
			}
			counts := switchCounts(d, topic, switches)
			for p := range 4 {
				if c := counts[int32(p)]; c < tt.min[p] || c > tt.max[p] {
					t.Errorf("partition %d: %d of %d sticky runs, want %d..%d", p, c, switches, tt.min[p], tt.max[p])
				}
			}
		})
	}
}

// Keyed records ignore load: placement by key must not move with it.
func TestAdaptiveLeavesKeysAlone(t *testing.T) {
	d := NewDefault(1)
	topic := Topic{Name: "t", NumPartitions: 4, Available: allPartitions(4)}
	d.UpdateLoad(topic.Name, topic.Available, []int{0, 50, 50, 50})
	for _, k := range randomKeys(1000, 3) {
		if got, want := d.Partition(topic, k, nil), KeyPartition(k, 4); got != want {
			t.Fatalf("key %x: %d, want %d", k, got, want)
		}
	}
}

// While a topic's records are all keyed nothing reads its load table, so
// UpdateLoad builds none; after the first unkeyed record it does.
func TestUpdateLoadWaitsForFirstStickyChoice(t *testing.T) {
	d := NewDefault(100)
	topic := Topic{Name: "t", NumPartitions: 3, Available: []int32{0, 1, 2}}
	d.Partition(topic, []byte("k"), nil)
	d.UpdateLoad(topic.Name, topic.Available, []int{0, 3, 1})
	if ls := d.topics.load("t").load.Load(); ls != nil {
		t.Errorf("keyed-only topic got a load table %v", ls.cft)
	}
	d.Partition(topic, nil, nil)
	d.UpdateLoad(topic.Name, topic.Available, []int{0, 3, 1})
	if ls := d.topics.load("t").load.Load(); ls == nil || !slices.Equal(ls.cft, []uint64{4, 5, 8}) {
		t.Errorf("after an unkeyed record: table %v, want cft [4 5 8]", ls)
	}
}
