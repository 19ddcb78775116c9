// Package metrics counts what the producer does, for producer.Metrics and
// the hooks' sinks. It is internal: the public names and units live in the
// producer package, which maps these raw counters to the Java producer's
// metric names.
//
// # Place in the data flow
//
// The sender goroutine reports each Produce request it writes and each one
// that finishes, and each batch that is retried, fails or is split; the
// producer facade adds the few figures only it sees (metadata waits,
// Flush, transactions, records that fail inside Send). Nothing is counted
// per record on the Send path: per-record totals are batch record counts
// added once per batch when a request is written.
//
// # Concurrency
//
// A [Set] is a fixed array of atomic sums and high-water marks: any
// goroutine may add to it without a lock, and a writer never blocks. One
// [Registry] holds the producer-wide Set and one Set per topic and per
// broker node, created on first use. [Registry.Snapshot] may be called
// from any goroutine; it serializes with other snapshots under a mutex the
// writers never take.
//
//	r := metrics.NewRegistry(time.Now(), metrics.DefaultSample)
//	r.Global.Add(metrics.RecordsSent, 100)
//	r.Topic("orders").Add(metrics.TopicRecordsSent, 100)
//	s := r.Snapshot(time.Now())
//	_ = s.Global.Delta[metrics.RecordsSent] // 100, over s.Window
package metrics
