package metrics

import (
	"sync"
	"testing"
	"time"
)

func TestSnapshotTotalsDeltasAndWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	r := NewRegistry(t0, 30*time.Second)
	r.Global.Add(RecordsSent, 10)
	r.Topic("a").Add(TopicRecordsSent, 7)
	r.Topic("b").Add(TopicRecordsSent, 3)
	r.Node(1).Add(NodeRequests, 2)
	r.Global.Max(MaxLatency, 50)
	r.Global.Max(MaxLatency, 20)

	s := r.Snapshot(t0.Add(10 * time.Second))
	if s.Window != 10*time.Second {
		t.Fatalf("first window %v, want the time since start", s.Window)
	}
	if got := s.Global.Total[RecordsSent]; got != 10 {
		t.Fatalf("total %d", got)
	}
	if got := s.Global.Delta[RecordsSent]; got != 10 {
		t.Fatalf("delta %d", got)
	}
	if got := s.Global.Max[MaxLatency]; got != 50 {
		t.Fatalf("max %d, want 50", got)
	}
	if s.Topics["a"].Total[TopicRecordsSent] != 7 || s.Topics["b"].Total[TopicRecordsSent] != 3 {
		t.Fatalf("topics %+v", s.Topics)
	}
	if s.Nodes[1].Total[NodeRequests] != 2 {
		t.Fatalf("nodes %+v", s.Nodes)
	}

	// 40 s in: the first point is 40 s old; a second point is taken now.
	r.Global.Add(RecordsSent, 30)
	s = r.Snapshot(t0.Add(40 * time.Second))
	if s.Window != 40*time.Second || s.Global.Delta[RecordsSent] != 40 {
		t.Fatalf("window %v delta %d", s.Window, s.Global.Delta[RecordsSent])
	}
	if s.Global.Max[MaxLatency] != 50 {
		t.Fatalf("max left the window too early: %d", s.Global.Max[MaxLatency])
	}

	// 75 s in: points at 0 and 40; window from 0. Then a point at 75
	// replaces the one at 0.
	r.Global.Add(RecordsSent, 5)
	r.Snapshot(t0.Add(75 * time.Second))
	// 80 s in: the window starts at 40 s; the max seen before 40 s is gone.
	s = r.Snapshot(t0.Add(80 * time.Second))
	if s.Window != 40*time.Second {
		t.Fatalf("window %v, want 40s", s.Window)
	}
	if got := s.Global.Delta[RecordsSent]; got != 5 {
		t.Fatalf("delta over the window %d, want 5", got)
	}
	if got := s.Global.Total[RecordsSent]; got != 45 {
		t.Fatalf("total %d, want 45", got)
	}
	if got := s.Global.Max[MaxLatency]; got != 0 {
		t.Fatalf("max %d, want 0 once its interval left the window", got)
	}
}

func TestNewTopicInWindowCountsFromZero(t *testing.T) {
	t0 := time.Unix(0, 0)
	r := NewRegistry(t0, time.Second)
	r.Snapshot(t0.Add(2 * time.Second)) // a point without topic "late"
	r.Topic("late").Add(TopicBytes, 9)
	s := r.Snapshot(t0.Add(3 * time.Second))
	if got := s.Topics["late"].Delta[TopicBytes]; got != 9 {
		t.Fatalf("delta %d, want 9", got)
	}
}

func TestConcurrentWritersAndSnapshots(t *testing.T) {
	r := NewRegistry(time.Now(), time.Millisecond)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				r.Global.Add(RecordsSent, 1)
				r.Global.Max(MaxBatchSize, int64(i))
				r.Topic([]string{"x", "y"}[w%2]).Add(TopicRecordsSent, 1)
				r.Node(int32(w)).Add(NodeRequests, 1)
			}
		}()
	}
	var maxSeen int64
	for range 50 {
		s := r.Snapshot(time.Now())
		maxSeen = max(maxSeen, s.Global.Max[MaxBatchSize])
	}
	wg.Wait()
	s := r.Snapshot(time.Now())
	maxSeen = max(maxSeen, s.Global.Max[MaxBatchSize])
	if s.Global.Total[RecordsSent] != 4000 {
		t.Fatalf("total %d", s.Global.Total[RecordsSent])
	}
	if s.Topics["x"].Total[TopicRecordsSent]+s.Topics["y"].Total[TopicRecordsSent] != 4000 {
		t.Fatal("topic totals")
	}
	if maxSeen != 999 {
		t.Fatalf("max %d, want 999", maxSeen)
	}
}

func BenchmarkBatchCounting(b *testing.B) {
	r := NewRegistry(time.Now(), DefaultSample)
	b.ReportAllocs()
	for i := range b.N {
		tp := r.Topic("orders")
		tp.Add(TopicRecordsSent, 100)
		tp.Add(TopicBytes, 16000)
		tp.Add(TopicBatches, 1)
		tp.Add(TopicCompressionSum, 1e6)
		r.Global.Max(MaxBatchSize, int64(i&1023))
	}
}
