package kafkatest_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/tributary-go/tributary/internal/kafkatest"
)

func TestMain(m *testing.M) { os.Exit(kafkatest.Main(m)) }

// TestKafkaClusterRoundTrip writes with franz-go over PLAINTEXT and
// SASL_SSL (SCRAM-SHA-512, trusting CAPEM) and reads everything back with
// Apache Kafka's ConsoleConsumer, checking keys, values, nulls, headers and
// timestamps survive the parser.
func TestKafkaClusterRoundTrip(t *testing.T) {
	c := kafkatest.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// A topic of its own per run: the cluster is shared by every run of
	// -count=N, and a second CreateTopic of one name fails.
	topic := fmt.Sprintf("kafkatest-roundtrip-%d", time.Now().UnixNano())
	if err := c.CreateTopic(ctx, topic, 2, 3, nil); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.CAPEM()) {
		t.Fatal("CAPEM holds no certificate")
	}
	sasl, err := kgo.NewClient(kgo.SeedBrokers(c.SASLBootstrap()...),
		kgo.DialTLSConfig(&tls.Config{RootCAs: pool}), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.SASL(scram.Auth{User: kafkatest.Admin.Name, Pass: kafkatest.Admin.Password}.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer sasl.Close()
	plain, err := c.Client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()

	ts := time.Now().Add(-time.Minute).Truncate(time.Millisecond) // within retention.ms
	want := []*kgo.Record{
		{Topic: topic, Partition: 0, Key: []byte("k1"), Value: []byte("v:1\twith tab"), Timestamp: ts,
			Headers: []kgo.RecordHeader{{Key: "h1", Value: []byte("a")}, {Key: "h2", Value: []byte("b:c")}}},
		{Topic: topic, Partition: 1, Key: nil, Value: []byte("")},
		{Topic: topic, Partition: 1, Key: []byte(""), Value: nil},
	}
	for i, r := range want {
		cl := plain
		if i%2 == 1 {
			cl = sasl
		}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	began := time.Now()
	got, err := c.ConsoleConsume(ctx, topic, kafkatest.ConsumeOptions{Max: len(want)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ConsoleConsumer read %d records in %s", len(got), time.Since(began).Round(time.Millisecond))
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Partition != w.Partition || !bytes.Equal(g.Key, w.Key) || (g.Key == nil) != (w.Key == nil) ||
			!bytes.Equal(g.Value, w.Value) || (g.Value == nil) != (w.Value == nil) {
			t.Errorf("record %d: got %+v, want partition %d key %q value %q", i, g, w.Partition, w.Key, w.Value)
		}
		if g.TimestampType != "CreateTime" || (i == 0 && g.Timestamp != ts.UnixMilli()) {
			t.Errorf("record %d: timestamp %s:%d, want CreateTime:%d", i, g.TimestampType, g.Timestamp, ts.UnixMilli())
		}
		if fmt.Sprint(g.Headers) != fmt.Sprint(headers(w.Headers)) {
			t.Errorf("record %d: headers %v, want %v", i, g.Headers, headers(w.Headers))
		}
	}
}

func headers(hs []kgo.RecordHeader) []kafkatest.Header {
	var out []kafkatest.Header
	for _, h := range hs {
		out = append(out, kafkatest.Header{Key: h.Key, Value: h.Value})
	}
	return out
}
