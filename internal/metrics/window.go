package metrics

// Rates, averages and maxima cover a window, as in the Java client, whose
// figures come from two 30-second samples. Here the counters are plain
// running totals, so no background goroutine rolls samples over: the
// window keeps up to two sample points (time, every total), taken lazily
// by Snapshot whenever the newest one is at least one sample length old.
// A snapshot's window runs from the oldest kept point to now:
//
//   - scraped at least every 30 s, the window is 30–60 s long, Java's span;
//   - scraped rarely, it is the time since the previous scrape that took a
//     point (still an honest average over that span);
//   - on the first call, it is the time since the producer started.
//
// Several readers (a Prometheus scrape and a log line, say) share the same
// points, so one reader never shortens another's window, which a plain
// "since my previous call" rate would do.
//
// Maxima cannot be derived from totals. Writers raise an atomic
// high-water mark; each Snapshot takes it (swapping in 0) and folds it
// into the newest point's interval, and the window's maximum is the
// largest over the kept intervals. An interval's maximum thus leaves the
// window together with its point.

import "time"

type kind uint8

const (
	kindGlobal kind = iota
	kindTopic
	kindNode
)

// key names one Set: the global one, a topic's or a node's.
type key struct {
	kind  kind
	topic string
	node  int32
}

// point is the totals at one moment, and the maxima seen from then until
// the next point.
type point struct {
	at   time.Time
	sums map[key][]int64
	maxs map[key][]int64
}

type window struct {
	sample time.Duration
	points []point // oldest first; 1 or 2 of them
}

func (w *window) init(start time.Time, sample time.Duration) {
	if sample <= 0 {
		sample = DefaultSample
	}
	w.sample = sample
	w.points = []point{{at: start, sums: map[key][]int64{}, maxs: map[key][]int64{}}}
}

// Values are one Set's figures in a Snapshot.
type Values struct {
	Total []int64 // running totals
	Delta []int64 // growth of each total over the window
	Max   []int64 // high-water marks over the window (0 when none)
}

// Snapshot is every counter at one moment.
type Snapshot struct {
	At     time.Time
	Window time.Duration // the span Delta and Max cover
	Global Values
	Topics map[string]Values
	Nodes  map[int32]Values
}

// advance folds cur (the totals now) and maxs (the high-water marks taken
// now) into the window, returns the snapshot, and keeps cur as a new point
// when the newest one is a sample length old.
func (w *window) advance(cur point, maxs map[key][]int64) Snapshot {
	last := &w.points[len(w.points)-1]
	for k, m := range maxs {
		last.maxs[k] = maxOf(last.maxs[k], m)
	}
	base := w.points[0]
	snap := Snapshot{At: cur.at, Window: cur.at.Sub(base.at), Topics: map[string]Values{}, Nodes: map[int32]Values{}}
	for k, total := range cur.sums {
		v := Values{Total: total, Delta: make([]int64, len(total))}
		prev := base.sums[k]
		for i := range total {
			v.Delta[i] = total[i]
			if i < len(prev) {
				v.Delta[i] -= prev[i]
			}
		}
		for _, p := range w.points {
			v.Max = maxOf(v.Max, p.maxs[k])
		}
		switch k.kind {
		case kindGlobal:
			snap.Global = v
		case kindTopic:
			snap.Topics[k.topic] = v
		case kindNode:
			snap.Nodes[k.node] = v
		}
	}
	if cur.at.Sub(last.at) >= w.sample {
		w.points = append(w.points, point{at: cur.at, sums: cur.sums, maxs: map[key][]int64{}})
		if len(w.points) > 2 {
			w.points[0] = point{}
			w.points = w.points[1:]
		}
	}
	return snap
}

// maxOf returns the elementwise maximum of a and b as a new slice.
func maxOf(a, b []int64) []int64 {
	out := make([]int64, max(len(a), len(b)))
	copy(out, a)
	for i, v := range b {
		out[i] = max(out[i], v)
	}
	return out
}
