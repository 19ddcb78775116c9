package producer_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-go/tributary/internal/kafkatest"
	"github.com/tributary-go/tributary/producer"
)

// KIP-714 client telemetry against Apache Kafka. A broker pushes nothing
// anywhere by itself: it needs a client-telemetry receiver plug-in, which
// testing/kafka/telemetry/TelemetryRecorder.java is (compiled here with
// javac against the broker's own jars), and a client-metrics subscription
// (kafka-client-metrics.sh; here an IncrementalAlterConfigs on a
// CLIENT_METRICS resource) naming the metrics wanted.

// recorderClass is the plug-in's class, for metric.reporters.
const recorderClass = "tributary.test.TelemetryRecorder"

// compileRecorder compiles the receiver plug-in against Kafka version v's
// jars and returns the class directory.
func compileRecorder(t *testing.T, v string) string {
	t.Helper()
	if _, err := exec.LookPath("java"); err != nil {
		t.Skip("java is not installed") // kafkatest skips the same way (or fails in CI)
	}
	javac, err := exec.LookPath("javac")
	if err != nil {
		t.Fatal("javac is not installed: the telemetry test compiles its broker plug-in and needs a JDK (17+)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	libs, err := kafkatest.Fetch(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	src, err := filepath.Abs(filepath.Join("..", "testing", "kafka", "telemetry", "TelemetryRecorder.java"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out, err := exec.CommandContext(ctx, javac, "-d", dir, "-cp", filepath.Join(libs, "*"), src).CombinedOutput()
	if err != nil {
		t.Fatalf("javac %s: %v\n%s", src, err, out)
	}
	return dir
}

// subscribeClientMetrics creates (or replaces) the client-metrics
// subscription name asking every client for the metrics with the given
// prefixes every interval.
func subscribeClientMetrics(t *testing.T, c *kafkatest.Cluster, name string, interval time.Duration, prefixes ...string) {
	t.Helper()
	cl, err := c.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	res := kmsg.NewIncrementalAlterConfigsRequestResource()
	res.ResourceType = kmsg.ConfigResourceType(16) // CLIENT_METRICS (KIP-714)
	res.ResourceName = name
	for k, v := range map[string]string{"metrics": strings.Join(prefixes, ","), "interval.ms": strconv.Itoa(int(interval / time.Millisecond))} {
		cfg := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		cfg.Name, cfg.Op, cfg.Value = k, kmsg.IncrementalAlterConfigOpSet, &v
		res.Configs = append(res.Configs, cfg)
	}
	req.Resources = append(req.Resources, res)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("IncrementalAlterConfigs CLIENT_METRICS %s: %v", name, err)
	}
	for _, r := range resp.Resources {
		if r.ErrorCode != 0 {
			msg := ""
			if r.ErrorMessage != nil {
				msg = *r.ErrorMessage
			}
			t.Fatalf("IncrementalAlterConfigs CLIENT_METRICS %s: error %d %s", name, r.ErrorCode, msg)
		}
	}
}

// receivedPush is one push as the broker's receiver decoded it.
type receivedPush struct {
	instance    string
	terminating bool
	client      string
	metrics     map[string]receivedMetric // by name and attributes, e.g. "org.apache.kafka.producer.topic.record.send.total{topic=t}"
}

type receivedMetric struct {
	kind  string // gauge, delta (a sum of delta temporality) or cumulative (a cumulative sum)
	value float64
}

// total returns the running total of metric key over pushes: the sum of
// the deltas, or the last cumulative value, as the subscription's
// temporality says (Kafka's brokers ask for deltas).
func total(ps []receivedPush, key string) (v float64, kind string) {
	for _, p := range ps {
		m, ok := p.metrics[key]
		if !ok {
			continue
		}
		kind = m.kind
		if m.kind == "delta" {
			v += m.value
		} else {
			v = m.value
		}
	}
	return v, kind
}

// readPushes parses the plug-in's file.
func readPushes(t *testing.T, file string) []receivedPush {
	t.Helper()
	b, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []receivedPush
	var cur *receivedPush
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 3 && f[0] == "push":
			cur = &receivedPush{instance: f[1], terminating: f[2] == "terminating=true", metrics: map[string]receivedMetric{}}
			for _, x := range f[3:] {
				if c, ok := strings.CutPrefix(x, "client="); ok {
					cur.client = c
				}
			}
		case len(f) >= 4 && f[0] == "metric" && cur != nil:
			v, err := strconv.ParseFloat(f[3], 64)
			if err != nil {
				t.Fatalf("recorder line %q: %v", sc.Text(), err)
			}
			key := f[1]
			if len(f) > 4 {
				key += "{" + strings.Join(f[4:], ",") + "}"
			}
			cur.metrics[key] = receivedMetric{kind: f[2], value: v}
		case len(f) >= 1 && f[0] == "error":
			t.Fatalf("the receiver could not decode a push: %s", sc.Text())
		case len(f) == 1 && f[0] == "end" && cur != nil:
			out = append(out, *cur) // a push counts once its end line is written
			cur = nil
		}
	}
	return out
}

// waitPushes polls the plug-in's file until ok accepts the pushes so far.
func waitPushes(t *testing.T, file, what string, ok func([]receivedPush) bool) []receivedPush {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ps := readPushes(t, file)
		if ok(ps) {
			return ps
		}
		if time.Now().After(deadline) {
			var last string
			if len(ps) > 0 {
				last = fmt.Sprintf("; the last: %+v", ps[len(ps)-1])
			}
			t.Fatalf("waited 2 min for %s; the broker received %d pushes%s", what, len(ps), last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestKafkaTelemetryPush: with a receiver but no subscription the
// producer asks, gets no metrics and pushes nothing; with a subscription,
// the producer's metrics reach the broker under their KIP-714 names with the
// producer's values, decoded by Kafka's own OTLP classes, at the
// subscription's interval, and Close sends the terminating push.
func TestKafkaTelemetryPush(t *testing.T) {
	t.Parallel()
	v := os.Getenv("KAFKA_VERSION")
	if v == "" {
		v = kafkatest.DefaultVersion
	}
	classes := compileRecorder(t, v)
	file := filepath.Join(t.TempDir(), "pushes.txt")
	c := faultCluster(t, 1, kafkatest.Options{
		ClassPath: []string{classes},
		BrokerConfig: map[string]string{
			"metric.reporters":         recorderClass,
			"tributary.telemetry.file": file,
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	topic := fmt.Sprintf("telemetry-%d", time.Now().UnixNano()%1e9)
	if err := c.CreateTopic(ctx, topic, 2, 1, nil); err != nil {
		t.Fatal(err)
	}

	// With the receiver but no subscription yet, the broker lists the
	// APIs and answers with no metrics: the producer asks and stays quiet.
	h := &captureHandler{}
	quiet, err := producer.New(producer.WithBootstrapServers(c.Bootstrap()...), producer.WithLogger(slog.New(h)))
	if err != nil {
		t.Fatal(err)
	}
	sendAll(t, quiet, []*producer.Record{{Topic: topic, Value: []byte("quiet")}})
	if _, err := quiet.ClientInstanceID(ctx); err != nil {
		t.Fatalf("ClientInstanceID without a subscription: %v", err)
	}
	waitLog(t, h, "telemetry: subscription requests no metrics")
	closeProducer(t, quiet)
	if n := h.count("telemetry: pushed"); n != 0 {
		t.Errorf("%d pushes without a subscription", n)
	}
	if ps := readPushes(t, file); len(ps) != 0 {
		t.Errorf("the broker received %d pushes without a subscription", len(ps))
	}

	subscribeClientMetrics(t, c, "tributary-producer", time.Second, "org.apache.kafka.producer.")

	p := realProducer(t, c, producer.WithClientID("tributary-telemetry"), producer.WithLinger(0))
	const n = 40
	recs := make([]*producer.Record, n)
	for i := range recs {
		recs[i] = &producer.Record{Topic: topic, Value: []byte(strconv.Itoa(i))}
	}
	sendAll(t, p, recs)
	id, err := p.ClientInstanceID(ctx)
	if err != nil {
		t.Fatalf("ClientInstanceID: %v", err)
	}
	const sendTotal = "org.apache.kafka.producer.record.send.total"
	ps := waitPushes(t, file, "two periodic pushes with every record counted", func(ps []receivedPush) bool {
		var mine []receivedPush
		for _, p := range ps {
			if p.instance == id && !p.terminating {
				mine = append(mine, p)
			}
		}
		v, _ := total(mine, sendTotal)
		return len(mine) >= 2 && v == n
	})
	t.Logf("Kafka %s received %d pushes from client instance %s before Close", c.Version, len(ps), id)
	closeProducer(t, p)
	ps = waitPushes(t, file, "the terminating push", func(ps []receivedPush) bool {
		return len(ps) > 0 && ps[len(ps)-1].terminating
	})
	last := ps[len(ps)-1]
	for _, p := range ps {
		if p.instance != id {
			t.Errorf("push from client instance %s, want %s", p.instance, id)
		}
		if p.client != "tributary-telemetry" {
			t.Errorf("push from client.id %q", p.client)
		}
		for name := range p.metrics {
			if !strings.HasPrefix(name, "org.apache.kafka.producer.") {
				t.Errorf("unrequested metric %s pushed", name)
			}
		}
	}
	if k := len(ps) - 1; ps[k-1].terminating {
		t.Errorf("more than one terminating push")
	}
	var names []string
	for name, m := range last.metrics {
		names = append(names, fmt.Sprintf("%s %s %g", name, m.kind, m.value))
	}
	t.Logf("terminating push: %d metrics:\n  %s", len(names), strings.Join(names, "\n  "))

	// Sums are checked as running totals over every push, gauges in the
	// terminating push.
	want := func(key, kind string, check func(float64) bool, what string) {
		t.Helper()
		m, ok := last.metrics[key]
		if kind == "sum" {
			m.value, m.kind = total(ps, key)
			if m.kind == "delta" || m.kind == "cumulative" {
				m.kind = "sum"
			}
		}
		switch {
		case !ok:
			t.Errorf("the terminating push lacks %s", key)
		case m.kind != kind:
			t.Errorf("%s is a %s, want a %s", key, m.kind, kind)
		case !check(m.value):
			t.Errorf("%s = %g, want %s", key, m.value, what)
		}
	}
	eq := func(x float64) func(float64) bool { return func(v float64) bool { return v == x } }
	nonNeg := func(v float64) bool { return v >= 0 }
	pos := func(v float64) bool { return v > 0 }
	want(sendTotal, "sum", eq(n), strconv.Itoa(n))
	want("org.apache.kafka.producer.record.error.total", "sum", eq(0), "0")
	want("org.apache.kafka.producer.topic.record.send.total{topic="+topic+"}", "sum", eq(n), strconv.Itoa(n))
	want("org.apache.kafka.producer.request.total", "sum", func(v float64) bool { return v >= 1 && v <= n }, "between 1 and the record count")
	want("org.apache.kafka.producer.record.queue.time.avg", "gauge", nonNeg, ">= 0 ms")
	want("org.apache.kafka.producer.record.queue.time.max", "gauge", nonNeg, ">= 0 ms")
	want("org.apache.kafka.producer.produce.throttle.time.avg", "gauge", eq(0), "0 (no quota)")
	want("org.apache.kafka.producer.node.request.latency.max{node_id=node-1}", "gauge", pos, "> 0 ms")
	want("org.apache.kafka.producer.node.request.latency.avg{node_id=node-1}", "gauge", pos, "> 0 ms")
}

// captureHandler keeps every log record's message, for tests that check
// what the producer did.
type captureHandler struct {
	mu   sync.Mutex
	msgs []string
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, r.Message)
	return nil
}
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *captureHandler) WithGroup(string) slog.Handler      { return h }

func (h *captureHandler) count(prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// waitLog waits up to a minute for a log message starting with prefix.
func waitLog(t *testing.T, h *captureHandler, prefix string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for h.count(prefix) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no log %q within a minute", prefix)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestKafkaTelemetryQuiet: a broker without a receiver plug-in (the
// shared cluster, like most clusters) does not list the telemetry APIs in
// ApiVersions, so the producer notes that and sends no telemetry request
// at all: no subscription request, no push, periodic or terminating.
func TestKafkaTelemetryQuiet(t *testing.T) {
	t.Parallel()
	c := kafkatest.Shared(t)
	h := &captureHandler{}
	p, err := producer.New(producer.WithBootstrapServers(c.Bootstrap()...), producer.WithLogger(slog.New(h)))
	if err != nil {
		t.Fatal(err)
	}
	topic := realTopic(t, c, 1)
	sendAll(t, p, []*producer.Record{{Topic: topic, Value: []byte("v")}})
	waitLog(t, h, "telemetry: broker does not support client telemetry")
	closeProducer(t, p)
	if n := h.count("telemetry: pushed"); n != 0 {
		t.Errorf("%d pushes to a broker without a telemetry receiver", n)
	}
	if n := h.count("telemetry: subscription requests no metrics"); n != 0 {
		t.Errorf("%d subscription answers from a broker that does not list the API", n)
	}
}
