package partitioner

import "math"

// loadStats is a cumulative frequency table over queue depths, as in Java's
// BuiltInPartitioner.updatePartitionLoadStats (KIP-794). Each partition's
// weight is maxSize + 1 - size, so the emptiest queue weighs most and the
// fullest still weighs 1 (never starved); cft holds the running sums. A
// uniform random r in [0, cft[last]) then falls to partition i with
// probability weight[i] / total: the first i with cft[i] > r.
//
// Example (Java's): sizes 0 3 1 → weights 4 1 3 → cft 4 5 8; r in 0..3 picks
// the first partition, 4 the second, 5..7 the third.
//
// A published table is immutable: readers hold it without a lock.
type loadStats struct {
	ids []int32
	cft []uint64 // strictly increasing, as every weight is >= 1
}

// maxQueueSize bounds a reported depth so that sums of weights cannot
// overflow whatever the caller passes; real depths are far smaller.
const maxQueueSize = math.MaxInt32

// pick draws a partition with probability proportional to its weight.
func (ls *loadStats) pick(randN func(uint64) uint64) int32 {
	r := randN(ls.cft[len(ls.cft)-1])
	lo, hi := 0, len(ls.cft)-1
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if ls.cft[mid] > r {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return ls.ids[lo]
}

// buildLoad returns the table for these depths, or nil when the choice should
// be uniform: nothing reported, or all depths equal (Java's shortcut). If the
// table would equal cur it returns cur, so a steady load allocates nothing.
// Entries past the shorter slice are ignored; negative depths count as 0.
func buildLoad(cur *loadStats, partitions []int32, sizes []int) *loadStats {
	n := min(len(partitions), len(sizes))
	if n == 0 {
		return nil
	}
	size := func(i int) uint64 { return uint64(min(max(sizes[i], 0), maxQueueSize)) }

	maxSize, allEqual := size(0), true
	for i := 1; i < n; i++ {
		s := size(i)
		allEqual = allEqual && s == maxSize
		maxSize = max(maxSize, s)
	}
	if allEqual {
		return nil
	}

	if cur != nil && len(cur.ids) == n {
		same := true
		var sum uint64
		for i := 0; i < n && same; i++ {
			sum += maxSize + 1 - size(i)
			same = cur.ids[i] == partitions[i] && cur.cft[i] == sum
		}
		if same {
			return cur
		}
	}

	ls := &loadStats{ids: make([]int32, n), cft: make([]uint64, n)}
	copy(ls.ids, partitions[:n])
	var sum uint64
	for i := range n {
		sum += maxSize + 1 - size(i)
		ls.cft[i] = sum
	}
	return ls
}
