package producer

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-go/tributary/protocol"
)

// recordingHook implements every hook interface and keeps the events.
type recordingHook struct {
	mu      sync.Mutex
	written []BatchInfo
	done    []RequestInfo
	retries []BatchInfo
	errs    []BatchInfo
	acked   []BatchInfo
}

func (h *recordingHook) OnBatchWritten(b BatchInfo) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.written = append(h.written, b)
}

func (h *recordingHook) OnRequestDone(r RequestInfo) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.done = append(h.done, r)
}

func (h *recordingHook) OnRetry(b BatchInfo, _ error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.retries = append(h.retries, b)
}

func (h *recordingHook) OnError(b BatchInfo, _ error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.errs = append(h.errs, b)
}

func (h *recordingHook) OnBatchAcked(b BatchInfo, _ int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.acked = append(h.acked, b)
}

// TestMetricsKnownCounts sends 10 records to each of 3 partitions on one
// broker and flushes, which makes exactly one Produce request of three
// batches; the figures are checked against those counts and against the
// batch sizes the broker saw (an independent view of the bytes).
func TestMetricsKnownCounts(t *testing.T) {
	checkNoLeaks(t)
	const topic = "m"
	c := newCluster(t, 1, 3, topic)
	obs := observeProduce(c)
	h := &recordingHook{}
	p := startProducer(t, c, WithLinger(time.Hour), WithHooks(h))
	ctx := context.Background()

	var futures []*Future
	for part := range int32(3) {
		for i := range 10 {
			futures = append(futures, p.Send(ctx, &Record{Topic: topic, Partition: part, UsePartition: true, Value: []byte("value-" + strconv.Itoa(i))}))
		}
	}
	require.NoError(t, p.Flush(ctx))
	for _, f := range futures {
		_, err := f.Get(ctx)
		require.NoError(t, err)
	}

	var wireBytes, wireMax int
	obs.mu.Lock()
	require.Len(t, obs.reqs, 1, "one Produce request")
	for _, tp := range obs.reqs[0].Topics {
		for _, pp := range tp.Partitions {
			wireBytes += len(pp.Records)
			wireMax = max(wireMax, len(pp.Records))
		}
	}
	obs.mu.Unlock()

	m := p.Metrics()
	assert.EqualValues(t, 30, m.RecordSendTotal)
	assert.EqualValues(t, 0, m.RecordErrorTotal)
	assert.EqualValues(t, 0, m.RecordRetryTotal)
	assert.EqualValues(t, 1, m.RequestTotal)
	assert.EqualValues(t, 0, m.RequestsInFlight)
	assert.EqualValues(t, wireBytes, m.ByteTotal)
	assert.EqualValues(t, wireMax, m.BatchSizeMax)
	assert.InDelta(t, float64(wireBytes)/3, m.BatchSizeAvg, 1e-9)
	assert.InDelta(t, 30, m.RecordsPerRequestAvg, 1e-9)
	assert.InDelta(t, 1, m.CompressionRateAvg, 1e-9, "no compression")
	assert.InDelta(t, 30/m.Window.Seconds(), m.RecordSendRate, 1e-6)
	assert.Positive(t, m.RequestLatencyAvg)
	assert.GreaterOrEqual(t, m.RequestLatencyMax, m.RequestLatencyAvg)
	assert.Positive(t, m.RecordQueueTimeAvg)
	assert.GreaterOrEqual(t, m.RecordQueueTimeMax, m.RecordQueueTimeAvg)
	assert.Positive(t, m.MetadataWaitTime, "the first Send waited for metadata")
	assert.Positive(t, m.FlushTime)
	assert.EqualValues(t, 32<<20, m.BufferTotalBytes)
	assert.Eventually(t, func() bool { return p.Metrics().BufferAvailableBytes == m.BufferTotalBytes }, 5*time.Second, time.Millisecond,
		"every batch returns its memory")
	assert.Less(t, m.MetadataAge, time.Minute)

	require.Contains(t, m.Topics, topic)
	tm := m.Topics[topic]
	assert.EqualValues(t, 30, tm.RecordSendTotal)
	assert.EqualValues(t, wireBytes, tm.ByteTotal)
	assert.InDelta(t, 1, tm.CompressionRate, 1e-9)
	require.Len(t, m.Nodes, 1)
	for _, nm := range m.Nodes {
		assert.EqualValues(t, 1, nm.RequestTotal)
		assert.Positive(t, nm.RequestLatencyAvg)
	}

	mp := m.Map()
	assert.EqualValues(t, 30, mp["record-send-total"])
	assert.EqualValues(t, 30, mp["record-send-total{topic=m}"])
	assert.EqualValues(t, wireBytes, mp["byte-total{topic=m}"])
	for id := range m.Nodes {
		assert.EqualValues(t, 1, mp["request-total{node-id=node-"+strconv.Itoa(int(id))+"}"])
	}
	assert.InDelta(t, ms(m.RequestLatencyAvg), mp["request-latency-avg"], 1e-9)

	h.mu.Lock()
	defer h.mu.Unlock()
	assert.Len(t, h.written, 3)
	assert.Len(t, h.acked, 3)
	require.Len(t, h.done, 1)
	assert.Equal(t, 30, h.done[0].Records)
	assert.Equal(t, 3, h.done[0].Batches)
	assert.Equal(t, wireBytes, h.done[0].Bytes)
	assert.Positive(t, h.done[0].Latency)
	for _, b := range h.written {
		assert.Equal(t, 10, b.Records)
		assert.Equal(t, 1, b.Attempt)
		assert.Equal(t, b.Bytes, b.UncompressedBytes)
	}
}

// TestMetricsRetriesAndErrors injects two retriable faults, then a fatal
// one, then a record that fails in Send, and checks every count.
func TestMetricsRetriesAndErrors(t *testing.T) {
	checkNoLeaks(t)
	const topic = "r"
	c := newCluster(t, 1, 1, topic)
	h := &recordingHook{}
	p := startProducer(t, c, WithLinger(time.Hour), WithRetryBackoff(time.Millisecond, 5*time.Millisecond), WithHooks(h))
	ctx := context.Background()
	_, err := p.PartitionsFor(ctx, topic) // metadata first, so the faults hit Produce only
	require.NoError(t, err)

	c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotLeaderForPartition, Count: 2})
	var futures []*Future
	for i := range 5 {
		futures = append(futures, p.Send(ctx, &Record{Topic: topic, Value: []byte{byte(i)}}))
	}
	require.NoError(t, p.Flush(ctx))
	for _, f := range futures {
		_, err := f.Get(ctx)
		require.NoError(t, err)
	}
	m := p.Metrics()
	assert.EqualValues(t, 15, m.RecordSendTotal, "5 records, 3 attempts")
	assert.EqualValues(t, 10, m.RecordRetryTotal)
	assert.EqualValues(t, 0, m.RecordErrorTotal)
	assert.EqualValues(t, 3, m.RequestTotal)
	assert.EqualValues(t, 10, m.Topics[topic].RecordRetryTotal)

	c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.InvalidRecord, Count: 1})
	futures = futures[:0]
	for i := range 4 {
		futures = append(futures, p.Send(ctx, &Record{Topic: topic, Value: []byte{byte(i)}}))
	}
	require.NoError(t, p.Flush(ctx))
	for _, f := range futures {
		_, err := f.Get(ctx)
		require.ErrorIs(t, err, protocol.ErrInvalidRecord)
	}
	_, err = p.Send(ctx, &Record{Topic: topic, Partition: 7, UsePartition: true}).Get(ctx)
	require.ErrorIs(t, err, ErrInvalidPartition)

	m = p.Metrics()
	assert.EqualValues(t, 19, m.RecordSendTotal)
	assert.EqualValues(t, 10, m.RecordRetryTotal)
	assert.EqualValues(t, 5, m.RecordErrorTotal, "4 in a failed batch and 1 at Send")
	assert.EqualValues(t, 4, m.Topics[topic].RecordErrorTotal, "per topic: batch failures only, as in Java")
	assert.EqualValues(t, 4, m.RequestTotal)
	assert.EqualValues(t, 0, m.RequestsInFlight)
	assert.Positive(t, m.RecordErrorRate)
	assert.Positive(t, m.RecordRetryRate)

	h.mu.Lock()
	defer h.mu.Unlock()
	require.Len(t, h.retries, 2)
	assert.Equal(t, 5, h.retries[0].Records)
	assert.Equal(t, 1, h.retries[0].Attempt)
	assert.Equal(t, 2, h.retries[1].Attempt)
	require.Len(t, h.errs, 1)
	assert.Equal(t, 4, h.errs[0].Records)
	assert.Len(t, h.written, 4, "three attempts of the first batch, one of the second")
}

func TestMetricsCompressionRate(t *testing.T) {
	const topic = "z"
	c := newCluster(t, 1, 1, topic)
	p := startProducer(t, c, WithLinger(time.Hour), WithCompression("lz4"))
	ctx := context.Background()
	value := make([]byte, 1000) // zeros compress well
	for range 20 {
		p.Send(ctx, &Record{Topic: topic, Value: value})
	}
	require.NoError(t, p.Flush(ctx))
	m := p.Metrics()
	assert.Greater(t, m.CompressionRateAvg, 0.0)
	assert.Less(t, m.CompressionRateAvg, 0.2)
	assert.InDelta(t, m.CompressionRateAvg, m.Topics[topic].CompressionRate, 1e-9)
	assert.Less(t, m.ByteTotal, int64(20*1000/5))
}

type panickyHook struct{}

func (panickyHook) OnBatchWritten(BatchInfo) { panic("boom") }

func TestHookPanicIsRecovered(t *testing.T) {
	c := newCluster(t, 1, 1, "h")
	p := startProducer(t, c, WithHooks(panickyHook{}))
	_, err := p.Send(context.Background(), &Record{Topic: "h", Value: []byte("x")}).Get(context.Background())
	require.NoError(t, err)
}

func TestWithHooksRejectsNonHooks(t *testing.T) {
	_, err := New(WithBootstrapServers("localhost:9092"), WithHooks(42))
	var ce *ConfigError
	require.True(t, errors.As(err, &ce), "%v", err)
	assert.Equal(t, "hooks", ce.Key)
	assert.Contains(t, err.Error(), "int")
}

func TestMetricListAndKeys(t *testing.T) {
	m := Metrics{
		RecordSendTotal: 3,
		Topics:          map[string]TopicMetrics{"b": {RecordSendTotal: 2}, "a": {RecordSendTotal: 1}},
		Nodes:           map[int32]NodeMetrics{2: {RequestTotal: 5, RequestLatencyAvg: 1500 * time.Microsecond}},
	}
	l := m.List()
	require.Len(t, l, len(producerMetrics)+2*len(topicMetrics)+len(nodeMetrics))
	assert.Equal(t, Metric{Group: GroupProducer, Name: "record-send-total", Help: producerMetrics[0].help, Node: -1, Value: 3}, l[0])
	first := l[len(producerMetrics)]
	assert.Equal(t, "a", first.Topic, "topics sorted")
	assert.True(t, first.Cumulative())
	mp := m.Map()
	assert.EqualValues(t, 2, mp["record-send-total{topic=b}"])
	assert.EqualValues(t, 5, mp["request-total{node-id=node-2}"])
	assert.InDelta(t, 1.5, mp["request-latency-avg{node-id=node-2}"], 1e-9, "milliseconds, as in Java")
	assert.False(t, Metric{Name: "record-send-rate"}.Cumulative())
	assert.Len(t, MetricNames(GroupTopic), len(topicMetrics))
	assert.Nil(t, MetricNames("nope"))
	seen := map[string]bool{}
	for _, g := range []string{GroupProducer, GroupTopic, GroupNode} {
		for _, d := range MetricNames(g) {
			k := g + ":" + d.Name
			assert.False(t, seen[k], "duplicate %s", k)
			seen[k] = true
			assert.NotEmpty(t, d.Help)
		}
	}
}
