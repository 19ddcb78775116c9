package producer_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tributary-go/tributary/internal/kafkatest"
	"github.com/tributary-go/tributary/producer"
)

// realRecords returns n records for partition-explicit sends to topic
// covering keys, null and empty keys and values, headers (with null and
// empty values) and explicit timestamps. The timestamps are recent: older
// than the topic's retention.ms (7 days), Kafka would roll the segment and
// delete the records as soon as they arrive.
func realRecords(topic string, partitions int32, n int) []*producer.Record {
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	recs := make([]*producer.Record, n)
	for i := range recs {
		r := &producer.Record{
			Topic:        topic,
			Partition:    int32(i) % partitions,
			UsePartition: true,
			Key:          []byte(fmt.Sprintf("key-%d", i)),
			Value:        []byte(fmt.Sprintf("value %d: \t tab, unicode é", i)),
			Timestamp:    base.Add(time.Duration(i) * time.Millisecond),
		}
		switch i % 5 {
		case 1:
			r.Key = nil // null key
		case 2:
			r.Value = nil // null value (tombstone)
		case 3:
			r.Key, r.Value = []byte{}, []byte{} // empty, not null
		case 4:
			r.Headers = []producer.Header{
				{Key: "h1", Value: []byte("v1")},
				{Key: "h-null", Value: nil},
				{Key: "h-empty", Value: []byte{}},
				{Key: "h1", Value: []byte("repeated")},
			}
		}
		recs[i] = r
	}
	return recs
}

// checkConsumed compares what ConsoleConsumer read with what was sent and
// acknowledged (partition and offset from the producer's metadata).
func checkConsumed(t *testing.T, sent []*producer.Record, mds []producer.RecordMetadata, got []kafkatest.Consumed) {
	t.Helper()
	type pos struct {
		p int32
		o int64
	}
	byPos := map[pos]kafkatest.Consumed{}
	for _, g := range got {
		byPos[pos{g.Partition, g.Offset}] = g
	}
	for i, r := range sent {
		g, ok := byPos[pos{mds[i].Partition, mds[i].Offset}]
		if !ok {
			t.Errorf("record %d: acknowledged at %d/%d, not read back", i, mds[i].Partition, mds[i].Offset)
			continue
		}
		if g.Partition != r.Partition {
			t.Errorf("record %d: partition %d, sent to %d", i, g.Partition, r.Partition)
		}
		if !sameBytes(g.Key, r.Key) || !sameBytes(g.Value, r.Value) {
			t.Errorf("record %d: key %s value %s, want key %s value %s", i, show(g.Key), show(g.Value), show(r.Key), show(r.Value))
		}
		if g.TimestampType != "CreateTime" || g.Timestamp != r.Timestamp.UnixMilli() {
			t.Errorf("record %d: timestamp %s:%d, want CreateTime:%d", i, g.TimestampType, g.Timestamp, r.Timestamp.UnixMilli())
		}
		var want []kafkatest.Header
		for _, h := range r.Headers {
			want = append(want, kafkatest.Header{Key: h.Key, Value: h.Value})
		}
		if !slices.EqualFunc(g.Headers, want, func(a, b kafkatest.Header) bool {
			return a.Key == b.Key && sameBytes(a.Value, b.Value)
		}) {
			t.Errorf("record %d: headers %v, want %v", i, g.Headers, want)
		}
	}
}

// sameBytes is bytes.Equal that also tells null from empty.
func sameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

func show(b []byte) string {
	if b == nil {
		return "null"
	}
	return fmt.Sprintf("%q", b)
}

// TestKafkaAcks sends records with acks=0, 1 and all (idempotent) and
// reads them back with Kafka's ConsoleConsumer: keys, null and empty keys
// and values, headers and timestamps arrive intact.
func TestKafkaAcks(t *testing.T) {
	t.Parallel() // real-Kafka tests overlap each other only: they start after the serial (leakcheck) tests
	c := kafkatest.Shared(t)
	for _, tc := range []struct {
		name string
		acks producer.Acks
	}{{"acks=0", producer.AcksNone}, {"acks=1", producer.AcksLeader}, {"acks=all", producer.AcksAll}} {
		t.Run(tc.name, func(t *testing.T) {
			const partitions, n = 3, 60
			topic := realTopic(t, c, partitions)
			// Idempotence needs acks=all; off explicitly for 0 and 1.
			p := realProducer(t, c, producer.WithAcks(tc.acks), producer.WithIdempotence(tc.acks == producer.AcksAll),
				producer.WithLinger(5*time.Millisecond))
			recs := realRecords(topic, partitions, n)
			began := time.Now()
			mds := sendAll(t, p, recs)
			t.Logf("%s: %d records acknowledged in %s", tc.name, n, time.Since(began).Round(time.Millisecond))
			got := consume(t, c, topic, n, false)
			if tc.acks == producer.AcksNone {
				// No offsets come back with acks=0 (-1); the partition's
				// records are in send order, so number them.
				next := map[int32]int64{}
				for i := range mds {
					if mds[i].Offset != -1 {
						t.Errorf("acks=0 record %d: offset %d, want -1", i, mds[i].Offset)
					}
					mds[i].Offset = next[recs[i].Partition]
					next[recs[i].Partition]++
				}
			}
			checkConsumed(t, recs, mds, got)
		})
	}
}

// TestKafkaCompression sends with every codec and has Kafka's
// ConsoleConsumer decompress the batches; DumpLogSegments confirms each
// batch on disk carries the codec.
func TestKafkaCompression(t *testing.T) {
	t.Parallel() // real-Kafka tests overlap each other only: they start after the serial (leakcheck) tests
	c := kafkatest.Shared(t)
	for _, codec := range []string{"gzip", "snappy", "lz4", "zstd"} {
		t.Run(codec, func(t *testing.T) {
			const n = 500
			topic := realTopic(t, c, 1)
			p := realProducer(t, c, producer.WithCompression(codec), producer.WithLinger(20*time.Millisecond))
			recs := realRecords(topic, 1, n)
			for i, r := range recs {
				if r.Value != nil && len(r.Value) > 0 {
					// Compressible and large enough to span several batches.
					r.Value = bytes.Repeat([]byte(fmt.Sprintf("%s record %d ", codec, i)), 20)
				}
			}
			mds := sendAll(t, p, recs)
			got := consume(t, c, topic, n, false)
			checkConsumed(t, recs, mds, got)

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			batches, err := c.DumpLogSegments(ctx, c.Nodes[0].ID, topic, 0)
			if err != nil {
				t.Fatal(err)
			}
			records := 0
			for _, b := range batches {
				records += b.Count
				if b.Codec != codec {
					t.Errorf("batch at offset %d: codec %q, want %q (%s)", b.BaseOffset, b.Codec, codec, b.Line)
				}
			}
			if records != n {
				t.Errorf("DumpLogSegments shows %d records in %d batches, want %d", records, len(batches), n)
			}
			t.Logf("%s: %d records in %d batches, every batch %s on disk", codec, records, len(batches), codec)
		})
	}
}
