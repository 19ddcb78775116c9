package producer

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/tributary-go/tributary/internal/telemetry"
	"github.com/tributary-go/tributary/metadata"
)

// KIP-714 client telemetry: the producer pushes its metrics to the
// cluster when a broker runs a telemetry receiver and an operator has
// subscribed to them (kafka-client-metrics.sh). The state machine lives in
// internal/telemetry; this file configures it and maps the producer's
// Java-named metrics onto KIP-714 names.

const keyMetricsPush = "enable.metrics.push"

// ErrTelemetryDisabled is returned by ClientInstanceID when client
// telemetry is off: enable.metrics.push=false, or a broker error disabled
// it, or the producer closed before an id arrived.
var ErrTelemetryDisabled = errors.New("producer: client telemetry is disabled (enable.metrics.push=false, or the broker turned it off)")

// WithMetricsPush sets whether the producer pushes its metrics to the
// cluster when a broker asks for them (KIP-714 client telemetry). Java:
// enable.metrics.push. Default true. Against brokers without a telemetry
// receiver (the common case) it costs one GetTelemetrySubscriptions check
// per push interval at most, and nothing when the broker does not list
// the API; no metric is sent unless an operator subscribed to it.
func WithMetricsPush(enable bool) Option {
	return func(c *config) {
		c.metricsPush = enable
		c.mark(keyMetricsPush)
	}
}

// ClientInstanceID returns the client instance id the cluster assigned
// to this producer for telemetry (Java's KafkaProducer.clientInstanceId),
// in Kafka's Uuid form, waiting for it until ctx ends. It returns
// ErrTelemetryDisabled when telemetry is off. Safe for concurrent use; it
// blocks.
func (p *Producer) ClientInstanceID(ctx context.Context) (string, error) {
	if p.tel == nil {
		return "", ErrTelemetryDisabled
	}
	id, err := p.tel.ClientInstanceID(ctx)
	if errors.Is(err, telemetry.ErrDisabled) {
		return "", ErrTelemetryDisabled
	}
	if err != nil {
		return "", err
	}
	return telemetry.FormatID(id), nil
}

// newTelemetry returns the producer's telemetry reporter, or nil when
// enable.metrics.push is false. It is started by startTelemetry.
func newTelemetry(p *Producer, f *metadata.PoolFetcher) *telemetry.Reporter {
	if !p.cfg.metricsPush {
		return nil
	}
	return telemetry.New(telemetry.Config{
		Conn: func(ctx context.Context) (telemetry.Broker, error) {
			c, err := f.Conn(ctx)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		Collect:        func() []telemetry.Metric { return telemetryMetrics(p.Metrics()) },
		Scope:          telemetry.Attr{Key: "tributary", Value: Version},
		RequestTimeout: p.cfg.requestTimeout,
		Logger:         p.cfg.logger,
	})
}

// connReady wraps the connection pool's dial-ended signal so that the
// first dial also lets telemetry send its first request: a producer that
// is never used contacts no broker.
func (p *Producer) connReady(signal func()) func() {
	return func() {
		signal()
		if p.tel != nil {
			p.tel.Ready()
		}
	}
}

func (p *Producer) startTelemetry() {
	if p.tel != nil {
		p.tel.Start()
	}
}

// closeTelemetry sends the terminating push (when subscribed) and stops
// the reporter, within ctx. Close calls it once records are delivered, so
// the last push carries the final figures, and before the connections
// close.
func (p *Producer) closeTelemetry(ctx context.Context) {
	if p.tel != nil {
		p.tel.Close(ctx)
	}
}

// telemetryMetrics maps the producer's metrics onto KIP-714 names, as
// Java's TelemetryMetricNamingConvention does: "org.apache.kafka.", the
// group without "-metrics", then the name, with dashes turned to dots
// (producer-metrics record-queue-time-avg becomes
// org.apache.kafka.producer.record.queue.time.avg;
// producer-node-metrics request-latency-avg becomes
// org.apache.kafka.producer.node.request.latency.avg); tags become
// snake_case attributes (topic, node_id). Running totals (-total) are
// monotonic sums, as Java's KafkaMetricsCollector reports cumulative
// measurables; the rest are gauges.
func telemetryMetrics(m Metrics) []telemetry.Metric {
	list := m.List()
	out := make([]telemetry.Metric, 0, len(list))
	for _, x := range list {
		tm := telemetry.Metric{
			Name:        telemetryName(x.Group, x.Name),
			Description: x.Help,
			Value:       x.Value,
			Sum:         x.Cumulative(),
		}
		switch x.Group {
		case GroupTopic:
			tm.Attrs = []telemetry.Attr{{Key: "topic", Value: x.Topic}}
		case GroupNode:
			tm.Attrs = []telemetry.Attr{{Key: "node_id", Value: "node-" + strconv.Itoa(int(x.Node))}}
		}
		out = append(out, tm)
	}
	return out
}

// telemetryName returns the KIP-714 name of a Java metric.
func telemetryName(group, name string) string {
	g := strings.ReplaceAll(strings.ToLower(group), "-", ".")
	g = strings.ReplaceAll(g, ".metrics", "")
	return "org.apache.kafka." + g + "." + strings.ReplaceAll(strings.ToLower(name), "-", ".")
}
