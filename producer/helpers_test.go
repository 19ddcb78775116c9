package producer

import (
	"context"
	"github.com/tributary-go/tributary/internal/leakcheck"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// newCluster starts a kfake cluster of brokers with topic seeded at
// partitions, closed when the test ends.
func newCluster(t testing.TB, brokers int, partitions int32, topics ...string) *kfake.Cluster {
	t.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(brokers)}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(partitions, topics...))
	}
	c, err := kfake.NewCluster(opts...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// startProducer returns a producer for c with test-friendly defaults, closed
// when the test ends.
func startProducer(t testing.TB, c *kfake.Cluster, opts ...Option) *Producer {
	t.Helper()
	all := append([]Option{WithBootstrapServers(c.ListenAddrs()...), WithMaxBlock(10 * time.Second), WithLogger(testLogger(t))}, opts...)
	p, err := New(all...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	return p
}

// consumeAll reads every record of topic with an independent client
// (franz-go's kgo), waiting until want records arrived.
func consumeAll(t testing.TB, c *kfake.Cluster, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(c.ListenAddrs()...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100*time.Millisecond),
	)
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records from %s before timeout", len(out), want, topic)
		}
		for _, e := range fs.Errors() {
			t.Logf("fetch error: %v", e.Err)
		}
		out = append(out, fs.Records()...)
	}
	// A short extra poll catches duplicates beyond want.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	out = append(out, cl.PollFetches(ctx2).Records()...)
	return out
}

// produceObserver records every Produce request the cluster receives
// without changing how it is handled.
type produceObserver struct {
	mu   sync.Mutex
	reqs []*kmsg.ProduceRequest
}

func observeProduce(c *kfake.Cluster) *produceObserver {
	o := &produceObserver{}
	c.ControlKey(int16(kmsg.Produce), func(r kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		o.mu.Lock()
		o.reqs = append(o.reqs, r.(*kmsg.ProduceRequest))
		o.mu.Unlock()
		return nil, nil, false
	})
	return o
}

// batches returns every record batch seen, parsed by kmsg.
func (o *produceObserver) batches(t testing.TB) []kmsg.RecordBatch {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []kmsg.RecordBatch
	for _, r := range o.reqs {
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				var b kmsg.RecordBatch
				require.NoError(t, b.ReadFrom(p.Records))
				out = append(out, b)
			}
		}
	}
	return out
}

// checkNoLeaks fails the test if a goroutine of the library outlives it.
func checkNoLeaks(t *testing.T) {
	leakcheck.Check(t, "tributary/producer.(*", "tributary/sender.", "tributary/internal/conn.",
		"tributary/metadata.", "tributary/accumulator.", "tributary/internal/clock.", "tributary/internal/telemetry.")
}

// testLogger logs to stderr at the level in TRIBUTARY_TEST_LOG (debug,
// info, warn) and discards otherwise, so test output stays readable.
func testLogger(t testing.TB) *slog.Logger {
	var lvl slog.Level
	switch os.Getenv("TRIBUTARY_TEST_LOG") {
	case "debug":
		lvl = slog.LevelDebug
	case "info":
		lvl = slog.LevelInfo
	case "warn":
		lvl = slog.LevelWarn
	default:
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
}
