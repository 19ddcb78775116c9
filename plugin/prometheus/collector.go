package prometheus

import (
	"strconv"
	"strings"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/tributary-go/tributary/producer"
)

// Source is what a Collector reads: a *producer.Producer, a
// producertest.Producer, or any producer.Interface.
type Source interface {
	Metrics() producer.Metrics
}

// Option configures a Collector.
type Option func(*Collector)

// WithNamespace replaces the "tributary" prefix of every series name.
func WithNamespace(ns string) Option { return func(c *Collector) { c.namespace = ns } }

// WithConstLabels adds fixed labels to every series, e.g. a client_id to
// tell several producers of one process apart.
func WithConstLabels(labels prom.Labels) Option {
	return func(c *Collector) { c.constLabels = labels }
}

// Collector is a prometheus.Collector over a producer's Metrics. Each
// Collect takes one snapshot (Producer.Metrics), so a scrape costs a few
// microseconds and never blocks on the producer. Safe for concurrent use.
type Collector struct {
	src         Source
	namespace   string
	constLabels prom.Labels
	descs       map[string]*prom.Desc // by group + ":" + Java name; built by NewCollector, read-only
	order       []*prom.Desc
}

var _ prom.Collector = (*Collector)(nil)

// NewCollector returns a Collector over src. Register it with a
// prometheus.Registerer; it describes every series up front (producer-wide,
// per topic with label "topic", per broker with label "node").
func NewCollector(src Source, opts ...Option) *Collector {
	c := &Collector{src: src, namespace: "tributary", descs: map[string]*prom.Desc{}}
	for _, o := range opts {
		o(c)
	}
	groups := []struct {
		group, sub string
		labels     []string
	}{
		{producer.GroupProducer, "producer", nil},
		{producer.GroupTopic, "producer_topic", []string{"topic"}},
		{producer.GroupNode, "producer_node", []string{"node"}},
	}
	for _, g := range groups {
		for _, m := range producer.MetricNames(g.group) {
			d := prom.NewDesc(SeriesName(c.namespace, g.sub, m.Name), m.Help, g.labels, c.constLabels)
			c.descs[g.group+":"+m.Name] = d
			c.order = append(c.order, d)
		}
	}
	return c
}

// SeriesName returns the Prometheus name of a Java metric: namespace,
// subsystem and the Java name with dashes as underscores, e.g.
// "tributary_producer_record_send_total" or
// "tributary_producer_topic_byte_rate". Values keep Java's units (see
// producer.Metric).
func SeriesName(namespace, subsystem, javaName string) string {
	return prom.BuildFQName(namespace, subsystem, strings.ReplaceAll(javaName, "-", "_"))
}

// Describe sends the descriptors of every series.
func (c *Collector) Describe(ch chan<- *prom.Desc) {
	for _, d := range c.order {
		ch <- d
	}
}

// Collect takes a snapshot and sends every figure: totals as counters,
// everything else as gauges.
func (c *Collector) Collect(ch chan<- prom.Metric) {
	for _, m := range c.src.Metrics().List() {
		d := c.descs[m.Group+":"+m.Name]
		if d == nil {
			continue
		}
		vt := prom.GaugeValue
		if m.Cumulative() {
			vt = prom.CounterValue
		}
		var labels []string
		switch m.Group {
		case producer.GroupTopic:
			labels = []string{m.Topic}
		case producer.GroupNode:
			labels = []string{strconv.Itoa(int(m.Node))}
		}
		ch <- prom.MustNewConstMetric(d, vt, m.Value, labels...)
	}
}
