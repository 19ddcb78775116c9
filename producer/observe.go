package producer

// The observer is the sender's window onto metrics and hooks. It runs on
// the sender goroutine, so it counts a whole request in local variables
// and publishes the sums with one atomic add per figure; only the
// per-topic figures are added per batch (four adds after a copy-on-write
// map lookup). Hooks are called inline, after the counting, each under a
// recover so a faulty hook cannot kill the sender.

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/internal/metrics"
	"github.com/tributary-go/tributary/sender"
)

// observer implements sender.Observer. Owned by the sender goroutine; the
// registry it writes to is safe for concurrent readers.
type observer struct {
	reg   *metrics.Registry
	hooks hookSet
	log   *slog.Logger
}

var _ sender.Observer = (*observer)(nil)

// ppm is one in millionths, the unit compression ratios are summed in.
const ppm = 1_000_000

func (o *observer) RequestSent(node int32, batches []*accumulator.Batch, now time.Time) {
	var records, bytes, ratio, queue, maxBatch, maxQueue int64
	for _, b := range batches {
		n, size := int64(b.NumRecords()), int64(len(b.Encoded()))
		r := compressionPPM(size, int64(b.UncompressedSize()))
		q := int64(now.Sub(b.Created()))
		records += n
		bytes += size
		ratio += r
		queue += q
		maxBatch = max(maxBatch, size)
		maxQueue = max(maxQueue, q)
		t := o.reg.Topic(b.Topic)
		t.Add(metrics.TopicRecordsSent, n)
		t.Add(metrics.TopicBytes, size)
		t.Add(metrics.TopicBatches, 1)
		t.Add(metrics.TopicCompressionSum, r)
		for _, h := range o.hooks.written {
			info := batchInfo(b, now)
			o.safely("OnBatchWritten", func() { h.OnBatchWritten(info) })
		}
	}
	g := o.reg.Global
	g.Add(metrics.Requests, 1)
	g.Add(metrics.Batches, int64(len(batches)))
	g.Add(metrics.RecordsSent, records)
	g.Add(metrics.Bytes, bytes)
	g.Add(metrics.CompressionSum, ratio)
	g.Add(metrics.QueueTimeSum, queue)
	g.Max(metrics.MaxBatchSize, maxBatch)
	g.Max(metrics.MaxQueueTime, maxQueue)
	o.reg.Node(node).Add(metrics.NodeRequests, 1)
}

// compressionPPM is Java's compression ratio (compressed size over
// uncompressed size) in millionths; 1.0 without compression.
func compressionPPM(size, raw int64) int64 {
	if raw <= 0 {
		return ppm
	}
	return size * ppm / raw
}

func (o *observer) RequestDone(r sender.RequestResult) {
	g := o.reg.Global
	g.Add(metrics.Responses, 1)
	var latency time.Duration
	if r.Answered {
		latency = r.Done.Sub(r.Sent)
		g.Add(metrics.Answered, 1)
		g.Add(metrics.LatencySum, int64(latency))
		g.Add(metrics.ThrottleSum, int64(r.Throttle))
		g.Max(metrics.MaxLatency, int64(latency))
		g.Max(metrics.MaxThrottle, int64(r.Throttle))
		n := o.reg.Node(r.Node)
		n.Add(metrics.NodeAnswered, 1)
		n.Add(metrics.NodeLatencySum, int64(latency))
		n.Max(metrics.NodeMaxLatency, int64(latency))
	}
	if len(o.hooks.done) == 0 {
		return
	}
	info := RequestInfo{Node: r.Node, Batches: len(r.Batches), Latency: latency, Throttle: r.Throttle, Err: r.Err}
	for _, b := range r.Batches {
		info.Records += b.NumRecords()
		info.Bytes += len(b.Encoded())
	}
	for _, h := range o.hooks.done {
		o.safely("OnRequestDone", func() { h.OnRequestDone(info) })
	}
}

func (o *observer) BatchRetried(b *accumulator.Batch, err error) {
	n := int64(b.NumRecords())
	o.reg.Global.Add(metrics.RecordRetries, n)
	o.reg.Topic(b.Topic).Add(metrics.TopicRecordRetries, n)
	for _, h := range o.hooks.retry {
		info := batchInfo(b, time.Now())
		o.safely("OnRetry", func() { h.OnRetry(info, err) })
	}
}

func (o *observer) BatchFailed(b *accumulator.Batch, err error) {
	n := int64(b.NumRecords())
	o.reg.Global.Add(metrics.RecordErrors, n)
	o.reg.Topic(b.Topic).Add(metrics.TopicRecordErrors, n)
	for _, h := range o.hooks.errs {
		info := batchInfo(b, time.Now())
		o.safely("OnError", func() { h.OnError(info, err) })
	}
}

func (o *observer) BatchAcked(b *accumulator.Batch, baseOffset int64) {
	for _, h := range o.hooks.acked {
		info := batchInfo(b, time.Now())
		o.safely("OnBatchAcked", func() { h.OnBatchAcked(info, baseOffset) })
	}
}

func (o *observer) BatchSplit(*accumulator.Batch) { o.reg.Global.Add(metrics.Splits, 1) }

func batchInfo(b *accumulator.Batch, now time.Time) BatchInfo {
	return BatchInfo{
		Topic: b.Topic, Partition: b.Partition, Node: sender.LastNode(b),
		Records: b.NumRecords(), Bytes: len(b.Encoded()), UncompressedBytes: b.UncompressedSize(),
		Attempt: b.Attempts, QueueTime: now.Sub(b.Created()),
	}
}

// safely runs a hook, turning a panic into a log line.
func (o *observer) safely(what string, fn func()) {
	defer func() {
		if v := recover(); v != nil {
			o.log.Error("producer: hook "+what+" panicked", "panic", fmt.Sprint(v))
		}
	}()
	fn()
}
