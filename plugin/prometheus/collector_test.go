package prometheus_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kfake"

	tprom "github.com/tributary-go/tributary/plugin/prometheus"
	"github.com/tributary-go/tributary/producer"
	"github.com/tributary-go/tributary/producer/producertest"
)

// scrape serves reg through promhttp and parses what a Prometheus server
// would read.
func scrape(t *testing.T, reg *prom.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.PanicOnError}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape: %s: %s", resp.Status, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// value returns the sample of family name whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, dto.MetricType) {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("series %s missing", name)
	}
next:
	for _, m := range f.GetMetric() {
		for k, v := range want {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == k && lp.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue(), f.GetType()
		default:
			return m.GetGauge().GetValue(), f.GetType()
		}
	}
	t.Fatalf("series %s%v missing", name, want)
	return 0, 0
}

func TestScrapeAfterProducing(t *testing.T) {
	const topic, n = "orders", 200
	c, err := kfake.NewCluster(kfake.NumBrokers(2), kfake.SeedTopics(4, topic))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := producer.New(producer.WithBootstrapServers(c.ListenAddrs()...), producer.WithLinger(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	defer p.Close(ctx)

	reg := prom.NewPedanticRegistry()
	reg.MustRegister(tprom.NewCollector(p, tprom.WithConstLabels(prom.Labels{"client_id": "test"})))

	for i := range n {
		p.Send(ctx, &producer.Record{Topic: topic, Key: []byte(strconv.Itoa(i)), Value: []byte("payload")})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, reg)

	v, typ := value(t, fams, "tributary_producer_record_send_total", map[string]string{"client_id": "test"})
	if v != n || typ != dto.MetricType_COUNTER {
		t.Fatalf("record_send_total = %v (%v), want %d counter", v, typ, n)
	}
	if v, _ := value(t, fams, "tributary_producer_record_error_total", nil); v != 0 {
		t.Fatalf("record_error_total = %v", v)
	}
	if v, typ := value(t, fams, "tributary_producer_topic_record_send_total", map[string]string{"topic": topic}); v != n || typ != dto.MetricType_COUNTER {
		t.Fatalf("topic record_send_total = %v (%v)", v, typ)
	}
	if v, _ := value(t, fams, "tributary_producer_topic_byte_total", map[string]string{"topic": topic}); v <= n*7 {
		t.Fatalf("topic byte_total = %v, want more than the payload bytes", v)
	}
	if v, typ := value(t, fams, "tributary_producer_buffer_total_bytes", nil); v != 32<<20 || typ != dto.MetricType_GAUGE {
		t.Fatalf("buffer_total_bytes = %v (%v)", v, typ)
	}
	if v, _ := value(t, fams, "tributary_producer_requests_in_flight", nil); v != 0 {
		t.Fatalf("requests_in_flight = %v", v)
	}
	if v, _ := value(t, fams, "tributary_producer_request_latency_avg", nil); v <= 0 {
		t.Fatalf("request_latency_avg = %v", v)
	}

	// Both brokers lead some of the 4 partitions; keys spread over all.
	var requests float64
	nodes := fams["tributary_producer_node_request_total"].GetMetric()
	if len(nodes) != 2 {
		t.Fatalf("%d node series, want 2", len(nodes))
	}
	for _, m := range nodes {
		requests += m.GetCounter().GetValue()
	}
	if total, _ := value(t, fams, "tributary_producer_request_total", nil); total != requests {
		t.Fatalf("request_total %v != sum over nodes %v", total, requests)
	}
	for name, f := range fams {
		if strings.HasSuffix(name, "_total") != (f.GetType() == dto.MetricType_COUNTER) {
			t.Errorf("%s has type %v", name, f.GetType())
		}
	}
}

func TestCollectorOverMock(t *testing.T) {
	m := producertest.New()
	m.Send(context.Background(), &producer.Record{Topic: "a", Value: []byte("xyz")})
	reg := prom.NewPedanticRegistry()
	reg.MustRegister(tprom.NewCollector(m, tprom.WithNamespace("app")))
	fams := scrape(t, reg)
	if v, _ := value(t, fams, "app_producer_topic_byte_total", map[string]string{"topic": "a"}); v != 3 {
		t.Fatalf("byte_total = %v", v)
	}
}

func TestSeriesName(t *testing.T) {
	if got := tprom.SeriesName("tributary", "producer", "bufferpool-wait-time-ns-total"); got != "tributary_producer_bufferpool_wait_time_ns_total" {
		t.Fatal(got)
	}
}
