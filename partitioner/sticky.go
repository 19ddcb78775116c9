package partitioner

// Sticky partitioning, and why it is built this way.
//
// Spreading unkeyed records one by one over all partitions makes many tiny
// batches: with linger.ms small, each partition's batch holds a record or two
// when it is sent. KIP-480 made the Java producer stick to one partition and
// move on only when a batch there was done, so batches fill. That first
// version switched on "a new batch was created", which favours slow brokers:
// a batch waiting on a slow broker lingers, keeps taking records, and the
// producer stays there. KIP-794 (Java 3.3) fixed it by switching after a fixed
// number of bytes, batch.size, so every partition gets the same data, and by
// choosing the next partition at random weighted by inverse queue depth, so a
// broker that falls behind gets less. A switch waits until the partition's
// batches are full (enableSwitch) so that a linger-sent batch does not leave a
// small remainder behind, but never past 2 × batch.size (updatePartitionInfo).
//
// Mechanics. Each topic has one word of sticky state, a stickyWord: the
// current partition and the bytes appended to it since it was chosen. Partition
// reads it with one atomic load; OnAppend adds bytes with a compare-and-swap
// loop and, when a switch is due, swaps in "none chosen" instead of a new
// partition. The next Partition call, which holds the topic's metadata (the
// partition count and the available partitions), makes the weighted choice and
// installs it with a compare-and-swap from "none"; a loser of that race uses
// the winner's choice. So the hot path takes no lock and allocates nothing,
// and exactly one choice survives per switch.
//
// Differences from Java, and why they do not matter:
//   - Java re-checks the sticky partition under the partition's queue lock and
//     retries the append if it changed. Here a send that read the old partition
//     just before a switch still appends there: at most one record per racing
//     goroutine lands on the previous partition, which changes batch sizes by
//     a record, not placement guarantees (unkeyed records have none).
//   - Java counts only records the sticky logic placed. OnAppend cannot tell
//     keyed records from unkeyed ones, so it counts every record appended to
//     the current sticky partition; appends to any other partition are
//     ignored. A keyed record that lands on the sticky partition fills the
//     same batch, so counting it switches at the true batch boundary.
//   - Java chooses the next partition eagerly inside the append; here it is
//     chosen at the next Partition call. The distribution is the same.

import (
	"math"
	"slices"
	"sync/atomic"
)

// stickyWord packs a topic's sticky partition and the bytes appended to it
// into one uint64, so both change together in one compare-and-swap:
//
//	bits 63..32  partition + 1; 0 means none chosen (never, or a switch is due)
//	bits 31..0   bytes appended since it was chosen, saturating at 2^32 - 1
type stickyWord uint64

// noSticky is the word before the first choice and after each switch.
const noSticky stickyWord = 0

func makeSticky(partition int32, bytes uint32) stickyWord {
	return stickyWord(uint64(uint32(partition)+1)<<32 | uint64(bytes))
}

func (w stickyWord) chosen() bool     { return w>>32 != 0 }
func (w stickyWord) partition() int32 { return int32(uint32(w>>32) - 1) }
func (w stickyWord) bytes() uint32    { return uint32(w) }

// topicState is the per-topic state of a [Default] partitioner.
type topicState struct {
	// sticky holds a stickyWord. Written by Partition (installing a choice)
	// and OnAppend (counting bytes, clearing it to switch), both with
	// compare-and-swap; read by both.
	sticky atomic.Uint64
	// load is the latest queue-depth table; nil means choose uniformly.
	// Written by UpdateLoad; read by Partition when it chooses. A published
	// table is never modified.
	load atomic.Pointer[loadStats]
	// choosing is set by the first sticky choice. Until then no record of
	// the topic went to a sticky partition (all were keyed), nothing reads
	// load, and UpdateLoad skips building it: with keyed records over
	// thousands of partitions a table per report was a sixth of the bytes
	// the producer allocated.
	choosing atomic.Bool
}

// stickyPartition returns the topic's sticky partition, choosing one if none
// is chosen or the chosen one is out of range (the topic was recreated with
// fewer partitions).
func (d *Default) stickyPartition(ts *topicState, t *Topic) int32 {
	for {
		old := stickyWord(ts.sticky.Load())
		if old.chosen() && int(old.partition()) < t.NumPartitions {
			return old.partition()
		}
		p := d.next(ts, t)
		if ts.sticky.CompareAndSwap(uint64(old), uint64(makeSticky(p, 0))) {
			return p
		}
		// Another send chose first, or an append counted bytes; look again.
	}
}

// next chooses a new sticky partition as Java's BuiltInPartitioner.nextPartition
// does: weighted by queue depth when load is known, else uniform over the
// available partitions, else uniform over all partitions.
func (d *Default) next(ts *topicState, t *Topic) int32 {
	if !ts.choosing.Load() {
		ts.choosing.Store(true)
	}
	avail := t.Available
	if len(avail) == 0 {
		return int32(d.cfg.randN(uint64(t.NumPartitions)))
	}
	if ls := ts.load.Load(); ls != nil {
		// The table comes from the last drain and may name a partition that
		// has since lost its leader; the caller's Available is newer.
		// Scanning it happens once per switch, not per record.
		if p := ls.pick(d.cfg.randN); int(p) < t.NumPartitions && slices.Contains(avail, p) {
			return p
		}
	}
	p := avail[d.cfg.randN(uint64(len(avail)))]
	if p < 0 || int(p) >= t.NumPartitions {
		// A producer bug, but the contract is a partition in range.
		return int32(d.cfg.randN(uint64(t.NumPartitions)))
	}
	return p
}

// count adds bytes appended to partition and clears the sticky partition
// once a switch is due (Java's updatePartitionInfo).
func (d *Default) count(ts *topicState, partition int32, bytes int, batchFull bool) {
	add := uint64(max(bytes, 0))
	for {
		old := stickyWord(ts.sticky.Load())
		if !old.chosen() || old.partition() != partition {
			// Not the sticky partition: a keyed or explicit record, or a
			// send that raced a switch. Its bytes belong to no sticky run.
			return
		}
		n := uint64(old.bytes()) + add
		next := noSticky
		if !(n >= d.batchSize && batchFull || n >= 2*d.batchSize) {
			next = makeSticky(partition, uint32(min(n, math.MaxUint32)))
		}
		if ts.sticky.CompareAndSwap(uint64(old), uint64(next)) {
			return
		}
	}
}
