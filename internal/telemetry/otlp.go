package telemetry

import (
	"encoding/binary"
	"math"
	"strings"
	"time"
)

// The push payload is an OTLP MetricsData message
// (opentelemetry/proto/metrics/v1/metrics.proto), which KIP-714 names as
// the metrics format. Only the small part the producer needs is encoded:
// number data points of gauges and monotonic sums, with string
// attributes. The protobuf encoding is written here by hand, so that the
// library keeps its three runtime dependencies: a field is a varint key
// (field number << 3 | wire type) followed by a varint, a fixed 64-bit
// value, or a length-prefixed body. Nested messages are built inside out,
// each appended to its parent with its length.

// Protobuf wire types.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
)

// OTLP field numbers used here.
const (
	fMetricsDataResourceMetrics = 1 // MetricsData.resource_metrics
	fResourceMetricsResource    = 1 // ResourceMetrics.resource
	fResourceMetricsScope       = 2 // ResourceMetrics.scope_metrics
	fResourceAttributes         = 1 // Resource.attributes
	fScopeMetricsScope          = 1 // ScopeMetrics.scope
	fScopeMetricsMetrics        = 2 // ScopeMetrics.metrics
	fScopeName                  = 1 // InstrumentationScope.name
	fScopeVersion               = 2 // InstrumentationScope.version
	fMetricName                 = 1 // Metric.name
	fMetricDescription          = 2 // Metric.description
	fMetricUnit                 = 3 // Metric.unit
	fMetricGauge                = 5 // Metric.gauge
	fMetricSum                  = 7 // Metric.sum
	fGaugeDataPoints            = 1 // Gauge.data_points
	fSumDataPoints              = 1 // Sum.data_points
	fSumTemporality             = 2 // Sum.aggregation_temporality
	fSumMonotonic               = 3 // Sum.is_monotonic
	fPointStart                 = 2 // NumberDataPoint.start_time_unix_nano (fixed64)
	fPointTime                  = 3 // NumberDataPoint.time_unix_nano (fixed64)
	fPointDouble                = 4 // NumberDataPoint.as_double (double)
	fPointAttributes            = 7 // NumberDataPoint.attributes
	fKeyValueKey                = 1 // KeyValue.key
	fKeyValueValue              = 2 // KeyValue.value
	fAnyValueString             = 1 // AnyValue.string_value
)

// AggregationTemporality values.
const (
	temporalityDelta      = 1
	temporalityCumulative = 2
)

// Metric is one figure to push, already under its KIP-714 name (for
// example "org.apache.kafka.producer.record.queue.time.avg") and in the
// Java client's unit.
type Metric struct {
	Name        string
	Description string
	// Attrs are the metric's tags as OTLP attributes (for example
	// {"topic", "orders"} or {"node_id", "node-1"}), in a fixed order.
	Attrs []Attr
	Value float64
	// Sum marks a running total (a monotonic OTLP sum); otherwise the
	// metric is a gauge.
	Sum bool
}

// Attr is one string attribute of a Metric or of the resource.
type Attr struct{ Key, Value string }

// key identifies a metric series for delta temporality.
func (m *Metric) key() string {
	if len(m.Attrs) == 0 {
		return m.Name
	}
	var b strings.Builder
	b.WriteString(m.Name)
	for _, a := range m.Attrs {
		b.WriteByte(0)
		b.WriteString(a.Key)
		b.WriteByte(0)
		b.WriteString(a.Value)
	}
	return b.String()
}

// payload describes one push.
type payload struct {
	resource []Attr
	scope    Attr // InstrumentationScope name and version
	metrics  []Metric
	now      time.Time
	// start is the start time of every sum point: the client's start for
	// cumulative sums, the previous push for deltas.
	start time.Time
	delta bool
}

// appendMetricsData appends p encoded as an OTLP MetricsData message.
func appendMetricsData(dst []byte, p *payload) []byte {
	var res []byte
	for _, a := range p.resource {
		res = appendMessage(res, fResourceAttributes, appendKeyValue(nil, a))
	}
	var scope []byte
	scope = appendString(scope, fScopeName, p.scope.Key)
	scope = appendString(scope, fScopeVersion, p.scope.Value)
	sm := appendMessage(nil, fScopeMetricsScope, scope)
	for i := range p.metrics {
		sm = appendMessage(sm, fScopeMetricsMetrics, appendMetric(nil, &p.metrics[i], p))
	}
	rm := appendMessage(nil, fResourceMetricsResource, res)
	rm = appendMessage(rm, fResourceMetricsScope, sm)
	return appendMessage(dst, fMetricsDataResourceMetrics, rm)
}

// appendMetric encodes one Metric message with a single data point.
func appendMetric(dst []byte, m *Metric, p *payload) []byte {
	var pt []byte
	if m.Sum {
		pt = appendFixed64(pt, fPointStart, unixNano(p.start))
	}
	pt = appendFixed64(pt, fPointTime, unixNano(p.now))
	pt = appendFixed64(pt, fPointDouble, math.Float64bits(m.Value))
	for _, a := range m.Attrs {
		pt = appendMessage(pt, fPointAttributes, appendKeyValue(nil, a))
	}
	dst = appendString(dst, fMetricName, m.Name)
	dst = appendString(dst, fMetricDescription, m.Description)
	if !m.Sum {
		return appendMessage(dst, fMetricGauge, appendMessage(nil, fGaugeDataPoints, pt))
	}
	sum := appendMessage(nil, fSumDataPoints, pt)
	temporality := uint64(temporalityCumulative)
	if p.delta {
		temporality = temporalityDelta
	}
	sum = appendVarintField(sum, fSumTemporality, temporality)
	sum = appendVarintField(sum, fSumMonotonic, 1)
	return appendMessage(dst, fMetricSum, sum)
}

// appendKeyValue encodes a KeyValue with a string AnyValue.
func appendKeyValue(dst []byte, a Attr) []byte {
	dst = appendString(dst, fKeyValueKey, a.Key)
	return appendMessage(dst, fKeyValueValue, appendString(nil, fAnyValueString, a.Value))
}

func unixNano(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano())
}

func appendKey(dst []byte, field, wire int) []byte {
	return binary.AppendUvarint(dst, uint64(field)<<3|uint64(wire))
}

// appendMessage appends a length-delimited field holding body (an encoded
// message), even when body is empty: an empty sub-message still marks
// the field present (a Resource with no attributes, say).
func appendMessage(dst []byte, field int, body []byte) []byte {
	dst = appendKey(dst, field, wireBytes)
	dst = binary.AppendUvarint(dst, uint64(len(body)))
	return append(dst, body...)
}

// appendString appends a string field; an empty string is the default and
// is left out, as protobuf encoders do.
func appendString(dst []byte, field int, s string) []byte {
	if s == "" {
		return dst
	}
	dst = appendKey(dst, field, wireBytes)
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendFixed64(dst []byte, field int, v uint64) []byte {
	dst = appendKey(dst, field, wireFixed64)
	return binary.LittleEndian.AppendUint64(dst, v)
}

func appendVarintField(dst []byte, field int, v uint64) []byte {
	dst = appendKey(dst, field, wireVarint)
	return binary.AppendUvarint(dst, v)
}

// selector picks the requested metrics, as Java's
// ClientTelemetryUtils.getSelectorFromRequestedMetrics: no prefixes select
// nothing, a single "*" everything, otherwise every metric whose name
// starts with one of the prefixes (so an empty prefix selects everything).
type selector struct {
	all      bool
	prefixes []string
}

func newSelector(requested []string) selector {
	if len(requested) == 1 && requested[0] == "*" {
		return selector{all: true}
	}
	return selector{prefixes: requested}
}

// none reports whether the selector selects no metric at all.
func (s selector) none() bool { return !s.all && len(s.prefixes) == 0 }

func (s selector) match(name string) bool {
	if s.all {
		return true
	}
	for _, p := range s.prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
