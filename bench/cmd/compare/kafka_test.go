package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/tributary-go/tributary/bench/internal/workload"
)

func TestParsePerfTotal(t *testing.T) {
	out := `249766 records sent, 49943.2 records/sec (4.76 MB/sec), 342.1 ms avg latency, 1050.0 ms max latency.
1000000 records sent, 171821.305842 records/sec (16.39 MB/sec), 95.39 ms avg latency, 641.00 ms max latency, 73 ms 50th, 243 ms 95th, 370 ms 99th, 623 ms 99.9th.
`
	got, err := parsePerfTotal(out)
	if err != nil {
		t.Fatal(err)
	}
	want := perfTotal{Records: 1000000, RecordsPerSec: 171821.305842, MBPerSec: 16.39, AvgMs: 95.39, MaxMs: 641, P50: 73, P95: 243, P99: 370, P999: 623}
	if got != want {
		t.Errorf("parsePerfTotal = %+v, want %+v", got, want)
	}
	if _, err := parsePerfTotal(strings.SplitN(out, "\n", 2)[0]); err == nil {
		t.Error("parsePerfTotal accepted output without a summary line")
	}
}

func TestParseDump(t *testing.T) {
	out := `Dumping /tmp/x/node1/data/t-0/00000000000000000000.log
Log starting offset: 0
baseOffset: 0 lastOffset: 9 count: 10 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 partitionLeaderEpoch: 0 isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: 1 size: 300 magic: 2 compresscodec: none crc: 1 isvalid: true
baseOffset: 10 lastOffset: 10 count: 1 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 partitionLeaderEpoch: 0 isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty position: 300 CreateTime: 1 size: 80 magic: 2 compresscodec: none crc: 2 isvalid: true
Dumping /tmp/x/node1/data/t-1/00000000000000000000.log
Log starting offset: 0
baseOffset: 0 lastOffset: 4 count: 5 baseSequence: 0 lastSequence: 4 producerId: 7 producerEpoch: 0 partitionLeaderEpoch: 0 isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: 1 size: 200 magic: 2 compresscodec: none crc: 3 isvalid: true
`
	b, r, err := parseDump(out)
	if err != nil || b != 3 || r != 16 {
		t.Errorf("parseDump = %d batches, %d records, %v; want 3, 16, nil", b, r, err)
	}
	if _, _, err := parseDump("baseOffset: 0 lastOffset: 9 size: 300\n"); err == nil {
		t.Error("parseDump accepted a batch line without a count")
	}
}

func TestKafkaClientNames(t *testing.T) {
	got, err := kafkaClientNames("franz-go,java,tributary")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"tributary", "franz-go", workload.NullClient, javaClient}
	if !slices.Equal(got, want) {
		t.Errorf("kafkaClientNames = %v, want %v", got, want)
	}
	if _, err := kafkaClientNames("tributary,nope"); err == nil {
		t.Error("kafkaClientNames accepted an unknown client")
	}
}

func TestJavaSkip(t *testing.T) {
	for _, s := range workload.All(1) {
		skip := javaSkip(s) != ""
		if want := s.Keys > 0 || s.JSON || s.Senders() > 1; skip != want {
			t.Errorf("%s: javaSkip %q, want skipped=%v", s.Name, javaSkip(s), want)
		}
	}
	s, err := workload.Find("idempotent", 1)
	if err != nil {
		t.Fatal(err)
	}
	props := javaProps(s, []string{"a:1", "b:2"})
	for _, p := range []string{"bootstrap.servers=a:1,b:2", "acks=all", "enable.idempotence=true", "linger.ms=5", "batch.size=65536"} {
		if !slices.Contains(props, p) {
			t.Errorf("javaProps lacks %q: %v", p, props)
		}
	}
}
