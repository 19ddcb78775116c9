package telemetry

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/tributary-go/tributary/internal/compress"
	"github.com/tributary-go/tributary/protocol"
)

// The Reporter is the state machine of Java's ClientTelemetryReporter
// (DefaultClientTelemetrySender), driven by one goroutine instead of the
// network client's poll loop:
//
//	subscription needed ──GetTelemetrySubscriptions──▶ push needed ──PushTelemetry──▶ push needed …
//	        ▲    │ no metrics requested: ask again after the interval      │
//	        │    └──────────────────────────────────────────────────────── │
//	        └──────── UNKNOWN_SUBSCRIPTION_ID, TELEMETRY_TOO_LARGE, … ─────┘
//	Close: push needed ──PushTelemetry(Terminating)──▶ terminated
//
// The goroutine sleeps on one timer until the next request is due (Java's
// timeToNextUpdate), so an idle producer is woken once per push interval
// at most, and not at all once telemetry is disabled. The first push after
// a new subscription is spread over 0.5–1.5 push intervals, as Java does,
// so that clients started together do not push together.

// DefaultPushInterval is the interval used when a broker gives none or
// cannot be asked: Java's ClientTelemetryReporter.DEFAULT_PUSH_INTERVAL_MS.
const DefaultPushInterval = 5 * time.Minute

// ErrDisabled is returned by [Reporter.ClientInstanceID] once telemetry is
// disabled (by a broker error, or because the reporter closed) before a
// client instance id arrived.
var ErrDisabled = errors.New("telemetry: client telemetry is disabled")

// Broker is the connection a Reporter sends a request on. *conn.Conn
// implements it.
type Broker interface {
	// Version returns the negotiated version of k, or an error when the
	// broker does not support it.
	Version(k protocol.Key) (int16, error)
	// Do sends req and waits for its response.
	Do(ctx context.Context, req protocol.Request) (protocol.Response, error)
}

// Config configures a Reporter.
type Config struct {
	// Conn returns a connection to a ready broker (any broker can answer
	// both APIs). It may block until ctx ends. Required.
	Conn func(ctx context.Context) (Broker, error)
	// Collect returns the client's metrics now, under their KIP-714 names.
	// It is called on the Reporter's goroutine when a push is due.
	// Required.
	Collect func() []Metric
	// Resource are the OTLP resource attributes of every push.
	Resource []Attr
	// Scope is the OTLP instrumentation scope (name, version).
	Scope Attr
	// RequestTimeout bounds each connection attempt and request; 30 s when
	// zero (request.timeout.ms).
	RequestTimeout time.Duration
	// Backoff returns the wait before the attempt-th retry (1, 2, …) after
	// a failed connection or request; 1 s doubling to DefaultPushInterval
	// when nil.
	Backoff func(attempt int) time.Duration
	// Clock is the time source; the system clock when nil.
	Clock Clock
	// Logger receives state changes at Debug and Info; slog's default
	// logger when nil.
	Logger *slog.Logger
}

// state is where the Reporter is in the KIP-714 life cycle.
type state int8

const (
	stateSubscriptionNeeded state = iota
	statePushNeeded
	stateDisabled
	stateTerminated
)

func (s state) String() string {
	switch s {
	case stateSubscriptionNeeded:
		return "subscription needed"
	case statePushNeeded:
		return "push needed"
	case stateDisabled:
		return "disabled"
	}
	return "terminated"
}

// subscription is a broker's answer to GetTelemetrySubscriptions.
type subscription struct {
	id       int32
	interval time.Duration
	codecs   []int8 // accepted compression, broker's preference first
	maxBytes int32
	delta    bool
	sel      selector
}

// Stats counts what a Reporter has done, for tests and diagnostics.
type Stats struct {
	State             string // "subscription needed", "push needed", "disabled" or "terminated"
	Subscriptions     int    // GetTelemetrySubscriptions answered (errors included)
	Pushes            int    // PushTelemetry answered without error, the terminating one included
	TerminatingPushes int    // terminating pushes answered without error
	PushErrors        int    // PushTelemetry answered with an error code
	// RequestedMetrics are the prefixes of the current subscription.
	RequestedMetrics []string
}

// Reporter runs KIP-714 client telemetry for one client. Create it with
// New, start it with Start, and Close it. Its methods are safe for
// concurrent use.
type Reporter struct {
	cfg    Config
	clock  Clock
	log    *slog.Logger
	jitter func() float64 // in [0.5, 1.5); replaced by tests

	kick      chan struct{} // Ready's signal: a broker connection was dialled (capacity 1)
	closing   chan struct{} // closed by the first Close
	closeOnce sync.Once
	startOnce sync.Once
	done      chan struct{} // closed when run returns
	ctx       context.Context
	cancel    context.CancelFunc

	mu         sync.Mutex
	state      state         // guarded by mu
	sub        *subscription // guarded by mu; nil until the first answer
	instanceID [16]byte      // guarded by mu; zero until assigned
	gotID      chan struct{} // closed once instanceID is set or telemetry ends
	gotIDOnce  sync.Once
	stats      Stats // guarded by mu

	// Owned by the run goroutine.
	waitConn    bool               // the next request waits for Ready too
	next        time.Time          // when the next request is due
	failures    int                // consecutive failed attempts
	start       time.Time          // start time of cumulative sums
	lastPush    time.Time          // start time of delta sums
	last        map[string]float64 // sums at the last push, for deltas
	compressors map[int8]*compress.Compressor
}

// New returns a Reporter for cfg. It starts nothing and does not block.
func New(cfg Config) *Reporter {
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.Backoff == nil {
		cfg.Backoff = func(attempt int) time.Duration {
			d := time.Second << min(attempt-1, 16)
			return min(d, DefaultPushInterval)
		}
	}
	r := &Reporter{
		cfg:     cfg,
		clock:   cfg.Clock,
		log:     cfg.Logger,
		jitter:  func() float64 { return 0.5 + rand.Float64() },
		kick:    make(chan struct{}, 1),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
		gotID:   make(chan struct{}),
	}
	if r.clock == nil {
		r.clock = systemClock{}
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.start = r.clock.Now()
	return r
}

// Start starts the Reporter's goroutine. The first request waits for
// Ready. It does not block; calls after the first do nothing.
func (r *Reporter) Start() {
	r.startOnce.Do(func() { go r.run() })
}

// Ready tells the Reporter that a broker connection was dialled, so that
// its first GetTelemetrySubscriptions may go out (Java sends it as soon as
// the network client has a ready node), and so that a Reporter whose
// brokers did not list the telemetry APIs checks the new broker. It never
// blocks and is cheap enough to call on every dial.
func (r *Reporter) Ready() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Close sends the terminating push when a subscription requests metrics,
// stops the goroutine and waits for it, or until ctx ends (then the
// request in flight is abandoned). It is safe to call more than once;
// a Reporter that was never started closes at once.
func (r *Reporter) Close(ctx context.Context) {
	r.closeOnce.Do(func() { close(r.closing) })
	r.startOnce.Do(func() { close(r.done) }) // never started: nothing runs
	select {
	case <-r.done:
	case <-ctx.Done():
		r.cancel()
		<-r.done
	}
	r.cancel()
	r.mu.Lock()
	if r.state != stateDisabled {
		r.state = stateTerminated
	}
	r.mu.Unlock()
	r.gotIDOnce.Do(func() { close(r.gotID) })
}

// ClientInstanceID returns the client instance id the broker assigned,
// waiting for it until ctx ends (Java's clientInstanceId(Duration)). It
// returns ErrDisabled when telemetry ended before an id arrived.
func (r *Reporter) ClientInstanceID(ctx context.Context) ([16]byte, error) {
	select {
	case <-r.gotID:
	case <-ctx.Done():
		return [16]byte{}, ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.instanceID == ([16]byte{}) {
		return [16]byte{}, ErrDisabled
	}
	return r.instanceID, nil
}

// Stats returns the Reporter's counters and state. It does not block.
func (r *Reporter) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.State = r.state.String()
	if r.sub != nil {
		s.RequestedMetrics = append([]string(nil), r.sub.sel.prefixes...)
		if r.sub.sel.all {
			s.RequestedMetrics = []string{"*"}
		}
	}
	return s
}

// FormatID formats a client instance id as Kafka prints a Uuid (URL-safe
// base64 without padding).
func FormatID(id [16]byte) string { return base64.RawURLEncoding.EncodeToString(id[:]) }

func (r *Reporter) run() {
	defer close(r.done)
	r.waitConn = true
	r.next = r.clock.Now()
	for {
		if r.waitConn {
			select {
			case <-r.kick:
				r.waitConn = false
			case <-r.closing:
				return
			}
		}
		if wait := r.next.Sub(r.clock.Now()); wait > 0 {
			c, stop := r.clock.NewTimer(wait)
			select {
			case <-c:
			case <-r.closing:
				stop()
				r.terminate()
				return
			}
		}
		select {
		case <-r.closing:
			r.terminate()
			return
		default:
		}
		if !r.step() {
			<-r.closing // disabled: nothing more to do, and no timers
			return
		}
	}
}

// step sends the request that is due and reports whether telemetry is
// still enabled.
func (r *Reporter) step() bool {
	r.mu.Lock()
	st, sub := r.state, r.sub
	r.mu.Unlock()
	switch st {
	case stateSubscriptionNeeded:
		return r.fetchSubscription(sub)
	case statePushNeeded:
		return r.push(sub, false)
	}
	return false
}

// terminate sends the terminating push when a subscription requests
// metrics (KIP-714 "Client termination"; Java's initiateClose skips it
// when no subscription was loaded).
func (r *Reporter) terminate() {
	r.mu.Lock()
	st, sub := r.state, r.sub
	r.mu.Unlock()
	if st == statePushNeeded && sub != nil {
		r.push(sub, true)
	}
}

// fetchSubscription sends GetTelemetrySubscriptions and applies the
// answer.
func (r *Reporter) fetchSubscription(old *subscription) bool {
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.RequestTimeout)
	defer cancel()
	started := r.clock.Now() // the interval counts from the check's start
	b, err := r.cfg.Conn(ctx)
	if err != nil {
		r.retryLater("connecting for GetTelemetrySubscriptions", err)
		return true
	}
	if _, err := b.Version(protocol.KeyGetTelemetrySubscriptions); err != nil {
		// No telemetry receiver on this broker (the common case). Java
		// asks again after the default interval; a broker lists its APIs
		// once per connection, though, and metric.reporters changes only
		// with a restart, so the answer can change only on a new
		// connection. The check therefore waits for the next dial as
		// well as the interval: an idle producer is not woken, and its
		// connections are left to close after connections.max.idle.ms.
		r.failures = 0
		r.next = started.Add(DefaultPushInterval)
		r.awaitDial()
		r.log.Debug("telemetry: broker does not support client telemetry; asking again after the next connection", "err", err, "not before", DefaultPushInterval)
		return true
	}
	r.mu.Lock()
	req := &protocol.GetTelemetrySubscriptionsRequest{ClientInstanceID: r.instanceID}
	r.mu.Unlock()
	resp, err := b.Do(ctx, req)
	if err != nil {
		r.retryLater("GetTelemetrySubscriptions", err)
		return true
	}
	gr := resp.(*protocol.GetTelemetrySubscriptionsResponse)
	now := r.clock.Now()
	throttle := time.Duration(gr.ThrottleTimeMillis) * time.Millisecond
	r.mu.Lock()
	r.stats.Subscriptions++
	r.mu.Unlock()
	if gr.ErrorCode != 0 {
		return r.onError("GetTelemetrySubscriptions", gr.ErrorCode, old, now, throttle)
	}
	if gr.ClientInstanceID == ([16]byte{}) {
		r.disable("the broker assigned no client instance id")
		return false
	}
	r.failures = 0
	interval := time.Duration(gr.PushIntervalMillis) * time.Millisecond
	if interval <= 0 {
		interval = DefaultPushInterval // Java's validateIntervalMs
	}
	sub := &subscription{
		id:       gr.SubscriptionID,
		interval: interval,
		codecs:   gr.AcceptedCompressionTypes,
		maxBytes: gr.TelemetryMaxBytes,
		delta:    gr.DeltaTemporality,
		sel:      newSelector(gr.RequestedMetrics),
	}
	if old != nil && old.delta != sub.delta {
		r.last = nil // the sums' baseline changes meaning
	}
	next := now.Add(interval)
	st := stateSubscriptionNeeded // no metrics requested: ask again after the interval
	if !sub.sel.none() {
		st = statePushNeeded
		next = now.Add(time.Duration(float64(interval) * r.jitter()))
	}
	r.next = later(next, now.Add(throttle))
	r.mu.Lock()
	first := r.instanceID == ([16]byte{})
	r.instanceID = gr.ClientInstanceID
	r.sub, r.state = sub, st
	r.mu.Unlock()
	r.gotIDOnce.Do(func() { close(r.gotID) })
	if first {
		r.log.Info("telemetry: client telemetry registered", "client_instance_id", FormatID(gr.ClientInstanceID), "metrics", len(gr.RequestedMetrics), "push_interval", interval)
	}
	if st == stateSubscriptionNeeded {
		r.log.Debug("telemetry: subscription requests no metrics; asking again later", "in", interval)
	}
	return true
}

// push collects, encodes, compresses and pushes the subscribed metrics.
func (r *Reporter) push(sub *subscription, terminating bool) bool {
	now := r.clock.Now()
	codec, body, n, err := r.payload(sub, now)
	if err != nil {
		// Encoding our own metrics cannot fail short of a compressor
		// bug; Java logs and retries at the next interval.
		r.log.Warn("telemetry: building the metrics payload failed", "err", err)
		r.next = now.Add(sub.interval)
		return true
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.RequestTimeout)
	defer cancel()
	b, err := r.cfg.Conn(ctx)
	if err != nil {
		if !terminating {
			r.resubscribe()
			r.retryLater("connecting for PushTelemetry", err)
		}
		return true
	}
	if _, err := b.Version(protocol.KeyPushTelemetry); err != nil {
		if !terminating {
			r.resubscribe()
			r.failures = 0
			r.next = now.Add(DefaultPushInterval)
			r.awaitDial()
		}
		return true
	}
	r.mu.Lock()
	req := &protocol.PushTelemetryRequest{ClientInstanceID: r.instanceID, SubscriptionID: sub.id, Terminating: terminating, CompressionType: int8(codec), Metrics: body}
	r.mu.Unlock()
	resp, err := b.Do(ctx, req)
	if err != nil {
		if !terminating {
			r.resubscribe()
			r.retryLater("PushTelemetry", err)
		}
		return true
	}
	pr := resp.(*protocol.PushTelemetryResponse)
	now = r.clock.Now()
	throttle := time.Duration(pr.ThrottleTimeMillis) * time.Millisecond
	if pr.ErrorCode != 0 {
		r.mu.Lock()
		r.stats.PushErrors++
		r.mu.Unlock()
		if terminating {
			return true
		}
		return r.onError("PushTelemetry", pr.ErrorCode, sub, now, throttle)
	}
	r.failures = 0
	r.lastPush = now
	r.log.Debug("telemetry: pushed metrics", "metrics", n, "bytes", len(body), "codec", codec, "terminating", terminating)
	r.mu.Lock()
	r.stats.Pushes++
	if terminating {
		r.stats.TerminatingPushes++
	}
	r.mu.Unlock()
	r.next = later(now.Add(sub.interval), now.Add(throttle))
	return true
}

// payload returns the subscribed metrics as a (compressed) OTLP
// MetricsData, the codec used and the number of metrics.
func (r *Reporter) payload(sub *subscription, now time.Time) (compress.Codec, []byte, int, error) {
	all := r.cfg.Collect()
	p := payload{resource: r.cfg.Resource, scope: r.cfg.Scope, now: now, start: r.start, delta: sub.delta}
	if sub.delta && !r.lastPush.IsZero() {
		p.start = r.lastPush
	}
	p.metrics = all[:0]
	for _, m := range all {
		if !sub.sel.match(m.Name) {
			continue
		}
		if m.Sum && sub.delta {
			k := m.key()
			if r.last == nil {
				r.last = make(map[string]float64)
			}
			cur := m.Value
			m.Value -= r.last[k]
			r.last[k] = cur
		}
		p.metrics = append(p.metrics, m)
	}
	raw := appendMetricsData(nil, &p)
	codec := r.codec(sub.codecs)
	if codec == compress.None {
		return compress.None, raw, len(p.metrics), nil
	}
	out, err := r.compressors[int8(codec)].Compress(nil, raw)
	if err != nil {
		return 0, nil, 0, err
	}
	return codec, out, len(p.metrics), nil
}

// codec returns the broker's most preferred codec that we can write, as
// Java's preferredCompressionType (which takes the first), or None.
func (r *Reporter) codec(accepted []int8) compress.Codec {
	for _, id := range accepted {
		if id == int8(compress.None) {
			return compress.None
		}
		if c, ok := r.compressors[id]; ok {
			return c.Codec()
		}
		c, err := compress.NewCompressor(compress.Codec(id), 0)
		if err != nil {
			continue // a codec we do not know
		}
		if r.compressors == nil {
			r.compressors = make(map[int8]*compress.Compressor)
		}
		r.compressors[id] = c
		return c.Codec()
	}
	return compress.None
}

// onError applies a broker error code as Java's
// ClientTelemetryUtils.maybeFetchErrorIntervalMs does, and reports whether
// telemetry is still enabled.
func (r *Reporter) onError(api string, code int16, sub *subscription, now time.Time, throttle time.Duration) bool {
	kerr := protocol.KafkaError(code, nil)
	var wait time.Duration
	switch code {
	case protocol.ErrUnknownSubscriptionID.Code, protocol.ErrUnsupportedCompressionType.Code:
		// The subscription changed: fetch it again at once. A broker that
		// keeps answering so is asked with a growing backoff.
		r.failures++
		if r.failures > 1 {
			wait = r.cfg.Backoff(r.failures - 1)
		}
	case protocol.ErrTelemetryTooLarge.Code, protocol.ErrThrottlingQuotaExceeded.Code:
		wait = DefaultPushInterval
		if sub != nil {
			wait = sub.interval
		}
	default: // INVALID_REQUEST, INVALID_RECORD, UNSUPPORTED_VERSION and codes Java does not map
		r.disable(fmt.Sprintf("%s answered %v", api, kerr))
		return false
	}
	r.log.Debug("telemetry: broker error; fetching the subscription again", "api", api, "err", kerr, "in", wait)
	r.resubscribe()
	r.next = later(now.Add(wait), now.Add(throttle))
	return true
}

// awaitDial makes the next request wait for a dial that ends after now
// (see fetchSubscription).
func (r *Reporter) awaitDial() {
	select {
	case <-r.kick: // a dial from before: it is the connection just used
	default:
	}
	r.waitConn = true
}

// resubscribe moves back to asking for the subscription.
func (r *Reporter) resubscribe() {
	r.mu.Lock()
	if r.state == statePushNeeded {
		r.state = stateSubscriptionNeeded
	}
	r.mu.Unlock()
}

// retryLater schedules the next attempt after a failed connection or
// request.
func (r *Reporter) retryLater(what string, err error) {
	r.failures++
	wait := r.cfg.Backoff(r.failures)
	r.next = r.clock.Now().Add(wait)
	r.log.Debug("telemetry: request failed; retrying", "request", what, "err", err, "in", wait)
}

// disable stops telemetry for the Reporter's lifetime.
func (r *Reporter) disable(reason string) {
	r.mu.Lock()
	r.state = stateDisabled
	r.mu.Unlock()
	r.gotIDOnce.Do(func() { close(r.gotID) })
	r.log.Info("telemetry: client telemetry disabled", "reason", reason)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
