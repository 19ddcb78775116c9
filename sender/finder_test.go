package sender

import (
	"testing"

	"github.com/tributary-go/tributary/protocol"
)

// TestPartitionFinder: batches are found in the response whether it lists
// them in request order (the fast path) or not, and a partition missing
// from it is reported as missing.
func TestPartitionFinder(t *testing.T) {
	resp := &protocol.ProduceResponse{Topics: []protocol.ProduceResponseTopic{
		{Name: "a", Partitions: []protocol.ProduceResponsePartition{{Index: 0, BaseOffset: 10}, {Index: 1, BaseOffset: 11}}},
		{Name: "b", Partitions: []protocol.ProduceResponsePartition{{Index: 5, BaseOffset: 25}, {Index: 2, BaseOffset: 22}}},
	}}
	type tp struct {
		topic string
		part  int32
		want  int64 // -1: missing
	}
	for name, order := range map[string][]tp{
		"request order": {{"a", 0, 10}, {"a", 1, 11}, {"b", 5, 25}, {"b", 2, 22}},
		"other order":   {{"b", 2, 22}, {"a", 1, 11}, {"b", 5, 25}, {"a", 0, 10}},
		"missing":       {{"a", 0, 10}, {"a", 7, -1}, {"c", 0, -1}, {"a", 1, 11}, {"b", 5, 25}},
	} {
		t.Run(name, func(t *testing.T) {
			var f partitionFinder
			for _, x := range order {
				p := f.find(resp, x.topic, x.part)
				switch {
				case x.want < 0 && p != nil:
					t.Errorf("%s-%d: found %+v, want missing", x.topic, x.part, *p)
				case x.want >= 0 && (p == nil || p.BaseOffset != x.want):
					t.Errorf("%s-%d: found %+v, want offset %d", x.topic, x.part, p, x.want)
				}
			}
		})
	}
}
