package workload

import (
	"testing"
	"time"
)

func TestScalingScenarios(t *testing.T) {
	var got []int
	for _, s := range All(1) {
		if s.Group != "scaling" {
			continue
		}
		got = append(got, s.Partitions)
		if s.Keys != 100_000 || s.Acks != 1 || s.Linger != 5*time.Millisecond || s.BatchBytes != 64<<10 ||
			s.BufferMemory() != 32<<20 || s.Senders() != 1 || s.Idempotent {
			t.Errorf("%s: settings %+v, want keyed 100,000, acks=1, linger 5ms, 64 KiB, 32 MiB, one goroutine", s.Name, s)
		}
	}
	if want := []int{16, 256, 1024, 4096}; len(got) != len(want) {
		t.Fatalf("scaling partitions %v, want %v", got, want)
	} else {
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("scaling partitions %v, want %v", got, want)
			}
		}
	}
}

func TestOptionalClient(t *testing.T) {
	s, err := Find("scale-4096", 1)
	if err != nil {
		t.Fatal(err)
	}
	if s.RunsClient("kafka-go", "all") || !s.RunsClient("kafka-go", "tributary,kafka-go") || !s.RunsClient("sarama", "all") {
		t.Error("kafka-go should run the scaling scenarios only when named")
	}
}

func TestSelected(t *testing.T) {
	s, err := Find("scale-1024", 1)
	if err != nil {
		t.Fatal(err)
	}
	for list, want := range map[string]bool{
		"all": true, "scaling": true, "scale-1024": true, "headline, scale-1024": true,
		"scale-16": false, "at-rest": false, "": false,
	} {
		if got := s.Selected(list); got != want {
			t.Errorf("Selected(%q) = %v, want %v", list, got, want)
		}
	}
}

func TestRestScenarios(t *testing.T) {
	for name, want := range map[string][2]int{"rest-1": {1, 1}, "rest-50": {50, 1}, "rest-200-topics": {1, 200}} {
		s, err := Find(name, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Rest || s.Producers != want[0] || len(s.RestTopics()) != want[1] {
			t.Errorf("%s: rest %v, %d producers, %d topics; want %d and %d", name, s.Rest, s.Producers, len(s.RestTopics()), want[0], want[1])
		}
		if s.RunsClient("sarama", "all") || !s.RunsClient("tributary", "all") || !s.RunsClient(NullClient, "tributary") {
			t.Errorf("%s: runs the wrong clients", name)
		}
	}
	seen := map[string]bool{}
	s, _ := Find("rest-200-topics", 1)
	for _, n := range s.RestTopics() {
		if seen[n] {
			t.Fatalf("topic %q twice", n)
		}
		seen[n] = true
	}
}

func TestOverrides(t *testing.T) {
	defer SetOverrides(Overrides{Linger: -1})
	if _, ok := Overridden(); ok {
		t.Fatal("overrides in force by default")
	}
	SetOverrides(Overrides{BufferBytes: 256 << 20, Linger: 50 * time.Millisecond})
	s, err := Find("scale-1024", 1)
	if err != nil {
		t.Fatal(err)
	}
	if s.BufferMemory() != 256<<20 || s.Linger != 50*time.Millisecond || s.BatchBytes != DefaultBatchBytes {
		t.Errorf("overridden scenario: buffer %d, linger %v, batch %d", s.BufferMemory(), s.Linger, s.BatchBytes)
	}
	r, _ := Find("rest-1", 1)
	if r.BufferBytes != 0 || r.Linger != 0 {
		t.Errorf("at-rest scenario took the overrides: %+v", r)
	}
}

func TestRecordsPerBatch(t *testing.T) {
	if got := (Result{SinkCount: 100, SinkBatches: 8}).RecordsPerBatch(); got != 12.5 {
		t.Errorf("RecordsPerBatch = %v, want 12.5", got)
	}
	if got := (Result{SinkCount: 100}).RecordsPerBatch(); got != 0 {
		t.Errorf("RecordsPerBatch with no batches = %v, want 0", got)
	}
}
