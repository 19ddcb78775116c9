package producer

import (
	"maps"
	"slices"
	"strconv"
	"time"
)

// The Java metric groups.
const (
	GroupProducer = "producer-metrics"       // producer-wide figures
	GroupTopic    = "producer-topic-metrics" // per topic (Metric.Topic)
	GroupNode     = "producer-node-metrics"  // per broker (Metric.Node)
)

// Metric is one figure of a Metrics snapshot under its Java name and in
// Java's unit (milliseconds for latencies and queue times, seconds for
// metadata-age, nanoseconds for names ending in -ns-total).
type Metric struct {
	Group string // GroupProducer, GroupTopic or GroupNode
	Name  string // the Java name, e.g. "record-send-total"
	Help  string // what it measures, from the Java documentation
	Topic string // the topic, for GroupTopic
	Node  int32  // the broker node id for GroupNode, else -1
	Value float64
}

// Cumulative reports whether the metric is a running total (its name ends
// in "-total"), which only grows; the others are rates, averages, maxima
// or current levels.
func (m Metric) Cumulative() bool { return len(m.Name) > 6 && m.Name[len(m.Name)-6:] == "-total" }

// Key returns the metric's key in Metrics.Map: the name alone for
// producer-wide metrics, else the name with Java's tag, as in
// "record-send-total{topic=orders}" or "request-latency-avg{node-id=node-1}".
func (m Metric) Key() string {
	switch m.Group {
	case GroupTopic:
		return m.Name + "{topic=" + m.Topic + "}"
	case GroupNode:
		return m.Name + "{node-id=node-" + strconv.Itoa(int(m.Node)) + "}"
	}
	return m.Name
}

// List returns every figure of m as a Metric: the producer-wide ones
// first, in a fixed order, then each topic's and each broker's (topics by
// name, brokers by id). It does not block.
func (m Metrics) List() []Metric {
	out := make([]Metric, 0, len(producerMetrics)+len(m.Topics)*len(topicMetrics)+len(m.Nodes)*len(nodeMetrics))
	for _, d := range producerMetrics {
		out = append(out, Metric{Group: GroupProducer, Name: d.name, Help: d.help, Node: -1, Value: d.get(&m)})
	}
	for _, topic := range slices.Sorted(maps.Keys(m.Topics)) {
		tm := m.Topics[topic]
		for _, d := range topicMetrics {
			out = append(out, Metric{Group: GroupTopic, Name: d.name, Help: d.help, Topic: topic, Node: -1, Value: d.get(&tm)})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(m.Nodes)) {
		nm := m.Nodes[id]
		for _, d := range nodeMetrics {
			out = append(out, Metric{Group: GroupNode, Name: d.name, Help: d.help, Node: id, Value: d.get(&nm)})
		}
	}
	return out
}

// Map returns every figure of m keyed by Metric.Key, e.g.
// m.Map()["record-send-total"] or m.Map()["byte-rate{topic=orders}"].
// It does not block.
func (m Metrics) Map() map[string]float64 {
	l := m.List()
	out := make(map[string]float64, len(l))
	for _, x := range l {
		out[x.Key()] = x.Value
	}
	return out
}

// MetricNames returns the Java names this producer reports in group
// (GroupProducer, GroupTopic or GroupNode), with their descriptions, in
// List's order; exporters use it to describe their series up front. It
// returns nil for an unknown group.
func MetricNames(group string) []Metric {
	var out []Metric
	add := func(name, help string) { out = append(out, Metric{Group: group, Name: name, Help: help, Node: -1}) }
	switch group {
	case GroupProducer:
		for _, d := range producerMetrics {
			add(d.name, d.help)
		}
	case GroupTopic:
		for _, d := range topicMetrics {
			add(d.name, d.help)
		}
	case GroupNode:
		for _, d := range nodeMetrics {
			add(d.name, d.help)
		}
	}
	return out
}

type metricDef[T any] struct {
	name, help string
	get        func(*T) float64
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func ns(d time.Duration) float64 { return float64(d) }

// producerMetrics is Java's producer-metrics group, as far as Tributary
// measures it.
var producerMetrics = []metricDef[Metrics]{
	{"record-send-total", "The total number of records sent (each attempt counted).", func(m *Metrics) float64 { return float64(m.RecordSendTotal) }},
	{"record-send-rate", "The average number of records sent per second.", func(m *Metrics) float64 { return m.RecordSendRate }},
	{"record-error-total", "The total number of record sends that resulted in errors.", func(m *Metrics) float64 { return float64(m.RecordErrorTotal) }},
	{"record-error-rate", "The average per-second number of record sends that resulted in errors.", func(m *Metrics) float64 { return m.RecordErrorRate }},
	{"record-retry-total", "The total number of retried record sends.", func(m *Metrics) float64 { return float64(m.RecordRetryTotal) }},
	{"record-retry-rate", "The average per-second number of retried record sends.", func(m *Metrics) float64 { return m.RecordRetryRate }},
	{"byte-total", "The total number of encoded batch bytes sent, all topics.", func(m *Metrics) float64 { return float64(m.ByteTotal) }},
	{"byte-rate", "The average number of encoded batch bytes sent per second, all topics.", func(m *Metrics) float64 { return m.ByteRate }},
	{"request-total", "The total number of Produce requests sent.", func(m *Metrics) float64 { return float64(m.RequestTotal) }},
	{"request-rate", "The number of Produce requests sent per second.", func(m *Metrics) float64 { return m.RequestRate }},
	{"batch-split-total", "The total number of batch splits.", func(m *Metrics) float64 { return float64(m.BatchSplitTotal) }},
	{"batch-split-rate", "The average number of batch splits per second.", func(m *Metrics) float64 { return m.BatchSplitRate }},
	{"batch-size-avg", "The average number of bytes sent per partition per request.", func(m *Metrics) float64 { return m.BatchSizeAvg }},
	{"batch-size-max", "The max number of bytes sent per partition per request.", func(m *Metrics) float64 { return float64(m.BatchSizeMax) }},
	{"records-per-request-avg", "The average number of records per request.", func(m *Metrics) float64 { return m.RecordsPerRequestAvg }},
	{"compression-rate-avg", "The average compression rate of record batches, defined as the average ratio of the compressed batch size over the uncompressed size.", func(m *Metrics) float64 { return m.CompressionRateAvg }},
	{"record-queue-time-avg", "The average time in ms record batches spent in the send buffer.", func(m *Metrics) float64 { return ms(m.RecordQueueTimeAvg) }},
	{"record-queue-time-max", "The maximum time in ms record batches spent in the send buffer.", func(m *Metrics) float64 { return ms(m.RecordQueueTimeMax) }},
	{"request-latency-avg", "The average request latency in ms.", func(m *Metrics) float64 { return ms(m.RequestLatencyAvg) }},
	{"request-latency-max", "The maximum request latency in ms.", func(m *Metrics) float64 { return ms(m.RequestLatencyMax) }},
	{"produce-throttle-time-avg", "The average time in ms a request was throttled by a broker.", func(m *Metrics) float64 { return ms(m.ProduceThrottleAvg) }},
	{"produce-throttle-time-max", "The maximum time in ms a request was throttled by a broker.", func(m *Metrics) float64 { return ms(m.ProduceThrottleMax) }},
	{"requests-in-flight", "The current number of in-flight requests awaiting a response.", func(m *Metrics) float64 { return float64(m.RequestsInFlight) }},
	{"buffer-available-bytes", "The total amount of buffer memory that is not being used (either unallocated or in the free list).", func(m *Metrics) float64 { return float64(m.BufferAvailableBytes) }},
	{"buffer-total-bytes", "The maximum amount of buffer memory the client can use (whether or not it is currently used).", func(m *Metrics) float64 { return float64(m.BufferTotalBytes) }},
	{"bufferpool-wait-time-ns-total", "The total time in nanoseconds an appender waits for space allocation.", func(m *Metrics) float64 { return ns(m.BufferpoolWaitTime) }},
	{"bufferpool-wait-ratio", "The fraction of time an appender waits for space allocation.", func(m *Metrics) float64 { return m.BufferpoolWaitRatio }},
	{"waiting-threads", "The number of user threads blocked waiting for buffer memory to enqueue their records.", func(m *Metrics) float64 { return float64(m.WaitingThreads) }},
	{"metadata-age", "The age in seconds of the current producer metadata being used.", func(m *Metrics) float64 { return m.MetadataAge.Seconds() }},
	{"metadata-wait-time-ns-total", "The total time in nanoseconds the producer has spent waiting on topic metadata.", func(m *Metrics) float64 { return ns(m.MetadataWaitTime) }},
	{"flush-time-ns-total", "Total time producer has spent in flush in nanoseconds.", func(m *Metrics) float64 { return ns(m.FlushTime) }},
	{"txn-init-time-ns-total", "The total time the producer has spent in initTransactions in nanoseconds.", func(m *Metrics) float64 { return ns(m.TxnInitTime) }},
	{"txn-begin-time-ns-total", "The total time the producer has spent in beginTransaction in nanoseconds.", func(m *Metrics) float64 { return ns(m.TxnBeginTime) }},
	{"txn-send-offsets-time-ns-total", "The total time the producer has spent in sendOffsetsToTransaction in nanoseconds.", func(m *Metrics) float64 { return ns(m.TxnSendOffsetsTime) }},
	{"txn-commit-time-ns-total", "The total time the producer has spent in commitTransaction in nanoseconds.", func(m *Metrics) float64 { return ns(m.TxnCommitTime) }},
	{"txn-abort-time-ns-total", "The total time the producer has spent in abortTransaction in nanoseconds.", func(m *Metrics) float64 { return ns(m.TxnAbortTime) }},
	{"connection-creation-total", "The total number of new connections established.", func(m *Metrics) float64 { return float64(m.ConnectionCreationTotal) }},
	{"connection-creation-rate", "The number of new connections established per second.", func(m *Metrics) float64 { return m.ConnectionCreationRate }},
	{"connection-close-total", "The total number of connections closed.", func(m *Metrics) float64 { return float64(m.ConnectionCloseTotal) }},
	{"connection-close-rate", "The number of connections closed per second.", func(m *Metrics) float64 { return m.ConnectionCloseRate }},
	{"connection-count", "The current number of active connections.", func(m *Metrics) float64 { return float64(m.ConnectionCount) }},
}

// topicMetrics is Java's producer-topic-metrics group.
var topicMetrics = []metricDef[TopicMetrics]{
	{"record-send-total", "The total number of records sent for a topic.", func(m *TopicMetrics) float64 { return float64(m.RecordSendTotal) }},
	{"record-send-rate", "The average number of records sent per second for a topic.", func(m *TopicMetrics) float64 { return m.RecordSendRate }},
	{"byte-total", "The total number of bytes sent for a topic.", func(m *TopicMetrics) float64 { return float64(m.ByteTotal) }},
	{"byte-rate", "The average number of bytes sent per second for a topic.", func(m *TopicMetrics) float64 { return m.ByteRate }},
	{"compression-rate", "The average compression rate of record batches for a topic.", func(m *TopicMetrics) float64 { return m.CompressionRate }},
	{"record-retry-total", "The total number of retried record sends for a topic.", func(m *TopicMetrics) float64 { return float64(m.RecordRetryTotal) }},
	{"record-retry-rate", "The average per-second number of retried record sends for a topic.", func(m *TopicMetrics) float64 { return m.RecordRetryRate }},
	{"record-error-total", "The total number of record sends that resulted in errors for a topic.", func(m *TopicMetrics) float64 { return float64(m.RecordErrorTotal) }},
	{"record-error-rate", "The average per-second number of record sends that resulted in errors for a topic.", func(m *TopicMetrics) float64 { return m.RecordErrorRate }},
}

// nodeMetrics is Java's producer-node-metrics group: request figures for
// Produce requests, then Java's producer-wide connection counts per broker
// and request-timeout-total, which Java does not have.
var nodeMetrics = []metricDef[NodeMetrics]{
	{"request-total", "The total number of Produce requests sent to the broker.", func(m *NodeMetrics) float64 { return float64(m.RequestTotal) }},
	{"request-rate", "The number of Produce requests sent to the broker per second.", func(m *NodeMetrics) float64 { return m.RequestRate }},
	{"request-latency-avg", "The average request latency in ms for the broker.", func(m *NodeMetrics) float64 { return ms(m.RequestLatencyAvg) }},
	{"request-latency-max", "The maximum request latency in ms for the broker.", func(m *NodeMetrics) float64 { return ms(m.RequestLatencyMax) }},
	{"connection-creation-total", "The total number of new connections established to the broker.", func(m *NodeMetrics) float64 { return float64(m.ConnectionCreationTotal) }},
	{"connection-close-total", "The total number of connections to the broker closed.", func(m *NodeMetrics) float64 { return float64(m.ConnectionCloseTotal) }},
	{"request-timeout-total", "The total number of connections to the broker closed because a request had no response within request.timeout.ms (not a Java metric).", func(m *NodeMetrics) float64 { return float64(m.RequestTimeoutTotal) }},
}
