package otel_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	totel "github.com/tributary-go/tributary/plugin/otel"
	"github.com/tributary-go/tributary/producer"
	"github.com/tributary-go/tributary/producer/producertest"
)

// collect reads every metric the reader has, by instrument name.
func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != totel.ScopeName {
			t.Fatalf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// point is one data point of an instrument.
type point struct {
	value   float64
	attrs   attribute.Set
	counter bool // a monotonic cumulative sum
}

func points(t *testing.T, ms map[string]metricdata.Metrics, name string) []point {
	t.Helper()
	m, ok := ms[name]
	if !ok {
		t.Fatalf("instrument %s missing", name)
	}
	var out []point
	switch d := m.Data.(type) {
	case metricdata.Sum[float64]:
		for _, dp := range d.DataPoints {
			out = append(out, point{dp.Value, dp.Attributes, d.IsMonotonic && d.Temporality == metricdata.CumulativeTemporality})
		}
	case metricdata.Gauge[float64]:
		for _, dp := range d.DataPoints {
			out = append(out, point{value: dp.Value, attrs: dp.Attributes})
		}
	default:
		t.Fatalf("%s has data %T", name, m.Data)
	}
	return out
}

// only returns the single data point of name whose attributes include want.
func only(t *testing.T, ms map[string]metricdata.Metrics, name string, want ...attribute.KeyValue) point {
	t.Helper()
	var found []point
next:
	for _, p := range points(t, ms, name) {
		for _, kv := range want {
			if v, ok := p.attrs.Value(kv.Key); !ok || v != kv.Value {
				continue next
			}
		}
		found = append(found, p)
	}
	if len(found) != 1 {
		t.Fatalf("%s%v: %d data points, want 1", name, want, len(found))
	}
	return found[0]
}

// TestMetricsAfterProducing sends records to a two-broker cluster and
// reads the producer's figures back through an OpenTelemetry ManualReader.
func TestMetricsAfterProducing(t *testing.T) {
	const topic, n = "orders", 200
	_, p := cluster(t, 4, nil, topic)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	reg, err := totel.RegisterMetrics(p, totel.WithMeterProvider(mp), totel.WithClientID("test"))
	if err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	for i := range n {
		p.Send(ctx, &producer.Record{Topic: topic, Key: []byte(strconv.Itoa(i)), Value: []byte("payload")})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ms := collect(t, reader)
	client := attribute.String(totel.AttrClientID, "test")

	if pt := only(t, ms, "kafka.producer.record_send_total", client); pt.value != n || !pt.counter {
		t.Fatalf("record_send_total = %+v, want %d as a counter", pt, n)
	}
	if pt := only(t, ms, "kafka.producer.record_error_total"); pt.value != 0 {
		t.Fatalf("record_error_total = %v", pt.value)
	}
	tattr := attribute.String(totel.AttrTopic, topic)
	if pt := only(t, ms, "kafka.producer.topic.record_send_total", client, tattr); pt.value != n || !pt.counter {
		t.Fatalf("topic record_send_total = %+v", pt)
	}
	if pt := only(t, ms, "kafka.producer.topic.byte_total", tattr); pt.value <= n*7 {
		t.Fatalf("topic byte_total = %v, want more than the payload bytes", pt.value)
	}
	if m := ms["kafka.producer.topic.byte_total"]; m.Unit != "By" {
		t.Fatalf("byte_total unit %q", m.Unit)
	}
	if pt := only(t, ms, "kafka.producer.buffer_total_bytes"); pt.value != 32<<20 || pt.counter {
		t.Fatalf("buffer_total_bytes = %+v", pt)
	}
	if pt := only(t, ms, "kafka.producer.requests_in_flight"); pt.value != 0 {
		t.Fatalf("requests_in_flight = %v", pt.value)
	}
	if pt := only(t, ms, "kafka.producer.request_latency_avg"); pt.value <= 0 {
		t.Fatalf("request_latency_avg = %v", pt.value)
	}
	if m := ms["kafka.producer.request_latency_avg"]; m.Unit != "ms" || m.Description == "" {
		t.Fatalf("request_latency_avg unit %q, description %q", m.Unit, m.Description)
	}

	// One data point per broker leading some of the 4 partitions (keys
	// spread over all). kfake places leaders at random, so both brokers
	// lead some partitions in most runs and one leads all in some.
	parts, err := p.PartitionsFor(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	leaders := map[int32]bool{}
	for _, pi := range parts {
		leaders[pi.Leader] = true
	}
	// A broker the producer only asked for metadata has a data point of 0.
	var requests float64
	sentTo := 0
	for _, pt := range points(t, ms, "kafka.producer.node.request_total") {
		id, ok := pt.attrs.Value(totel.AttrNodeID)
		if !ok || !strings.HasPrefix(id.AsString(), "node-") {
			t.Fatalf("node data point without node-id: %v", pt.attrs)
		}
		if pt.value > 0 {
			sentTo++
		}
		requests += pt.value
	}
	if sentTo != len(leaders) {
		t.Fatalf("requests went to %d nodes, want %d (the brokers leading %s's partitions)", sentTo, len(leaders), topic)
	}
	if total := only(t, ms, "kafka.producer.request_total").value; total != requests || total == 0 {
		t.Fatalf("request_total %v != sum over nodes %v", total, requests)
	}

	// Every Java name is exported, counters exactly for the totals.
	for _, g := range []string{producer.GroupProducer, producer.GroupTopic, producer.GroupNode} {
		for _, m := range producer.MetricNames(g) {
			name := totel.InstrumentName("kafka.producer", g, m.Name)
			for _, pt := range points(t, ms, name) {
				if pt.counter != m.Cumulative() {
					t.Errorf("%s: counter %v, want %v", name, pt.counter, m.Cumulative())
				}
			}
		}
	}

	// After Unregister nothing is observed.
	if err := reg.Unregister(); err != nil {
		t.Fatal(err)
	}
	for name, m := range collect(t, reader) {
		if s, ok := m.Data.(metricdata.Sum[float64]); ok && len(s.DataPoints) > 0 {
			t.Fatalf("%s still observed after Unregister", name)
		}
		if g, ok := m.Data.(metricdata.Gauge[float64]); ok && len(g.DataPoints) > 0 {
			t.Fatalf("%s still observed after Unregister", name)
		}
	}
}

// TestMetricsOverMock exports the mock producer's figures with another
// prefix and no client id.
func TestMetricsOverMock(t *testing.T) {
	m := producertest.New()
	m.Send(context.Background(), &producer.Record{Topic: "a", Value: []byte("xyz")})
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	if _, err := totel.RegisterMetrics(totel.NewProducer(m), totel.WithMeterProvider(mp), totel.WithMetricPrefix("app")); err != nil {
		t.Fatal(err)
	}
	ms := collect(t, reader)
	pt := only(t, ms, "app.topic.byte_total", attribute.String(totel.AttrTopic, "a"))
	if pt.value != 3 {
		t.Fatalf("byte_total = %v", pt.value)
	}
	if _, ok := pt.attrs.Value(totel.AttrClientID); ok {
		t.Fatal("client-id set without WithClientID")
	}
}

func TestInstrumentName(t *testing.T) {
	for _, tc := range []struct{ group, name, want string }{
		{producer.GroupProducer, "bufferpool-wait-time-ns-total", "kafka.producer.bufferpool_wait_time_ns_total"},
		{producer.GroupTopic, "byte-rate", "kafka.producer.topic.byte_rate"},
		{producer.GroupNode, "request-latency-avg", "kafka.producer.node.request_latency_avg"},
	} {
		if got := totel.InstrumentName("kafka.producer", tc.group, tc.name); got != tc.want {
			t.Errorf("InstrumentName(%s, %s) = %s, want %s", tc.group, tc.name, got, tc.want)
		}
	}
}

// TestMetricsTwoProducers registers two producers on one MeterProvider,
// told apart by their client ids.
func TestMetricsTwoProducers(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	for i, id := range []string{"one", "two"} {
		m := producertest.New()
		for range i + 1 {
			m.Send(context.Background(), &producer.Record{Topic: "a", Value: []byte("v")})
		}
		if _, err := totel.RegisterMetrics(m, totel.WithMeterProvider(mp), totel.WithClientID(id)); err != nil {
			t.Fatal(err)
		}
	}
	ms := collect(t, reader)
	for i, id := range []string{"one", "two"} {
		pt := only(t, ms, "kafka.producer.topic.byte_total", attribute.String(totel.AttrClientID, id))
		if pt.value != float64(i+1) {
			t.Errorf("client %s: byte_total = %v, want %d", id, pt.value, i+1)
		}
	}
}
