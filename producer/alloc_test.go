package producer

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/internal/fakebroker"
)

// sinkProducer returns a producer writing to an in-process sink broker,
// for allocation tests and benchmarks of the Send path.
func sinkProducer(tb testing.TB, opts ...Option) *Producer {
	tb.Helper()
	b, err := fakebroker.Start(fakebroker.Config{Brokers: 1, Topics: map[string]int32{"sink": 16}})
	require.NoError(tb, err)
	tb.Cleanup(b.Close)
	p, err := New(append([]Option{WithBootstrapServers(b.Addrs()...), WithLogger(testLogger(tb)),
		WithLinger(5 * time.Millisecond), WithBatchSize(64 << 10), WithAcks(AcksLeader), WithIdempotence(false)}, opts...)...)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = p.Close(context.Background()) })
	// Warm up: metadata, connections, pooled buffers.
	_, err = p.Send(context.Background(), &Record{Topic: "sink", Value: []byte("warm")}).Get(context.Background())
	require.NoError(tb, err)
	return p
}

// TestSendAllocs pins the hot path's allocations per record in steady
// state: none through SendCallback, one (the Future) through Send.
// Per-batch objects are shared by hundreds of records and round to zero.
func TestSendAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts need the full path")
	}
	p := sinkProducer(t)
	ctx := context.Background()
	rec := &Record{Topic: "sink", Key: nil, Value: make([]byte, 100)}
	cb := Callback(func(RecordMetadata, error) {})
	cbAllocs := testing.AllocsPerRun(20_000, func() { p.SendCallback(ctx, rec, cb) })
	futAllocs := testing.AllocsPerRun(20_000, func() { p.Send(ctx, rec) })
	require.NoError(t, p.Flush(ctx))
	t.Logf("allocations per record: SendCallback %.0f, Send %.0f", cbAllocs, futAllocs)
	assert.Equal(t, 0.0, cbAllocs, "SendCallback allocates nothing per record")
	assert.Equal(t, 1.0, futAllocs, "Send allocates only the Future")
}

// BenchmarkSendCallback measures the Send path into a sink broker.
func BenchmarkSendCallback(b *testing.B) {
	p := sinkProducer(b)
	ctx := context.Background()
	rec := &Record{Topic: "sink", Value: make([]byte, 100)}
	cb := Callback(func(RecordMetadata, error) {})
	b.ReportAllocs()
	b.SetBytes(100)
	for b.Loop() {
		p.SendCallback(ctx, rec, cb)
	}
	require.NoError(b, p.Flush(ctx))
}
