package otel_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	totel "github.com/tributary-go/tributary/plugin/otel"
	"github.com/tributary-go/tributary/producer"
	"github.com/tributary-go/tributary/producer/producertest"
	"github.com/tributary-go/tributary/protocol"
)

// tracing returns a tracer provider that keeps every span in memory.
func tracing(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, rec
}

// cluster starts a kfake cluster with the given topics, each with parts
// partitions, and a producer on it.
func cluster(t *testing.T, parts int32, opts []producer.Option, topics ...string) (*kfake.Cluster, *producer.Producer) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(2), kfake.SeedTopics(parts, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	opts = append([]producer.Option{producer.WithBootstrapServers(c.ListenAddrs()...), producer.WithLinger(time.Millisecond)}, opts...)
	p, err := producer.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return c, p
}

// consume reads n records of topic back with franz-go, an independent
// client.
func consume(t *testing.T, c *kfake.Cluster, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records: %v", len(out), n, ctx.Err())
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

// attrs returns a span's attributes by key.
func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// producerSpans returns the ended spans of kind PRODUCER.
func producerSpans(rec *tracetest.SpanRecorder) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.SpanKind() == trace.SpanKindProducer {
			out = append(out, s)
		}
	}
	return out
}

type tp struct {
	partition int32
	offset    int64
}

// TestSpansAndPropagation sends records through the traced producer, with
// Send and SendCallback, and checks one PRODUCER span per record with the
// semantic conventions' attributes, each a child of the caller's span, and
// that a consumer reading the records with franz-go extracts exactly the
// span's context from the headers.
func TestSpansAndPropagation(t *testing.T) {
	const topic, n = "orders", 40
	c, p := cluster(t, 3, []producer.Option{producer.WithClientID("orders-svc")}, topic)
	tprov, rec := tracing(t)
	prop := propagation.TraceContext{}
	tr := totel.NewProducer(p, totel.WithTracerProvider(tprov), totel.WithPropagator(prop), totel.WithClientID("orders-svc"))

	ctx, parent := tprov.Tracer("test").Start(context.Background(), "handle request")
	stale := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	var (
		futures []*producer.Future
		mu      sync.Mutex
		acked   = map[string]producer.RecordMetadata{} // by key, from callbacks
		wg      sync.WaitGroup
	)
	callerHeaders := []producer.Header{{Key: "app", Value: []byte("x")}, {Key: "traceparent", Value: []byte(stale)}}
	for i := range n {
		r := &producer.Record{Topic: topic, Key: []byte("k-" + strconv.Itoa(i)), Value: []byte("v")}
		switch {
		case i == 0:
			r.Headers = callerHeaders
		case i == 1:
			r.Value = nil // a tombstone
		case i == 2:
			r.Partition, r.UsePartition = 2, true
		}
		if i%2 == 0 {
			futures = append(futures, tr.Send(ctx, r))
			continue
		}
		wg.Add(1)
		key := string(r.Key)
		tr.SendCallback(ctx, r, func(md producer.RecordMetadata, err error) {
			defer wg.Done()
			if err != nil {
				t.Errorf("record %s: %v", key, err)
			}
			mu.Lock()
			acked[key] = md
			mu.Unlock()
		})
	}
	wg.Wait() // every callback has run: acked is ours from here on
	for i, f := range futures {
		md, err := f.Get(context.Background())
		if err != nil {
			t.Fatalf("future %d: %v", i, err)
		}
		acked["k-"+strconv.Itoa(2*i)] = md
	}
	parent.End()

	// The caller's record is left alone.
	if len(callerHeaders) != 2 || string(callerHeaders[1].Value) != stale {
		t.Fatalf("caller's headers changed: %+v", callerHeaders)
	}

	spans := producerSpans(rec)
	if len(spans) != n {
		t.Fatalf("%d producer spans, want %d", len(spans), n)
	}
	byPos := map[tp]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		a := attrs(s)
		key := a["messaging.kafka.message.key"].AsString()
		md, ok := acked[key]
		if !ok {
			t.Fatalf("span for unknown key %q", key)
		}
		want := map[attribute.Key]attribute.Value{
			"messaging.system":                   attribute.StringValue("kafka"),
			"messaging.operation.type":           attribute.StringValue("send"),
			"messaging.operation.name":           attribute.StringValue("send"),
			"messaging.destination.name":         attribute.StringValue(topic),
			"messaging.destination.partition.id": attribute.StringValue(strconv.Itoa(int(md.Partition))),
			"messaging.kafka.offset":             attribute.Int64Value(md.Offset),
			"messaging.client.id":                attribute.StringValue("orders-svc"),
		}
		for k, v := range want {
			if a[k] != v {
				t.Errorf("span %s: %s = %v, want %v", key, k, a[k].Emit(), v.Emit())
			}
		}
		if key == "k-1" {
			if !a["messaging.kafka.message.tombstone"].AsBool() {
				t.Errorf("tombstone span lacks messaging.kafka.message.tombstone")
			}
		} else if a["messaging.message.body.size"].AsInt64() != 1 {
			t.Errorf("span %s: body size %v", key, a["messaging.message.body.size"].Emit())
		}
		if key == "k-2" && md.Partition != 2 {
			t.Errorf("explicit partition: record went to %d", md.Partition)
		}
		if s.Name() != "send "+topic {
			t.Errorf("span name %q", s.Name())
		}
		if s.Status().Code != codes.Unset {
			t.Errorf("span %s status %v", key, s.Status())
		}
		if s.Parent().SpanID() != parent.SpanContext().SpanID() || s.SpanContext().TraceID() != parent.SpanContext().TraceID() {
			t.Errorf("span %s is not a child of the caller's span", key)
		}
		if s.EndTime().Before(s.StartTime()) {
			t.Errorf("span %s ends before it starts", key)
		}
		pos := tp{md.Partition, md.Offset}
		if _, dup := byPos[pos]; dup {
			t.Fatalf("two spans for %+v", pos)
		}
		byPos[pos] = s
	}

	for _, r := range consume(t, c, topic, n) {
		s := byPos[tp{r.Partition, r.Offset}]
		if s == nil {
			t.Fatalf("no span for record %d/%d", r.Partition, r.Offset)
		}
		carrier := propagation.MapCarrier{}
		parents := 0
		for _, h := range r.Headers {
			carrier[h.Key] = string(h.Value)
			if h.Key == "traceparent" {
				parents++
			}
		}
		if parents != 1 {
			t.Errorf("record %s has %d traceparent headers", r.Key, parents)
		}
		if string(r.Key) == "k-0" && carrier["app"] != "x" {
			t.Errorf("record k-0 lost its own header: %v", r.Headers)
		}
		got := trace.SpanContextFromContext(prop.Extract(context.Background(), carrier))
		if !got.IsValid() || !got.IsRemote() || !got.IsSampled() {
			t.Fatalf("record %s: extracted %+v", r.Key, got)
		}
		if got.TraceID() != s.SpanContext().TraceID() || got.SpanID() != s.SpanContext().SpanID() {
			t.Errorf("record %s carries %s/%s, its span is %s/%s", r.Key, got.TraceID(), got.SpanID(), s.SpanContext().TraceID(), s.SpanContext().SpanID())
		}
	}
}

// exceptionRecorded reports whether s has an exception event for err.
func exceptionRecorded(s sdktrace.ReadOnlySpan, err error) bool {
	for _, e := range s.Events() {
		if e.Name != "exception" {
			continue
		}
		for _, kv := range e.Attributes {
			if kv.Key == "exception.message" && kv.Value.AsString() == err.Error() {
				return true
			}
		}
	}
	return false
}

// checkFailed checks a span of a record that failed with err.
func checkFailed(t *testing.T, s sdktrace.ReadOnlySpan, err error) {
	t.Helper()
	if s.Status().Code != codes.Error || s.Status().Description != err.Error() {
		t.Errorf("status %+v, want Error %q", s.Status(), err)
	}
	if !exceptionRecorded(s, err) {
		t.Errorf("no exception event for %v: %+v", err, s.Events())
	}
	a := attrs(s)
	if a["error.type"].AsString() == "" {
		t.Errorf("no error.type")
	}
	if _, ok := a["messaging.kafka.offset"]; ok {
		t.Errorf("failed record has an offset: %v", a["messaging.kafka.offset"].Emit())
	}
}

// TestSpanOfRecordTooLarge fails a record in Send itself (over
// max.request.size), through Send and SendCallback.
func TestSpanOfRecordTooLarge(t *testing.T) {
	const topic = "orders"
	_, p := cluster(t, 1, []producer.Option{producer.WithMaxRequestSize(1024)}, topic)
	tprov, rec := tracing(t)
	tr := totel.NewProducer(p, totel.WithTracerProvider(tprov), totel.WithPropagator(propagation.TraceContext{}))
	big := make([]byte, 4096)

	_, err := tr.Send(context.Background(), &producer.Record{Topic: topic, Value: big}).Get(context.Background())
	if err == nil {
		t.Fatal("record over max.request.size was accepted")
	}
	var cbErr error
	tr.SendCallback(context.Background(), &producer.Record{Topic: topic, Value: big}, func(_ producer.RecordMetadata, err error) { cbErr = err })
	if cbErr == nil {
		t.Fatal("callback saw no error")
	}
	spans := producerSpans(rec)
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	checkFailed(t, spans[0], err)
	checkFailed(t, spans[1], cbErr)
}

// TestSpanOfRejectedBatch fails records at the broker: every Produce to
// the topic is answered with INVALID_RECORD, which is not retriable.
func TestSpanOfRejectedBatch(t *testing.T) {
	const topic = "rejected"
	c, p := cluster(t, 2, nil, topic, "fine")
	c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.InvalidRecord, Count: -1})
	tprov, rec := tracing(t)
	tr := totel.NewProducer(p, totel.WithTracerProvider(tprov), totel.WithPropagator(propagation.TraceContext{}))

	bad := tr.Send(context.Background(), &producer.Record{Topic: topic, Value: []byte("v")})
	good := tr.Send(context.Background(), &producer.Record{Topic: "fine", Value: []byte("v")})
	_, err := bad.Get(context.Background())
	if !errors.Is(err, protocol.ErrInvalidRecord) {
		t.Fatalf("rejected record: %v, want INVALID_RECORD", err)
	}
	if _, err := good.Get(context.Background()); err != nil {
		t.Fatalf("record to the healthy topic: %v", err)
	}
	spans := producerSpans(rec)
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	for _, s := range spans {
		a := attrs(s)
		switch a["messaging.destination.name"].AsString() {
		case topic:
			checkFailed(t, s, err)
			if _, ok := a["messaging.destination.partition.id"]; !ok {
				t.Errorf("failed batch's span lacks its partition")
			}
		default:
			if s.Status().Code == codes.Error {
				t.Errorf("healthy record's span failed: %v", s.Status())
			}
		}
	}
}

// TestGlobalDefaults traces with the global tracer provider and
// propagator, as an application that configured OpenTelemetry once would.
func TestGlobalDefaults(t *testing.T) {
	tprov, rec := tracing(t)
	oldTP, oldProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(tprov)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	t.Cleanup(func() { otel.SetTracerProvider(oldTP); otel.SetTextMapPropagator(oldProp) })

	mock := producertest.New()
	tr := totel.NewProducer(mock)
	if _, err := tr.Send(context.Background(), &producer.Record{Topic: "a", Key: []byte{0xff, 0xfe}, Value: []byte("v")}).Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := producerSpans(rec)
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	if _, ok := attrs(spans[0])["messaging.kafka.message.key"]; ok {
		t.Errorf("a key that is not UTF-8 was recorded")
	}
	h := mock.History()
	if len(h) != 1 {
		t.Fatalf("%d records sent", len(h))
	}
	carrier := propagation.MapCarrier{}
	for _, x := range h[0].Record.Headers {
		carrier[x.Key] = string(x.Value)
	}
	got := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), carrier))
	if got.SpanID() != spans[0].SpanContext().SpanID() {
		t.Fatalf("headers carry span %s, want %s (headers %v)", got.SpanID(), spans[0].SpanContext().SpanID(), h[0].Record.Headers)
	}
}

// TestKeyAttributeOff leaves keys out of spans.
func TestKeyAttributeOff(t *testing.T) {
	tprov, rec := tracing(t)
	tr := totel.NewProducer(producertest.New(), totel.WithTracerProvider(tprov), totel.WithKeyAttribute(false))
	tr.SendCallback(context.Background(), &producer.Record{Topic: "a", Key: []byte("secret"), Value: []byte("v")}, nil)
	spans := producerSpans(rec)
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	if _, ok := attrs(spans[0])["messaging.kafka.message.key"]; ok {
		t.Fatal("key recorded with WithKeyAttribute(false)")
	}
}

// TestConcurrentSends traces records sent from many goroutines at once;
// run with -race.
func TestConcurrentSends(t *testing.T) {
	const topic, workers, per = "load", 8, 100
	_, p := cluster(t, 4, nil, topic)
	tprov, rec := tracing(t)
	tr := totel.NewProducer(p, totel.WithTracerProvider(tprov), totel.WithPropagator(propagation.TraceContext{}))
	var wg sync.WaitGroup
	errs := make(chan error, workers*per)
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				r := &producer.Record{Topic: topic, Key: fmt.Appendf(nil, "%d-%d", w, i), Value: []byte("v")}
				if i%2 == 0 {
					tr.SendCallback(context.Background(), r, func(_ producer.RecordMetadata, err error) {
						if err != nil {
							errs <- err
						}
					})
				} else {
					tr.Send(context.Background(), r)
				}
			}
		})
	}
	wg.Wait()
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	spans := producerSpans(rec)
	if len(spans) != workers*per {
		t.Fatalf("%d spans, want %d", len(spans), workers*per)
	}
	ids := map[trace.SpanID]bool{}
	for _, s := range spans {
		if ids[s.SpanContext().SpanID()] {
			t.Fatal("duplicate span id")
		}
		ids[s.SpanContext().SpanID()] = true
		if _, ok := attrs(s)["messaging.kafka.offset"]; !ok {
			t.Fatalf("span without offset: %v", s.Attributes())
		}
	}
}

func TestHeaderCarrier(t *testing.T) {
	h := []producer.Header{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("2")}, {Key: "a", Value: []byte("3")}}
	c := totel.HeaderCarrier{Headers: &h}
	if got := c.Get("a"); got != "3" {
		t.Fatalf("Get(a) = %q, want the last value", got)
	}
	if got := c.Get("missing"); got != "" {
		t.Fatalf("Get(missing) = %q", got)
	}
	if keys := fmt.Sprint(c.Keys()); keys != "[a b]" {
		t.Fatalf("Keys = %s", keys)
	}
	c.Set("a", "new")
	c.Set("c", "4")
	if got := fmt.Sprintf("%s", h); got != "[{a new} {b 2} {c 4}]" {
		t.Fatalf("after Set: %s", got)
	}
}

// TestPassThrough checks that the wrapper hands everything else to the
// wrapped producer.
func TestPassThrough(t *testing.T) {
	mock := producertest.New(producertest.WithPartitions("a", 3))
	tr := totel.NewProducer(mock, totel.WithTracerProvider(trace.NewNoopTracerProvider()))
	if tr.Unwrap() != producer.Interface(mock) {
		t.Fatal("Unwrap")
	}
	parts, err := tr.PartitionsFor(context.Background(), "a")
	if err != nil || len(parts) != 3 {
		t.Fatalf("PartitionsFor = %v, %v", parts, err)
	}
	if err := tr.BeginTransaction(); !errors.Is(err, producer.ErrNotTransactional) {
		t.Fatalf("BeginTransaction on a plain producer: %v", err)
	}
	if f := tr.Send(context.Background(), nil); f == nil {
		t.Fatal("nil Future")
	} else if _, err := f.Get(context.Background()); !errors.Is(err, producer.ErrNilRecord) {
		t.Fatalf("nil record: %v", err)
	}
	if err := tr.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !mock.Closed() {
		t.Fatal("Close did not reach the wrapped producer")
	}
}

// TestTypedOverTraced sends through producer.Typed on top of the traced
// producer: serialized records get their spans too.
func TestTypedOverTraced(t *testing.T) {
	tprov, rec := tracing(t)
	mock := producertest.New()
	typed := producer.NewTyped(totel.NewProducer(mock, totel.WithTracerProvider(tprov)), producer.StringSerializer(), producer.StringSerializer())
	if _, err := typed.Send(context.Background(), &producer.TypedRecord[string, string]{Topic: "a", Key: "k", Value: "v"}).Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := producerSpans(rec)
	if len(spans) != 1 || attrs(spans[0])["messaging.kafka.message.key"].AsString() != "k" {
		t.Fatalf("spans %v", spans)
	}
}
