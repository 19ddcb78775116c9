package accumulator

// Tests of the due and expiry heaps (ready.go) on their own: random sets,
// moves and removals keep the heap ordered, every deque's index pointing at
// its entry, and each entry's key the one last set for its deque.

import (
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkHeap fails t unless h is a min-heap whose entries agree with their
// deques, and holds exactly the deques of want (dq → key).
func checkHeap(t *testing.T, h *dqHeap, want map[*deque]int64) {
	t.Helper()
	if len(h.items) != len(want) {
		t.Fatalf("heap holds %d deques, want %d", len(h.items), len(want))
	}
	for i, e := range h.items {
		switch {
		case e.dq.s.idx[h.kind] != i:
			t.Fatalf("entry %d: its deque's index is %d", i, e.dq.s.idx[h.kind])
		case want[e.dq] != e.at:
			t.Fatalf("entry %d: key %d, set last to %d", i, e.at, want[e.dq])
		case i > 0 && h.items[(i-1)/2].at > e.at:
			t.Fatalf("entry %d (key %d) is smaller than its parent (key %d)", i, e.at, h.items[(i-1)/2].at)
		}
	}
}

func TestDueHeapRandomOperations(t *testing.T) {
	for _, kind := range []int{dueHeap, expHeap} {
		rng := rand.New(rand.NewPCG(1, uint64(kind)))
		h := &dqHeap{kind: kind}
		dqs := make([]*deque, 300)
		for i := range dqs {
			dqs[i] = &deque{part: int32(i), s: dqSched{idx: [2]int{-1, -1}}}
		}
		want := map[*deque]int64{}
		for step := range 20000 {
			dq := dqs[rng.IntN(len(dqs))]
			switch rng.IntN(4) {
			case 0:
				h.remove(dq)
				delete(want, dq)
				require.Equal(t, -1, dq.s.idx[kind])
			case 1: // pop the smallest, as popDue and Expire do
				if top, _ := h.top(); top != nil {
					for _, k := range want {
						if k < want[top] {
							t.Fatalf("step %d: top's key %d, a deque has %d", step, want[top], k)
						}
					}
					h.remove(top)
					delete(want, top)
				}
			default: // keys are few so that equal keys occur
				at := int64(rng.IntN(500))
				h.set(dq, at)
				want[dq] = at
			}
			checkHeap(t, h, want)
		}
		// Popping everything yields the keys in order.
		var keys []int64
		for top, at := h.top(); top != nil; top, at = h.top() {
			require.Equal(t, want[top], at)
			keys = append(keys, want[top])
			h.remove(top)
		}
		require.True(t, sort.SliceIsSorted(keys, func(i, j int) bool { return keys[i] < keys[j] }))
		require.Empty(t, h.items)
	}
}
