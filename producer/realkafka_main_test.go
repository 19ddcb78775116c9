package producer_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tributary-go/tributary/internal/kafkatest"
	"github.com/tributary-go/tributary/producer"
)

// The TestKafka... tests run against a real Apache Kafka cluster
// (internal/kafkatest): the one make test starts, or one this binary
// starts and Main stops. Each reads back with Kafka's own ConsoleConsumer.

func TestMain(m *testing.M) {
	code := kafkatest.Main(m)
	stopToxiCluster() // the toxiproxied cluster of realkafka_toxi_helpers_test.go, if a test started it
	os.Exit(code)
}

var topicSeq atomic.Int64

// realTopic returns a topic name unique to this test and run (the shared
// cluster may outlive one go test run), created with partitions
// partitions and replication factor 3.
func realTopic(t testing.TB, c *kafkatest.Cluster, partitions int32) string {
	t.Helper()
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '-'
	}, t.Name())
	topic := fmt.Sprintf("%s-%d-%d", name, time.Now().UnixNano()%1e9, topicSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.CreateTopic(ctx, topic, partitions, 3, nil); err != nil {
		t.Fatal(err)
	}
	return topic
}

// realProducer returns a producer on the cluster's PLAINTEXT listener with
// opts added, closed when the test ends.
func realProducer(t testing.TB, c *kafkatest.Cluster, opts ...producer.Option) *producer.Producer {
	t.Helper()
	all := append([]producer.Option{
		producer.WithBootstrapServers(c.Bootstrap()...),
		producer.WithLogger(testLogger(t)),
	}, opts...)
	p, err := producer.New(all...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeProducer(t, p) })
	return p
}

func closeProducer(t testing.TB, p *producer.Producer) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// testLogger sends the producer's warnings to the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// testWriter sends a producer's log lines to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Logf("%s", strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// consume reads want records of topic with Kafka's ConsoleConsumer and
// fails the test unless exactly want arrived.
func consume(t testing.TB, c *kafkatest.Cluster, topic string, want int, readCommitted bool) []kafkatest.Consumed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	began := time.Now()
	got, err := c.ConsoleConsume(ctx, topic, kafkatest.ConsumeOptions{Max: want, ReadCommitted: readCommitted, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ConsoleConsumer (Kafka %s) read %d records of %s in %s", c.Version, len(got), topic, time.Since(began).Round(time.Millisecond))
	if len(got) != want {
		t.Fatalf("ConsoleConsumer read %d records of %s, want %d", len(got), topic, want)
	}
	return got
}

// sendAll sends recs and waits for every future, failing the test on the
// first error.
func sendAll(t testing.TB, p *producer.Producer, recs []*producer.Record) []producer.RecordMetadata {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	futures := make([]*producer.Future, len(recs))
	for i, r := range recs {
		futures[i] = p.Send(ctx, r)
	}
	mds := make([]producer.RecordMetadata, len(recs))
	for i, f := range futures {
		md, err := f.Get(ctx)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		mds[i] = md
	}
	return mds
}
