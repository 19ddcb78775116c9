package producer

import (
	"errors"
	"time"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/internal/metrics"
)

// Metrics is a snapshot of a producer's figures, named after the Java
// producer's metrics (KafkaProducer.metrics()). The typed fields are for
// Go code; List and Map give every figure under its Java name and in
// Java's unit, for exporters (see plugin/prometheus) and for people who
// know the Java names.
//
// # Totals, rates and windows
//
// Fields ending in Total are running totals since the producer started.
// Rates (per second), averages and maxima cover Window, which ends at Time:
// the producer keeps up to two sample points, taken by Metrics calls at
// least 30 s apart, and the window starts at the older one. Called at least
// every 30 s, the window is 30–60 s, as Java's two 30 s samples; called
// less often, it is the time since an earlier call; on the first call, the
// time since New. Several callers share the points, so one never shortens
// another's window. An average or maximum with nothing to average in the
// window is 0 (Java reports NaN).
//
// # What is counted
//
// As in Java, RecordSendTotal counts records in written Produce requests,
// so a record that is retried is counted once per attempt: with no errors
// it equals the records delivered plus RecordRetryTotal. RecordErrorTotal
// counts records that failed, in Send (before they joined a batch) or with
// their batch; RecordRetryTotal the records of batches put back for another
// attempt. ByteTotal, batch sizes and compression rates are measured on the
// encoded batches as written. Everything is counted once per batch or per
// request, never per record on the Send path.
type Metrics struct {
	Time   time.Time     // when the snapshot was taken
	Window time.Duration // the span that rates, averages and maxima cover

	RecordSendTotal  int64   // record-send-total
	RecordSendRate   float64 // record-send-rate, records/s
	RecordErrorTotal int64   // record-error-total
	RecordErrorRate  float64 // record-error-rate, records/s
	RecordRetryTotal int64   // record-retry-total
	RecordRetryRate  float64 // record-retry-rate, records/s
	// ByteTotal and ByteRate are encoded batch bytes written, all topics
	// together (Java has them per topic only: see Topics).
	ByteTotal int64
	ByteRate  float64
	// RequestTotal and RequestRate count Produce requests (Java's
	// request-total also counts metadata and other requests).
	RequestTotal         int64
	RequestRate          float64
	BatchSplitTotal      int64         // batch-split-total
	BatchSplitRate       float64       // batch-split-rate, batches/s
	BatchSizeAvg         float64       // batch-size-avg, bytes per batch written
	BatchSizeMax         int64         // batch-size-max, bytes
	RecordsPerRequestAvg float64       // records-per-request-avg
	CompressionRateAvg   float64       // compression-rate-avg: compressed/uncompressed, 1 without compression
	RecordQueueTimeAvg   time.Duration // record-queue-time-avg: batch creation to write
	RecordQueueTimeMax   time.Duration // record-queue-time-max
	RequestLatencyAvg    time.Duration // request-latency-avg: write to response
	RequestLatencyMax    time.Duration // request-latency-max
	ProduceThrottleAvg   time.Duration // produce-throttle-time-avg
	ProduceThrottleMax   time.Duration // produce-throttle-time-max
	RequestsInFlight     int64         // requests-in-flight, now
	BufferAvailableBytes int64         // buffer-available-bytes, now
	BufferTotalBytes     int64         // buffer-total-bytes (buffer.memory)
	BufferpoolWaitTime   time.Duration // bufferpool-wait-time-ns-total
	// BufferpoolWaitRatio is bufferpool-wait-ratio: time Send calls spent
	// waiting for buffer memory over the window, per second of window
	// (above 1 when several wait at once).
	BufferpoolWaitRatio float64
	WaitingThreads      int           // waiting-threads: Send calls waiting for memory, now
	MetadataAge         time.Duration // metadata-age: since the last successful refresh
	MetadataWaitTime    time.Duration // metadata-wait-time-ns-total
	FlushTime           time.Duration // flush-time-ns-total
	TxnInitTime         time.Duration // txn-init-time-ns-total
	TxnBeginTime        time.Duration // txn-begin-time-ns-total
	TxnSendOffsetsTime  time.Duration // txn-send-offsets-time-ns-total
	TxnCommitTime       time.Duration // txn-commit-time-ns-total
	TxnAbortTime        time.Duration // txn-abort-time-ns-total
	// Connections to brokers, as Java's selector counts them in
	// producer-metrics: established (after the ApiVersions handshake and
	// authentication) and closed for any reason (idle, request timeout,
	// broker gone, Close); ConnectionCount is those open now.
	ConnectionCreationTotal int64   // connection-creation-total
	ConnectionCreationRate  float64 // connection-creation-rate, per second
	ConnectionCloseTotal    int64   // connection-close-total
	ConnectionCloseRate     float64 // connection-close-rate, per second
	ConnectionCount         int64   // connection-count, now

	// Topics holds Java's producer-topic-metrics by topic, for topics
	// with at least one batch written.
	Topics map[string]TopicMetrics
	// Nodes holds Java's producer-node-metrics by broker node id, for
	// brokers the producer connected to (bootstrap connections count in
	// the producer-wide connection figures only).
	Nodes map[int32]NodeMetrics
}

// TopicMetrics are one topic's figures (Java's producer-topic-metrics).
type TopicMetrics struct {
	RecordSendTotal  int64   // record-send-total
	RecordSendRate   float64 // record-send-rate
	ByteTotal        int64   // byte-total
	ByteRate         float64 // byte-rate
	CompressionRate  float64 // compression-rate (average over the window)
	RecordRetryTotal int64   // record-retry-total
	RecordRetryRate  float64 // record-retry-rate
	RecordErrorTotal int64   // record-error-total
	RecordErrorRate  float64 // record-error-rate
}

// NodeMetrics are one broker's figures (Java's producer-node-metrics).
// The request figures count Produce requests. The connection figures are
// Java's selector metrics, which Java keeps producer-wide only, counted
// here per broker too: ConnectionCreationTotal - 1 is how often the
// producer reconnected to the broker. RequestTimeoutTotal has no Java
// counterpart: it counts the connections closed because a request had no
// answer within request.timeout.ms (Java's NetworkClient disconnects then
// too, and only logs it).
type NodeMetrics struct {
	RequestTotal            int64         // request-total
	RequestRate             float64       // request-rate
	RequestLatencyAvg       time.Duration // request-latency-avg
	RequestLatencyMax       time.Duration // request-latency-max
	ConnectionCreationTotal int64         // connection-creation-total
	ConnectionCloseTotal    int64         // connection-close-total
	RequestTimeoutTotal     int64         // request-timeout-total (Tributary's)
}

// Metrics returns a snapshot of the producer's metrics. It is safe for
// concurrent use and does not wait for the sender or the network (it takes
// the buffer pool's lock for a moment); it costs a few microseconds plus a
// little per topic and broker.
func (p *Producer) Metrics() Metrics {
	now := time.Now()
	s := p.met.Snapshot(now)
	m := metricsFrom(s)
	m.BufferAvailableBytes = p.pool.Available()
	m.BufferTotalBytes = p.pool.Total()
	m.WaitingThreads = p.pool.Waiters()
	m.MetadataAge = p.meta.Age()
	return m
}

// metricsFrom turns raw counters into the public figures.
func metricsFrom(s metrics.Snapshot) Metrics {
	g := s.Global
	secs := s.Window.Seconds()
	rate := func(d int64) float64 {
		if secs <= 0 {
			return 0
		}
		return float64(d) / secs
	}
	avg := func(sum, n int64) float64 {
		if n == 0 {
			return 0
		}
		return float64(sum) / float64(n)
	}
	d, t, mx := g.Delta, g.Total, g.Max
	m := Metrics{
		Time: s.At, Window: s.Window,
		RecordSendTotal: t[metrics.RecordsSent], RecordSendRate: rate(d[metrics.RecordsSent]),
		RecordErrorTotal: t[metrics.RecordErrors], RecordErrorRate: rate(d[metrics.RecordErrors]),
		RecordRetryTotal: t[metrics.RecordRetries], RecordRetryRate: rate(d[metrics.RecordRetries]),
		ByteTotal: t[metrics.Bytes], ByteRate: rate(d[metrics.Bytes]),
		RequestTotal: t[metrics.Requests], RequestRate: rate(d[metrics.Requests]),
		BatchSplitTotal: t[metrics.Splits], BatchSplitRate: rate(d[metrics.Splits]),
		BatchSizeAvg:            avg(d[metrics.Bytes], d[metrics.Batches]),
		BatchSizeMax:            mx[metrics.MaxBatchSize],
		RecordsPerRequestAvg:    avg(d[metrics.RecordsSent], d[metrics.Requests]),
		CompressionRateAvg:      avg(d[metrics.CompressionSum], d[metrics.Batches]) / ppm,
		RecordQueueTimeAvg:      time.Duration(avg(d[metrics.QueueTimeSum], d[metrics.Batches])),
		RecordQueueTimeMax:      time.Duration(mx[metrics.MaxQueueTime]),
		RequestLatencyAvg:       time.Duration(avg(d[metrics.LatencySum], d[metrics.Answered])),
		RequestLatencyMax:       time.Duration(mx[metrics.MaxLatency]),
		ProduceThrottleAvg:      time.Duration(avg(d[metrics.ThrottleSum], d[metrics.Answered])),
		ProduceThrottleMax:      time.Duration(mx[metrics.MaxThrottle]),
		RequestsInFlight:        max(t[metrics.Requests]-t[metrics.Responses], 0), // read a moment apart
		MetadataWaitTime:        time.Duration(t[metrics.MetadataWait]),
		FlushTime:               time.Duration(t[metrics.FlushTime]),
		BufferpoolWaitTime:      time.Duration(t[metrics.BufferWait]),
		BufferpoolWaitRatio:     rate(d[metrics.BufferWait]) / float64(time.Second),
		TxnInitTime:             time.Duration(t[metrics.TxnInitTime]),
		TxnBeginTime:            time.Duration(t[metrics.TxnBeginTime]),
		TxnSendOffsetsTime:      time.Duration(t[metrics.TxnSendOffsetsTime]),
		TxnCommitTime:           time.Duration(t[metrics.TxnCommitTime]),
		TxnAbortTime:            time.Duration(t[metrics.TxnAbortTime]),
		ConnectionCreationTotal: t[metrics.ConnCreated], ConnectionCreationRate: rate(d[metrics.ConnCreated]),
		ConnectionCloseTotal: t[metrics.ConnClosed], ConnectionCloseRate: rate(d[metrics.ConnClosed]),
		ConnectionCount: max(t[metrics.ConnCreated]-t[metrics.ConnClosed], 0), // read a moment apart
		Topics:          make(map[string]TopicMetrics, len(s.Topics)),
		Nodes:           make(map[int32]NodeMetrics, len(s.Nodes)),
	}
	for name, v := range s.Topics {
		d, t := v.Delta, v.Total
		m.Topics[name] = TopicMetrics{
			RecordSendTotal: t[metrics.TopicRecordsSent], RecordSendRate: rate(d[metrics.TopicRecordsSent]),
			ByteTotal: t[metrics.TopicBytes], ByteRate: rate(d[metrics.TopicBytes]),
			CompressionRate:  avg(d[metrics.TopicCompressionSum], d[metrics.TopicBatches]) / ppm,
			RecordRetryTotal: t[metrics.TopicRecordRetries], RecordRetryRate: rate(d[metrics.TopicRecordRetries]),
			RecordErrorTotal: t[metrics.TopicRecordErrors], RecordErrorRate: rate(d[metrics.TopicRecordErrors]),
		}
	}
	for id, v := range s.Nodes {
		d, t := v.Delta, v.Total
		m.Nodes[id] = NodeMetrics{
			RequestTotal: t[metrics.NodeRequests], RequestRate: rate(d[metrics.NodeRequests]),
			RequestLatencyAvg:       time.Duration(avg(d[metrics.NodeLatencySum], d[metrics.NodeAnswered])),
			RequestLatencyMax:       time.Duration(v.Max[metrics.NodeMaxLatency]),
			ConnectionCreationTotal: t[metrics.NodeConnCreated],
			ConnectionCloseTotal:    t[metrics.NodeConnClosed],
			RequestTimeoutTotal:     t[metrics.NodeRequestTimeouts],
		}
	}
	return m
}

// timed starts timing a call for the total at index i and returns the
// function that adds the elapsed time: defer p.timed(metrics.FlushTime)().
func (p *Producer) timed(i int) func() {
	start := time.Now()
	return func() { p.met.Global.Add(i, int64(time.Since(start))) }
}

// observeConns makes the connection pool configured by cc count
// connections and request timeouts, producer-wide and per broker. Call it
// before the pool is created.
func (p *Producer) observeConns(cc *conn.Config) {
	// Bootstrap servers (negative ids) count producer-wide only, so
	// Nodes holds real brokers; a broker that takes over a bootstrap
	// connection counts it as its own.
	cc.OnConnect = func(node int32, adopted bool) {
		if !adopted {
			p.met.Global.Add(metrics.ConnCreated, 1)
		}
		if node >= 0 {
			p.met.Node(node).Add(metrics.NodeConnCreated, 1)
		}
	}
	cc.OnClose = func(node int32, err error) {
		p.met.Global.Add(metrics.ConnClosed, 1)
		if node < 0 {
			return
		}
		n := p.met.Node(node)
		n.Add(metrics.NodeConnClosed, 1)
		if errors.Is(err, conn.ErrRequestTimeout) {
			n.Add(metrics.NodeRequestTimeouts, 1)
		}
	}
}
