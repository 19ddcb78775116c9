package telemetry

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/tributary-go/tributary/protocol"
)

// fakeClock is a manual Clock: timers fire only when Advance passes them.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at time.Time
	c  chan time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	return t.c, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, x := range c.timers {
			if x == t {
				c.timers = append(c.timers[:i], c.timers[i+1:]...)
				return true
			}
		}
		return false
	}
}

// Advance moves the clock on by d and fires the timers due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.timers[:0]
	for _, t := range c.timers {
		if !t.at.After(c.now) {
			t.c <- c.now
			continue
		}
		kept = append(kept, t)
	}
	c.timers = kept
}

// pending returns how long from now the armed timers fire.
func (c *fakeClock) pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, t := range c.timers {
		out = append(out, t.at.Sub(c.now))
	}
	return out
}

// waitFor polls cond every few milliseconds for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitTimer waits until the Reporter sleeps on exactly one timer and
// returns how long from now it fires.
func waitTimer(t *testing.T, c *fakeClock) time.Duration {
	t.Helper()
	var d []time.Duration
	waitFor(t, "the reporter to arm its timer", func() bool { d = c.pending(); return len(d) == 1 })
	return d[0]
}

// fakeBroker answers the two telemetry APIs from a script and records
// every request.
type fakeBroker struct {
	mu        sync.Mutex
	supported bool
	subs      []*protocol.GetTelemetrySubscriptionsResponse // answers in turn; the last repeats
	pushCodes []int16                                       // error codes of pushes in turn; then 0
	connErr   error
	conns     int // Conn calls
	reqs      []protocol.Request
}

func (b *fakeBroker) Version(k protocol.Key) (int16, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.supported {
		return 0, &protocol.NoVersionError{Key: k, Missing: true}
	}
	return 0, nil
}

func (b *fakeBroker) Do(_ context.Context, req protocol.Request) (protocol.Response, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Round-trip the request through the wire encoding, as a broker would.
	enc := req.AppendTo(nil, 0)
	switch r := req.(type) {
	case *protocol.GetTelemetrySubscriptionsRequest:
		var got protocol.GetTelemetrySubscriptionsRequest
		if err := protocol.DecodeMessage(&got, enc, 0); err != nil {
			return nil, err
		}
		b.reqs = append(b.reqs, &got)
		resp := *b.subs[0]
		if len(b.subs) > 1 {
			b.subs = b.subs[1:]
		}
		if r.ClientInstanceID != ([16]byte{}) && resp.ErrorCode == 0 {
			resp.ClientInstanceID = r.ClientInstanceID
		}
		return &resp, nil
	case *protocol.PushTelemetryRequest:
		var got protocol.PushTelemetryRequest
		if err := protocol.DecodeMessage(&got, enc, 0); err != nil {
			return nil, err
		}
		b.reqs = append(b.reqs, &got)
		var code int16
		if len(b.pushCodes) > 0 {
			code, b.pushCodes = b.pushCodes[0], b.pushCodes[1:]
		}
		return &protocol.PushTelemetryResponse{ErrorCode: code}, nil
	}
	return nil, errors.New("fake broker: unexpected request")
}

// requests returns the recorded requests.
func (b *fakeBroker) requests() []protocol.Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]protocol.Request(nil), b.reqs...)
}

func (b *fakeBroker) pushes() []*protocol.PushTelemetryRequest {
	var out []*protocol.PushTelemetryRequest
	for _, r := range b.requests() {
		if p, ok := r.(*protocol.PushTelemetryRequest); ok {
			out = append(out, p)
		}
	}
	return out
}

func (b *fakeBroker) subscriptions() int {
	n := 0
	for _, r := range b.requests() {
		if _, ok := r.(*protocol.GetTelemetrySubscriptionsRequest); ok {
			n++
		}
	}
	return n
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var testInstance = [16]byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}

func subResponse(interval time.Duration, metrics ...string) *protocol.GetTelemetrySubscriptionsResponse {
	return &protocol.GetTelemetrySubscriptionsResponse{
		ClientInstanceID:   testInstance,
		SubscriptionID:     7,
		PushIntervalMillis: int32(interval / time.Millisecond),
		TelemetryMaxBytes:  1 << 20,
		RequestedMetrics:   metrics,
	}
}

// testMetrics is what the fake client reports; values grow with each call.
type testMetrics struct {
	mu sync.Mutex
	n  float64
}

func (m *testMetrics) collect() []Metric {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n++
	return []Metric{
		{Name: "org.apache.kafka.producer.record.send.total", Value: 100 * m.n, Sum: true},
		{Name: "org.apache.kafka.producer.record.queue.time.avg", Value: 2.5, Description: "avg queue time"},
		{Name: "org.apache.kafka.producer.topic.byte.total", Attrs: []Attr{{"topic", "orders"}}, Value: 1000 * m.n, Sum: true},
		{Name: "org.apache.kafka.producer.node.request.latency.max", Attrs: []Attr{{"node_id", "node-1"}}, Value: 9},
		{Name: "org.apache.kafka.other.thing", Value: 1},
	}
}

// newTestReporter returns a started, ready Reporter on a fake clock.
func newTestReporter(t *testing.T, b *fakeBroker) (*Reporter, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	m := &testMetrics{}
	r := New(Config{
		Conn: func(context.Context) (Broker, error) {
			b.mu.Lock()
			b.conns++
			err := b.connErr
			b.mu.Unlock()
			if err != nil {
				return nil, err
			}
			return b, nil
		},
		Collect:  m.collect,
		Resource: []Attr{{"client_software_name", "tributary"}},
		Scope:    Attr{"tributary", "test"},
		Clock:    clk,
		Logger:   quiet,
	})
	r.jitter = func() float64 { return 1 }
	r.Start()
	r.Ready()
	t.Cleanup(func() { r.Close(context.Background()) })
	return r, clk
}

// A small protobuf reader for the tests, written against the protobuf
// wire format alone (it knows no OTLP structure), to check the encoder
// independently.

type pbField struct {
	num   int
	wire  int
	v     uint64 // varint and fixed64 values
	bytes []byte // length-delimited values
}

func pbParse(t *testing.T, b []byte) []pbField {
	t.Helper()
	var out []pbField
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			t.Fatalf("bad field key in %x", b)
		}
		b = b[n:]
		f := pbField{num: int(key >> 3), wire: int(key & 7)}
		switch f.wire {
		case 0:
			f.v, n = binary.Uvarint(b)
			if n <= 0 {
				t.Fatalf("bad varint")
			}
			b = b[n:]
		case 1:
			if len(b) < 8 {
				t.Fatalf("short fixed64")
			}
			f.v, b = binary.LittleEndian.Uint64(b), b[8:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				t.Fatalf("bad length")
			}
			f.bytes, b = b[n:n+int(l)], b[n+int(l):]
		default:
			t.Fatalf("unexpected wire type %d", f.wire)
		}
		out = append(out, f)
	}
	return out
}

func pbAll(t *testing.T, b []byte, num int) [][]byte {
	var out [][]byte
	for _, f := range pbParse(t, b) {
		if f.num == num {
			if f.wire != 2 {
				t.Fatalf("field %d: wire type %d, want 2", num, f.wire)
			}
			out = append(out, f.bytes)
		}
	}
	return out
}

func pbOne(t *testing.T, b []byte, num int) []byte {
	t.Helper()
	all := pbAll(t, b, num)
	if len(all) != 1 {
		t.Fatalf("field %d present %d times in %x", num, len(all), b)
	}
	return all[0]
}

func pbScalar(t *testing.T, b []byte, num, wire int) (uint64, bool) {
	for _, f := range pbParse(t, b) {
		if f.num == num {
			if f.wire != wire {
				t.Fatalf("field %d: wire type %d, want %d", num, f.wire, wire)
			}
			return f.v, true
		}
	}
	return 0, false
}

// gotMetric is one decoded OTLP metric.
type gotMetric struct {
	Name, Description string
	Sum               bool
	Temporality       uint64
	Monotonic         bool
	Value             float64
	Start, Time       uint64
	Attrs             string // "k=v,k=v"
}

func pbKeyValues(t *testing.T, kvs [][]byte) string {
	var parts []string
	for _, kv := range kvs {
		any := pbOne(t, kv, 2)
		parts = append(parts, string(pbOne(t, kv, 1))+"="+string(pbOne(t, any, 1)))
	}
	sort.Strings(parts)
	return fmt.Sprint(parts)
}

// decodeOTLP decodes a MetricsData into its resource attributes, scope and
// metrics.
func decodeOTLP(t *testing.T, b []byte) (resource, scope string, metrics []gotMetric) {
	t.Helper()
	rm := pbOne(t, b, 1)
	resource = pbKeyValues(t, pbAll(t, pbOne(t, rm, 1), 1))
	sm := pbOne(t, rm, 2)
	sc := pbOne(t, sm, 1)
	for _, f := range []int{1, 2} {
		if v := pbAll(t, sc, f); len(v) == 1 {
			scope += string(v[0])
		}
		if f == 1 {
			scope += "/"
		}
	}
	for _, mb := range pbAll(t, sm, 2) {
		m := gotMetric{Name: string(pbOne(t, mb, 1))}
		if d := pbAll(t, mb, 2); len(d) == 1 {
			m.Description = string(d[0])
		}
		var dp []byte
		if g := pbAll(t, mb, 5); len(g) == 1 {
			dp = pbOne(t, g[0], 1)
		} else {
			sum := pbOne(t, mb, 7)
			m.Sum = true
			m.Temporality, _ = pbScalar(t, sum, 2, 0)
			mono, _ := pbScalar(t, sum, 3, 0)
			m.Monotonic = mono == 1
			dp = pbOne(t, sum, 1)
		}
		m.Start, _ = pbScalar(t, dp, 2, 1)
		m.Time, _ = pbScalar(t, dp, 3, 1)
		v, ok := pbScalar(t, dp, 4, 1)
		if !ok {
			t.Fatalf("metric %s has no as_double", m.Name)
		}
		m.Value = math.Float64frombits(v)
		m.Attrs = pbKeyValues(t, pbAll(t, dp, 7))
		metrics = append(metrics, m)
	}
	return resource, scope, metrics
}
