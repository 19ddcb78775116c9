// Package prometheus exports a Tributary producer's metrics to Prometheus.
// It is its own module (github.com/tributary-go/tributary/plugin/prometheus),
// so the producer itself never depends on the Prometheus client.
//
// # Series
//
// A [Collector] reads producer.Metrics on every scrape and turns each Java
// metric into a series named after it: "tributary_" + the group
// ("producer", "producer_topic" with a topic label, "producer_node" with a
// node label) + the Java name with dashes as underscores. Running totals
// (Java names ending in -total) are counters, the rest gauges; values keep
// Java's units (milliseconds for latencies and queue times, seconds for
// metadata-age, nanoseconds for -ns-total).
//
//	tributary_producer_record_send_total 1.2e+06
//	tributary_producer_topic_byte_total{topic="orders"} 8.4e+07
//	tributary_producer_node_request_latency_avg{node="1"} 3.2
//
// Use rate() on the counters; the *_rate gauges are the producer's own
// windowed rates (see producer.Metrics).
//
// # Use
//
// Import it under another name, since it shares its name with the client
// library:
//
//	import tprom "github.com/tributary-go/tributary/plugin/prometheus"
//
//	prometheus.MustRegister(tprom.NewCollector(p, tprom.WithConstLabels(prometheus.Labels{"client_id": "orders"})))
//	http.Handle("/metrics", promhttp.Handler())
//
// # Concurrency
//
// A Collector is safe for concurrent scrapes; each takes its own snapshot
// and never blocks on the producer.
package prometheus
