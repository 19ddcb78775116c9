package otel

import (
	global "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the plug-in's Tracer and
// Meter: the module path, as the OpenTelemetry guidelines ask.
const ScopeName = "github.com/tributary-go/tributary/plugin/otel"

// Option configures NewProducer and RegisterMetrics. Options only record
// values; they may be shared between goroutines and reused.
type Option func(*config)

type config struct {
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	propagator     propagation.TextMapPropagator
	clientID       string
	keyAttribute   bool
	metricPrefix   string
}

func newConfig(opts []Option) *config {
	c := &config{keyAttribute: true, metricPrefix: "kafka.producer"}
	for _, o := range opts {
		o(c)
	}
	// Resolved after the options, so that an explicit nil still means the
	// global default. The global providers and propagator delegate to
	// whatever is installed later with otel.SetTracerProvider and friends.
	if c.tracerProvider == nil {
		c.tracerProvider = global.GetTracerProvider()
	}
	if c.meterProvider == nil {
		c.meterProvider = global.GetMeterProvider()
	}
	if c.propagator == nil {
		c.propagator = global.GetTextMapPropagator()
	}
	return c
}

// WithTracerProvider sets where spans go. Default: otel.GetTracerProvider().
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tracerProvider = tp }
}

// WithMeterProvider sets where RegisterMetrics registers its instruments.
// Default: otel.GetMeterProvider().
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.meterProvider = mp }
}

// WithPropagator sets the propagator that writes the span's context into
// record headers. Default: otel.GetTextMapPropagator(), which is a no-op
// until the application installs one (for W3C trace context:
// otel.SetTextMapPropagator(propagation.TraceContext{})).
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(c *config) { c.propagator = p }
}

// WithClientID sets the client id reported as messaging.client.id on spans
// and as the "client-id" attribute of every metric. Pass the producer's
// client.id (producer.WithClientID) so that traces, metrics and broker logs
// agree. Default "": the attribute is left out.
func WithClientID(id string) Option {
	return func(c *config) { c.clientID = id }
}

// WithKeyAttribute sets whether spans carry the record key as
// messaging.kafka.message.key. The semantic conventions recommend it, but
// keys may be personal data. Only keys that are valid UTF-8 are recorded
// (the conventions ask to leave out keys without a canonical string form).
// Default true.
func WithKeyAttribute(enable bool) Option {
	return func(c *config) { c.keyAttribute = enable }
}

// WithMetricPrefix replaces "kafka.producer", the prefix of every
// instrument name (see InstrumentName).
func WithMetricPrefix(prefix string) Option {
	return func(c *config) { c.metricPrefix = prefix }
}
