package producer

import (
	"context"
	"encoding/binary"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-go/tributary/internal/compress"
	"github.com/tributary-go/tributary/internal/fakebroker"
	"github.com/tributary-go/tributary/protocol"
)

// telemetryBroker answers kfake's GetTelemetrySubscriptions and
// PushTelemetry with a scripted subscription and records the pushes.
type telemetryBroker struct {
	mu     sync.Mutex
	subs   int
	pushes []*kmsg.PushTelemetryRequest
}

var telemetryInstance = [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

func observeTelemetry(c *kfake.Cluster, interval time.Duration, metrics ...string) *telemetryBroker {
	tb := &telemetryBroker{}
	c.ControlKey(int16(kmsg.GetTelemetrySubscriptions), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		resp := kreq.ResponseKind().(*kmsg.GetTelemetrySubscriptionsResponse)
		resp.ClientInstanceID = telemetryInstance
		resp.SubscriptionID = 3
		resp.AcceptedCompressionTypes = []int8{int8(compress.Zstd)}
		resp.PushIntervalMillis = int32(interval / time.Millisecond)
		resp.TelemetryMaxBytes = 1 << 20
		resp.RequestedMetrics = metrics
		tb.mu.Lock()
		tb.subs++
		tb.mu.Unlock()
		return resp, nil, true
	})
	c.ControlKey(int16(kmsg.PushTelemetry), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		tb.mu.Lock()
		tb.pushes = append(tb.pushes, kreq.(*kmsg.PushTelemetryRequest))
		tb.mu.Unlock()
		return kreq.ResponseKind(), nil, true
	})
	return tb
}

func (tb *telemetryBroker) counts() (subs, pushes int) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.subs, len(tb.pushes)
}

// pushedValues decodes a push's OTLP payload into metric name → value.
// It walks the protobuf wire format by field number alone:
// MetricsData.1 → ResourceMetrics.2 → ScopeMetrics.2 → Metric{1 name,
// 5 gauge | 7 sum} → 1 data point → 4 as_double (attributes are left out,
// so per-topic values of one name are summed).
func pushedValues(t *testing.T, p *kmsg.PushTelemetryRequest) map[string]float64 {
	t.Helper()
	raw, err := compress.Decompress(nil, compress.Codec(p.CompressionType), p.Metrics)
	require.NoError(t, err)
	out := map[string]float64{}
	for _, rm := range pbFields(t, raw, 1) {
		for _, sm := range pbFields(t, rm, 2) {
			for _, m := range pbFields(t, sm, 2) {
				name := string(pbFields(t, m, 1)[0])
				data := append(pbFields(t, m, 5), pbFields(t, m, 7)...)
				require.Len(t, data, 1, name)
				point := pbFields(t, data[0], 1)[0]
				v := pbFields(t, point, 4)
				require.Len(t, v, 1, name)
				out[name] += math.Float64frombits(binary.LittleEndian.Uint64(v[0]))
			}
		}
	}
	return out
}

// pbFields returns the raw values of field num in a protobuf message
// (length-delimited bodies, or the 8 bytes of a fixed64).
func pbFields(t *testing.T, b []byte, num uint64) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		require.Positive(t, n)
		b = b[n:]
		var v []byte
		switch key & 7 {
		case 0:
			_, n = binary.Uvarint(b)
			require.Positive(t, n)
			v, b = b[:n], b[n:]
		case 1:
			require.GreaterOrEqual(t, len(b), 8)
			v, b = b[:8], b[8:]
		case 2:
			l, n := binary.Uvarint(b)
			require.Positive(t, n)
			require.LessOrEqual(t, l, uint64(len(b)-n))
			v, b = b[n:n+int(l)], b[n+int(l):]
		default:
			t.Fatalf("wire type %d", key&7)
		}
		if key>>3 == num {
			out = append(out, v)
		}
	}
	return out
}

// TestTelemetryPushesProducerMetrics: against kfake answering with a
// subscription, the producer pushes the requested metrics under their
// KIP-714 names with the producer's values, and a terminating push on
// Close carries the final figures.
func TestTelemetryPushesProducerMetrics(t *testing.T) {
	checkNoLeaks(t)
	c := newCluster(t, 1, 2, "tel")
	tb := observeTelemetry(c, 50*time.Millisecond, "org.apache.kafka.producer.record.send.total", "org.apache.kafka.producer.topic.record.send.total", "org.apache.kafka.producer.request.latency")
	p := startProducer(t, c, WithLinger(0))
	ctx := context.Background()
	const n = 25
	for i := range n {
		_, err := p.Send(ctx, &Record{Topic: "tel", Value: []byte{byte(i)}}).Get(ctx)
		require.NoError(t, err)
	}
	id, err := p.ClientInstanceID(ctx)
	require.NoError(t, err)
	require.Equal(t, "AQIDBAUGBwgJCgsMDQ4PEA", id)
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, pushes := tb.counts()
		if pushes >= 2 {
			break
		}
		require.True(t, time.Now().Before(deadline), "no pushes within 30 s")
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, p.Close(ctx))
	tb.mu.Lock()
	defer tb.mu.Unlock()
	last := tb.pushes[len(tb.pushes)-1]
	require.True(t, last.Terminating, "the last push is the terminating one")
	for _, pr := range tb.pushes[:len(tb.pushes)-1] {
		require.False(t, pr.Terminating)
		require.Equal(t, telemetryInstance, pr.ClientInstanceID)
		require.Equal(t, int32(3), pr.SubscriptionID)
		require.Equal(t, int8(compress.Zstd), pr.CompressionType)
	}
	got := pushedValues(t, last)
	require.Equal(t, float64(n), got["org.apache.kafka.producer.record.send.total"])
	require.Equal(t, float64(n), got["org.apache.kafka.producer.topic.record.send.total"])
	require.Contains(t, got, "org.apache.kafka.producer.request.latency.avg")
	require.Contains(t, got, "org.apache.kafka.producer.request.latency.max")
	require.Positive(t, got["org.apache.kafka.producer.request.latency.max"])
	require.Len(t, got, 4, "only the requested prefixes: %v", got)
}

// TestTelemetryQuietWithoutMetrics: a subscription that requests nothing
// gives one GetTelemetrySubscriptions and no push, not even on Close.
func TestTelemetryQuietWithoutMetrics(t *testing.T) {
	checkNoLeaks(t)
	c := newCluster(t, 1, 1, "quiet")
	tb := observeTelemetry(c, 10*time.Minute)
	p := startProducer(t, c)
	ctx := context.Background()
	_, err := p.Send(ctx, &Record{Topic: "quiet", Value: []byte("v")}).Get(ctx)
	require.NoError(t, err)
	_, err = p.ClientInstanceID(ctx)
	require.NoError(t, err)
	require.NoError(t, p.Close(ctx))
	subs, pushes := tb.counts()
	require.Equal(t, 1, subs)
	require.Zero(t, pushes)
}

// TestTelemetryNotListed: a broker that does not list the telemetry APIs
// (no receiver, the common case) gets no telemetry request at all.
func TestTelemetryNotListed(t *testing.T) {
	checkNoLeaks(t)
	b, err := fakebroker.Start(fakebroker.Config{Brokers: 1, Topics: map[string]int32{"t": 1}})
	require.NoError(t, err)
	defer b.Close()
	p, err := New(WithBootstrapServers(b.Addrs()...), WithLogger(testLogger(t)))
	require.NoError(t, err)
	ctx := context.Background()
	_, err = p.Send(ctx, &Record{Topic: "t", Value: []byte("v")}).Get(ctx)
	require.NoError(t, err)
	require.NoError(t, p.Close(ctx))
	require.Zero(t, b.Requests(protocol.KeyGetTelemetrySubscriptions))
	require.Zero(t, b.Requests(protocol.KeyPushTelemetry))
	_, err = p.ClientInstanceID(ctx)
	require.ErrorIs(t, err, ErrTelemetryDisabled)
}

// TestTelemetryDisabled: enable.metrics.push=false (option or property)
// sends no telemetry request even to a broker with a subscription.
func TestTelemetryDisabled(t *testing.T) {
	checkNoLeaks(t)
	c := newCluster(t, 1, 1, "off")
	tb := observeTelemetry(c, 10*time.Millisecond, "*")
	for _, p := range []*Producer{
		startProducer(t, c, WithMetricsPush(false)),
		func() *Producer {
			p, err := NewFromProperties(map[string]string{"bootstrap.servers": c.ListenAddrs()[0], "enable.metrics.push": "false"})
			require.NoError(t, err)
			return p
		}(),
	} {
		ctx := context.Background()
		_, err := p.Send(ctx, &Record{Topic: "off", Value: []byte("v")}).Get(ctx)
		require.NoError(t, err)
		_, err = p.ClientInstanceID(ctx)
		require.ErrorIs(t, err, ErrTelemetryDisabled)
		require.NoError(t, p.Close(ctx))
	}
	subs, pushes := tb.counts()
	require.Zero(t, subs)
	require.Zero(t, pushes)
	_, err := NewFromProperties(map[string]string{"bootstrap.servers": "x:9092", "enable.metrics.push": "maybe"})
	require.ErrorContains(t, err, "enable.metrics.push")
}

// TestTelemetryNames pins the KIP-714 names of the standard producer
// metrics the producer has (KIP-714 "Standard producer metrics").
func TestTelemetryNames(t *testing.T) {
	for _, tt := range []struct{ group, name, want string }{
		{GroupProducer, "record-queue-time-avg", "org.apache.kafka.producer.record.queue.time.avg"},
		{GroupProducer, "record-queue-time-max", "org.apache.kafka.producer.record.queue.time.max"},
		{GroupProducer, "produce-throttle-time-avg", "org.apache.kafka.producer.produce.throttle.time.avg"},
		{GroupProducer, "produce-throttle-time-max", "org.apache.kafka.producer.produce.throttle.time.max"},
		{GroupNode, "request-latency-avg", "org.apache.kafka.producer.node.request.latency.avg"},
		{GroupNode, "request-latency-max", "org.apache.kafka.producer.node.request.latency.max"},
		{GroupTopic, "record-send-total", "org.apache.kafka.producer.topic.record.send.total"},
	} {
		require.Equal(t, tt.want, telemetryName(tt.group, tt.name))
	}
	m := telemetryMetrics(Metrics{
		RecordQueueTimeAvg: 3 * time.Millisecond,
		Topics:             map[string]TopicMetrics{"orders": {RecordSendTotal: 4}},
		Nodes:              map[int32]NodeMetrics{2: {RequestLatencyMax: 7 * time.Millisecond}},
	})
	byKey := map[string]float64{}
	for _, x := range m {
		k := x.Name
		for _, a := range x.Attrs {
			k += "{" + a.Key + "=" + a.Value + "}"
		}
		byKey[k] = x.Value
		if x.Name == "org.apache.kafka.producer.topic.record.send.total" {
			require.True(t, x.Sum, "totals are sums")
		}
		if x.Name == "org.apache.kafka.producer.record.queue.time.avg" {
			require.False(t, x.Sum, "averages are gauges")
		}
	}
	require.Equal(t, 3.0, byKey["org.apache.kafka.producer.record.queue.time.avg"], "milliseconds, as Java")
	require.Equal(t, 4.0, byKey["org.apache.kafka.producer.topic.record.send.total{topic=orders}"])
	require.Equal(t, 7.0, byKey["org.apache.kafka.producer.node.request.latency.max{node_id=node-2}"])
}
