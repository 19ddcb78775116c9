package telemetry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tributary-go/tributary/internal/compress"
	"github.com/tributary-go/tributary/internal/leakcheck"
	"github.com/tributary-go/tributary/protocol"
)

const prefix = "org.apache.kafka.producer."

// TestNoMetricsStaysQuiet: a subscription with no requested metrics (what
// a broker with a receiver but no client-metrics resource answers) gives
// no push, not even on Close, and one timer per push interval for the
// re-check.
func TestNoMetricsStaysQuiet(t *testing.T) {
	leakcheck.Check(t, "internal/telemetry.")
	b := &fakeBroker{supported: true, subs: []*protocol.GetTelemetrySubscriptionsResponse{subResponse(10 * time.Minute)}}
	r, clk := newTestReporter(t, b)
	for i := 1; i <= 3; i++ {
		require.Equal(t, 10*time.Minute, waitTimer(t, clk), "re-check after the push interval")
		require.Equal(t, i, b.subscriptions())
		clk.Advance(10 * time.Minute)
		waitFor(t, "the re-check", func() bool { return b.subscriptions() == i+1 })
	}
	waitTimer(t, clk)
	r.Close(context.Background())
	require.Empty(t, b.pushes())
	require.Equal(t, "terminated", r.Stats().State)
	id, err := r.ClientInstanceID(context.Background())
	require.NoError(t, err)
	require.Equal(t, testInstance, id)
}

// TestUnsupportedBrokerStaysQuiet: a broker that does not list the APIs
// (no receiver plug-in) gets no request. The Reporter checks again only
// once a new connection was dialled and Java's default interval passed,
// so an idle producer is neither woken nor kept connected.
func TestUnsupportedBrokerStaysQuiet(t *testing.T) {
	leakcheck.Check(t, "internal/telemetry.")
	b := &fakeBroker{}
	r, clk := newTestReporter(t, b)
	conns := func() int { b.mu.Lock(); defer b.mu.Unlock(); return b.conns }
	waitFor(t, "the first check", func() bool { return conns() == 1 })
	clk.Advance(2 * time.Minute)
	r.Ready() // a new connection
	require.Equal(t, DefaultPushInterval-2*time.Minute, waitTimer(t, clk), "not before the interval")
	clk.Advance(DefaultPushInterval - 2*time.Minute)
	waitFor(t, "the second check", func() bool { return conns() == 2 })
	clk.Advance(DefaultPushInterval)
	r.Ready() // the interval has passed: the check follows the dial at once
	waitFor(t, "the third check", func() bool { return conns() == 3 })
	r.Close(context.Background())
	require.Empty(t, b.requests())
}

// TestNotReadyNoRequest: before Ready (no broker connection yet) nothing
// is sent and no timer is armed.
func TestNotReadyNoRequest(t *testing.T) {
	leakcheck.Check(t, "internal/telemetry.")
	b := &fakeBroker{supported: true, subs: []*protocol.GetTelemetrySubscriptionsResponse{subResponse(time.Second, "")}}
	called := 0
	r := New(Config{Conn: func(context.Context) (Broker, error) { called++; return b, nil }, Collect: func() []Metric { return nil }, Clock: newFakeClock(), Logger: quiet})
	r.Start()
	r.Close(context.Background())
	require.Zero(t, called)
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	_, err := r.ClientInstanceID(ctx)
	require.ErrorIs(t, err, ErrDisabled)

	never := New(Config{Conn: func(context.Context) (Broker, error) { return b, nil }, Collect: func() []Metric { return nil }})
	never.Close(context.Background()) // never started
}

// TestPushesAtInterval: pushes come at the push interval with the
// requested metrics only, encoded as OTLP; Close sends a terminating push.
func TestPushesAtInterval(t *testing.T) {
	leakcheck.Check(t, "internal/telemetry.")
	b := &fakeBroker{supported: true, subs: []*protocol.GetTelemetrySubscriptionsResponse{subResponse(time.Second, prefix)}}
	r, clk := newTestReporter(t, b)
	start := clk.Now()
	for i := 1; i <= 3; i++ {
		require.Equal(t, time.Second, waitTimer(t, clk))
		require.Len(t, b.pushes(), i-1)
		clk.Advance(time.Second)
		waitFor(t, "a push", func() bool { return len(b.pushes()) == i })
	}
	waitTimer(t, clk)
	r.Close(context.Background())
	pushes := b.pushes()
	require.Len(t, pushes, 4)
	require.Equal(t, 1, b.subscriptions())
	for i, p := range pushes {
		require.Equal(t, testInstance, p.ClientInstanceID)
		require.Equal(t, int32(7), p.SubscriptionID)
		require.Equal(t, i == 3, p.Terminating, "push %d", i)
		require.Equal(t, int8(0), p.CompressionType)
		res, scope, ms := decodeOTLP(t, p.Metrics)
		require.Equal(t, "[client_software_name=tributary]", res)
		require.Equal(t, "tributary/test", scope)
		at := uint64(start.Add(time.Duration(i+1) * time.Second).UnixNano())
		if i == 3 {
			at = uint64(start.Add(3 * time.Second).UnixNano()) // Close came right after the third
		}
		n := float64(i + 1)
		require.Equal(t, []gotMetric{
			{Name: prefix + "record.send.total", Sum: true, Temporality: 2, Monotonic: true, Value: 100 * n, Start: uint64(start.UnixNano()), Time: at, Attrs: "[]"},
			{Name: prefix + "record.queue.time.avg", Description: "avg queue time", Value: 2.5, Time: at, Attrs: "[]"},
			{Name: prefix + "topic.byte.total", Sum: true, Temporality: 2, Monotonic: true, Value: 1000 * n, Start: uint64(start.UnixNano()), Time: at, Attrs: "[topic=orders]"},
			{Name: prefix + "node.request.latency.max", Value: 9, Time: at, Attrs: "[node_id=node-1]"},
		}, ms, "push %d", i)
	}
	s := r.Stats()
	require.Equal(t, 4, s.Pushes)
	require.Equal(t, 1, s.TerminatingPushes)
}

// TestFirstPushJitter: the first push after a subscription is spread over
// 0.5–1.5 intervals, later ones come at the interval.
func TestFirstPushJitter(t *testing.T) {
	b := &fakeBroker{supported: true, subs: []*protocol.GetTelemetrySubscriptionsResponse{subResponse(10*time.Second, "*")}}
	clk := newFakeClock()
	r := New(Config{Conn: func(context.Context) (Broker, error) { return b, nil }, Collect: (&testMetrics{}).collect, Clock: clk, Logger: quiet})
	r.jitter = func() float64 { return 0.5 }
	r.Start()
	r.Ready()
	defer r.Close(context.Background())
	require.Equal(t, 5*time.Second, waitTimer(t, clk))
	clk.Advance(5 * time.Second)
	waitFor(t, "a push", func() bool { return len(b.pushes()) == 1 })
	require.Equal(t, 10*time.Second, waitTimer(t, clk))
	_, _, ms := decodeOTLP(t, b.pushes()[0].Metrics)
	require.Len(t, ms, 5, `"*" selects every metric`)
}

// TestUnknownSubscriptionRefetch: UNKNOWN_SUBSCRIPTION_ID on a push
// fetches the subscription again at once (with the instance id kept), and
// pushing goes on under the new subscription.
func TestUnknownSubscriptionRefetch(t *testing.T) {
	leakcheck.Check(t, "internal/telemetry.")
	second := subResponse(2*time.Second, prefix+"topic.")
	second.SubscriptionID = 8
	second.ClientInstanceID = [16]byte{} // the fake echoes the request's id
	b := &fakeBroker{supported: true,
		subs:      []*protocol.GetTelemetrySubscriptionsResponse{subResponse(time.Second, prefix), second},
		pushCodes: []int16{protocol.ErrUnknownSubscriptionID.Code},
	}
	r, clk := newTestReporter(t, b)
	require.Equal(t, time.Second, waitTimer(t, clk))
	clk.Advance(time.Second)
	waitFor(t, "the re-fetch", func() bool { return b.subscriptions() == 2 })
	require.Equal(t, 2*time.Second, waitTimer(t, clk), "next push at the new interval")
	clk.Advance(2 * time.Second)
	waitFor(t, "a push", func() bool { return len(b.pushes()) == 2 })
	reqs := b.requests()
	require.Equal(t, [16]byte{}, reqs[0].(*protocol.GetTelemetrySubscriptionsRequest).ClientInstanceID, "first request asks for an id")
	require.Equal(t, testInstance, reqs[2].(*protocol.GetTelemetrySubscriptionsRequest).ClientInstanceID, "re-fetch keeps the id")
	p := b.pushes()[1]
	require.Equal(t, int32(8), p.SubscriptionID)
	_, _, ms := decodeOTLP(t, p.Metrics)
	require.Len(t, ms, 1)
	require.Equal(t, prefix+"topic.byte.total", ms[0].Name)
	require.Equal(t, 1, r.Stats().PushErrors)
}

// TestErrorHandling covers the other error codes of Java's
// maybeFetchErrorIntervalMs.
func TestErrorHandling(t *testing.T) {
	for _, tt := range []struct {
		name    string
		code    int16
		refetch time.Duration // -1: telemetry disabled
	}{
		{"TELEMETRY_TOO_LARGE", protocol.ErrTelemetryTooLarge.Code, time.Second},
		{"THROTTLING_QUOTA_EXCEEDED", protocol.ErrThrottlingQuotaExceeded.Code, time.Second},
		{"UNSUPPORTED_COMPRESSION_TYPE", protocol.ErrUnsupportedCompressionType.Code, 0},
		{"UNSUPPORTED_VERSION", protocol.ErrUnsupportedVersion.Code, -1},
		{"INVALID_RECORD", protocol.ErrInvalidRecord.Code, -1},
		{"INVALID_REQUEST", protocol.ErrInvalidRequest.Code, -1},
		{"unmapped", protocol.ErrUnknownServerError.Code, -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			leakcheck.Check(t, "internal/telemetry.")
			b := &fakeBroker{supported: true, subs: []*protocol.GetTelemetrySubscriptionsResponse{subResponse(time.Second, prefix)}, pushCodes: []int16{tt.code}}
			r, clk := newTestReporter(t, b)
			waitTimer(t, clk)
			clk.Advance(time.Second)
			waitFor(t, "the push", func() bool { return len(b.pushes()) == 1 })
			switch {
			case tt.refetch < 0:
				waitFor(t, "disabled", func() bool { return r.Stats().State == "disabled" })
				require.Empty(t, clk.pending(), "no timer once disabled")
				r.Close(context.Background())
				require.Len(t, b.pushes(), 1, "no terminating push once disabled")
				require.Equal(t, 1, b.subscriptions())
				_, err := r.ClientInstanceID(context.Background())
				require.NoError(t, err, "the id stays known")
			case tt.refetch == 0:
				waitFor(t, "the re-fetch", func() bool { return b.subscriptions() == 2 })
			default:
				require.Equal(t, tt.refetch, waitTimer(t, clk))
				require.Equal(t, 1, b.subscriptions())
				require.Equal(t, "subscription needed", r.Stats().State)
				clk.Advance(tt.refetch)
				waitFor(t, "the re-fetch", func() bool { return b.subscriptions() == 2 })
			}
		})
	}
}

// TestSubscriptionErrorDisables: an error answer to
// GetTelemetrySubscriptions that Java does not retry disables telemetry.
func TestSubscriptionErrorDisables(t *testing.T) {
	leakcheck.Check(t, "internal/telemetry.")
	b := &fakeBroker{supported: true, subs: []*protocol.GetTelemetrySubscriptionsResponse{{ErrorCode: protocol.ErrInvalidRequest.Code}}}
	r, clk := newTestReporter(t, b)
	waitFor(t, "disabled", func() bool { return r.Stats().State == "disabled" })
	require.Empty(t, clk.pending())
	_, err := r.ClientInstanceID(context.Background())
	require.ErrorIs(t, err, ErrDisabled)
}

// TestThrottleAndConnectionBackoff: a throttle time postpones the next
// request; a failed connection is retried with the backoff.
func TestThrottleAndConnectionBackoff(t *testing.T) {
	leakcheck.Check(t, "internal/telemetry.")
	sub := subResponse(time.Second, prefix)
	sub.ThrottleTimeMillis = 7000
	b := &fakeBroker{supported: true, subs: []*protocol.GetTelemetrySubscriptionsResponse{sub}, connErr: errors.New("refused")}
	_, clk := newTestReporter(t, b)
	require.Equal(t, time.Second, waitTimer(t, clk), "first retry after 1 s")
	clk.Advance(time.Second)
	require.Equal(t, 2*time.Second, waitTimer(t, clk), "then 2 s")
	b.mu.Lock()
	b.connErr = nil
	b.mu.Unlock()
	clk.Advance(2 * time.Second)
	waitFor(t, "the subscription", func() bool { return b.subscriptions() == 1 })
	require.Equal(t, 7*time.Second, waitTimer(t, clk), "throttled")
}

// TestDeltaTemporalityAndCompression: with delta temporality sums are
// pushed as the growth since the previous push, and the payload is
// compressed with the broker's first accepted codec.
func TestDeltaTemporalityAndCompression(t *testing.T) {
	leakcheck.Check(t, "internal/telemetry.")
	sub := subResponse(time.Second, prefix+"record.send")
	sub.DeltaTemporality = true
	sub.AcceptedCompressionTypes = []int8{int8(compress.Zstd), int8(compress.Gzip)}
	b := &fakeBroker{supported: true, subs: []*protocol.GetTelemetrySubscriptionsResponse{sub}}
	_, clk := newTestReporter(t, b)
	start := clk.Now()
	for i := 1; i <= 2; i++ {
		waitTimer(t, clk)
		clk.Advance(time.Second)
		waitFor(t, "a push", func() bool { return len(b.pushes()) == i })
	}
	for i, p := range b.pushes() {
		require.Equal(t, int8(compress.Zstd), p.CompressionType)
		raw, err := compress.Decompress(nil, compress.Zstd, p.Metrics)
		require.NoError(t, err)
		_, _, ms := decodeOTLP(t, raw)
		require.Len(t, ms, 1)
		require.Equal(t, uint64(1), ms[0].Temporality, "DELTA")
		require.Equal(t, 100.0, ms[0].Value, "collect %d: 100 more records", i+1)
		require.Equal(t, uint64(start.Add(time.Duration(i)*time.Second).UnixNano()), ms[0].Start, "since the previous push")
	}
}

// TestCloseDuringSlowRequest: Close with an ended context abandons a
// request in flight and still returns with the goroutine gone.
func TestCloseDuringSlowRequest(t *testing.T) {
	leakcheck.Check(t, "internal/telemetry.")
	entered := make(chan struct{})
	r := New(Config{
		Conn: func(ctx context.Context) (Broker, error) {
			close(entered)
			<-ctx.Done()
			return nil, ctx.Err()
		},
		Collect: func() []Metric { return nil },
		Clock:   newFakeClock(),
	})
	r.Start()
	r.Ready()
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.Close(ctx)
}
