package otel

// The producer already keeps its figures under their Java names
// (producer.Metrics), so the exporter is a set of asynchronous instruments
// and one callback: at each collection it takes one snapshot and observes
// every figure. Nothing is counted twice and nothing runs between
// collections; the producer does not know it is being watched.

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tributary-go/tributary/producer"
)

// Source is what RegisterMetrics reads: a *producer.Producer, a
// traced Producer, a producertest.Producer, or any producer.Interface.
type Source interface {
	Metrics() producer.Metrics
}

// Attribute keys of the exported metrics, as Kafka's Java metric tags and
// the OpenTelemetry Java Kafka metrics bridge name them.
const (
	AttrClientID = "client-id" // set by WithClientID
	AttrTopic    = "topic"     // producer-topic-metrics
	AttrNodeID   = "node-id"   // producer-node-metrics, "node-<id>" as in Java
)

// groups maps each Java metric group to the infix of its instruments.
var groups = []struct{ group, infix string }{
	{producer.GroupProducer, ""},
	{producer.GroupTopic, "topic"},
	{producer.GroupNode, "node"},
}

// RegisterMetrics creates an asynchronous instrument for each of the
// producer's Java metrics on the Meter of the configured MeterProvider
// (WithMeterProvider; default the global one), and a callback that
// observes them all from one src.Metrics() snapshot per collection.
// Running totals (Java names ending in -total) are Float64ObservableCounters,
// the rest Float64ObservableGauges; values keep Java's units, given as each
// instrument's unit. Names come from InstrumentName. Per-topic and
// per-broker figures carry the AttrTopic and AttrNodeID attributes, and
// every figure AttrClientID when WithClientID is given.
//
// Call Unregister on the returned Registration to stop observing src (for
// example after closing the producer). RegisterMetrics does not block; the
// callback takes a few microseconds and never waits for the producer.
// Several producers may be registered on one Meter when each has its own
// client id.
func RegisterMetrics(src Source, opts ...Option) (metric.Registration, error) {
	c := newConfig(opts)
	meter := c.meterProvider.Meter(ScopeName, metric.WithInstrumentationVersion(producer.Version))
	insts := make(map[string]metric.Float64Observable)
	var all []metric.Observable
	for _, g := range groups {
		for _, m := range producer.MetricNames(g.group) {
			name := InstrumentName(c.metricPrefix, g.group, m.Name)
			var (
				inst metric.Float64Observable
				err  error
			)
			if m.Cumulative() {
				inst, err = meter.Float64ObservableCounter(name, metric.WithDescription(m.Help), metric.WithUnit(unitOf(m.Name)))
			} else {
				inst, err = meter.Float64ObservableGauge(name, metric.WithDescription(m.Help), metric.WithUnit(unitOf(m.Name)))
			}
			if err != nil {
				return nil, fmt.Errorf("otel: creating instrument %s: %w", name, err)
			}
			insts[g.group+":"+m.Name] = inst
			all = append(all, inst)
		}
	}
	var client []attribute.KeyValue
	if c.clientID != "" {
		client = []attribute.KeyValue{attribute.String(AttrClientID, c.clientID)}
	}
	wide := metric.WithAttributeSet(attribute.NewSet(client...))
	reg, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		byKey := map[string]metric.MeasurementOption{}
		for _, m := range src.Metrics().List() {
			inst := insts[m.Group+":"+m.Name]
			if inst == nil {
				continue
			}
			opt := wide
			if m.Group != producer.GroupProducer {
				key := m.Key()[len(m.Name):] // "{topic=…}" or "{node-id=…}"
				if opt = byKey[key]; opt == nil {
					opt = metric.WithAttributeSet(attribute.NewSet(append(client, groupAttr(m))...))
					byKey[key] = opt
				}
			}
			o.ObserveFloat64(inst, m.Value, opt)
		}
		return nil
	}, all...)
	if err != nil {
		return nil, fmt.Errorf("otel: registering the metrics callback: %w", err)
	}
	return reg, nil
}

func groupAttr(m producer.Metric) attribute.KeyValue {
	if m.Group == producer.GroupTopic {
		return attribute.String(AttrTopic, m.Topic)
	}
	return attribute.String(AttrNodeID, "node-"+strconv.Itoa(int(m.Node)))
}

// InstrumentName returns the OpenTelemetry instrument name of a Java
// metric: prefix, "topic" or "node" for the per-topic and per-broker
// groups, and the Java name with dashes as underscores, joined by dots:
// "kafka.producer.record_send_total",
// "kafka.producer.topic.byte_rate", "kafka.producer.node.request_latency_avg".
// The producer-wide names are those of the OpenTelemetry Java Kafka
// metrics bridge; the per-topic and per-broker figures get names of their
// own, so that summing an instrument over its attributes never adds a
// topic's figure to the producer-wide one.
func InstrumentName(prefix, group, javaName string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, g := range groups {
		if g.group == group && g.infix != "" {
			b.WriteString(".")
			b.WriteString(g.infix)
		}
	}
	b.WriteString(".")
	b.WriteString(strings.ReplaceAll(javaName, "-", "_"))
	return b.String()
}

// unitOf returns the UCUM unit of a Java metric, in the unit Java reports
// it in; "" where the figure is a plain count or ratio.
func unitOf(name string) string {
	switch {
	case strings.HasSuffix(name, "-ns-total"):
		return "ns"
	case name == "metadata-age":
		return "s"
	case strings.Contains(name, "latency"), strings.Contains(name, "queue-time"), strings.Contains(name, "throttle-time"):
		return "ms"
	case name == "byte-rate":
		return "By/s"
	case name == "byte-total", strings.HasPrefix(name, "batch-size-"), strings.HasSuffix(name, "-bytes"):
		return "By"
	}
	return ""
}
