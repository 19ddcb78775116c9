package partitioner

import (
	"testing"
)

func TestDefaultPartition(t *testing.T) {
	// cycling() makes the first sticky choice Available[0].
	some := Topic{Name: "t", NumPartitions: 10, Available: []int32{4, 8}}
	tests := []struct {
		name  string
		opts  []Option
		topic Topic
		key   []byte
		want  int32
	}{
		// Hash over all 10 partitions, though only 4 and 8 have leaders:
		// a key keeps its partition through a leader election, as in Java.
		{"key hashes over all partitions", nil, some, []byte("foobar"), 6},
		{"empty key is a key", nil, some, []byte{}, 1},
		{"nil key is sticky", nil, some, nil, 4},
		{"ignore keys: sticky", []Option{IgnoreKeys(true)}, some, []byte("foobar"), 4},
		{"ignore keys false", []Option{IgnoreKeys(true), IgnoreKeys(false)}, some, []byte("foobar"), 6},
		{"no partitions", nil, Topic{Name: "t"}, []byte("foobar"), -1},
		{"no partitions, no key", nil, Topic{Name: "t", NumPartitions: -1}, nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDefault(16384, append(tt.opts, cycling())...)
			if got := d.Partition(tt.topic, tt.key, []byte("value")); got != tt.want {
				t.Errorf("Partition(key %q) = %d, want %d", tt.key, got, tt.want)
			}
		})
	}
}

// With keys ignored, keyed and unkeyed records share one sticky run.
func TestIgnoreKeysSharesStickyRun(t *testing.T) {
	for _, d := range []*Default{NewDefault(100, IgnoreKeys(true), cycling()), NewUniformSticky(100)} {
		topic := Topic{Name: "t", NumPartitions: 16, Available: allPartitions(16)}
		first := d.Partition(topic, nil, nil)
		for i, k := range randomKeys(9, 5) {
			p := d.Partition(topic, k, nil)
			if p != first {
				t.Fatalf("record %d (key %x) went to %d, sticky partition is %d", i, k, p, first)
			}
			d.OnAppend(topic.Name, p, 10, true)
		}
		// 9 keyed appends of 10 bytes are 90 of 100: the tenth switches.
		d.OnAppend(topic.Name, first, 10, true)
		if w := stickyWord(d.topics.load(topic.Name).sticky.Load()); w.chosen() {
			t.Errorf("no switch after 100 bytes: %d bytes counted", w.bytes())
		}
	}
}

func TestUniformStickyIgnoresLoad(t *testing.T) {
	d := NewUniformSticky(100)
	d.UpdateLoad("t", []int32{0, 1}, []int{0, 9})
	if ts := d.topics.load("t"); ts != nil && ts.load.Load() != nil {
		t.Error("UniformSticky kept a load table")
	}
}

func TestFunc(t *testing.T) {
	var p Partitioner = Func(func(topic Topic, key, value []byte) int32 {
		return int32(len(key)+len(value)) % int32(topic.NumPartitions)
	})
	if got := p.Partition(Topic{NumPartitions: 3}, []byte("ab"), []byte("cd")); got != 1 {
		t.Errorf("Func.Partition = %d, want 1", got)
	}
}

// Compile-time checks of the interfaces the producer relies on.
var (
	_ Partitioner    = (*Default)(nil)
	_ AppendObserver = (*Default)(nil)
	_ LoadObserver   = (*Default)(nil)
	_ Partitioner    = Func(nil)
)
