// Package otel connects a Tributary producer to OpenTelemetry: a span per
// record, with the trace context carried to consumers in the record's
// headers, and the producer's metrics as OpenTelemetry instruments. It is
// its own module (github.com/tributary-go/tributary/plugin/otel), so the
// producer itself never depends on OpenTelemetry, and a program that does
// not use it pays nothing on the Send path.
//
// Import it under another name, since it shares its name with
// go.opentelemetry.io/otel:
//
//	import totel "github.com/tributary-go/tributary/plugin/otel"
//
// # Tracing
//
// [NewProducer] wraps a producer.Interface (a *producer.Producer, a
// producertest.Producer, …) in a [Producer] that is itself a
// producer.Interface, so producer.NewTyped and code written against the
// Interface take it unchanged:
//
//	p, err := producer.New(producer.WithBootstrapServers(addrs...), producer.WithClientID("orders"))
//	if err != nil { ... }
//	tp := totel.NewProducer(p, totel.WithClientID("orders"))
//	defer tp.Close(ctx)
//	tp.Send(ctx, &producer.Record{Topic: "orders", Key: key, Value: value})
//
// Each Send and SendCallback starts a span of kind PRODUCER, a child of the
// span in ctx, named "send <topic>" and with the attributes of the
// OpenTelemetry messaging semantic conventions (v1.43.0):
// messaging.system "kafka", messaging.operation.type and
// messaging.operation.name "send", messaging.destination.name,
// messaging.destination.partition.id, messaging.kafka.offset,
// messaging.client.id (WithClientID), messaging.kafka.message.key (UTF-8
// keys; see WithKeyAttribute), messaging.message.body.size, and
// messaging.kafka.message.tombstone for a null value. The span ends when
// the record is acknowledged, so it covers the time in Send, in the batch
// and on the wire. A record that fails (in Send, or with its batch) ends
// its span with status Error, the error recorded as an exception event,
// and error.type.
//
// Before the record is handed to the producer, the span's context is
// written into a copy of the record's headers by the propagator
// (WithPropagator; default otel.GetTextMapPropagator()), replacing any
// header of the same name. With propagation.TraceContext, the W3C
// traceparent header lets a consumer continue the trace: it extracts the
// context from the delivered record's headers ([HeaderCarrier] adapts
// producer.Header slices; for other clients' header types, copy them into a
// propagation.MapCarrier).
//
// # Metrics
//
// [RegisterMetrics] exports the producer's Metrics snapshot through a
// Meter, one asynchronous instrument per Java metric, named as the
// OpenTelemetry Java Kafka bridge names them ([InstrumentName]):
//
//	reg, err := totel.RegisterMetrics(p, totel.WithClientID("orders"))
//	if err != nil { ... }
//	defer reg.Unregister()
//	// kafka.producer.record_send_total{client-id="orders"},
//	// kafka.producer.topic.byte_rate{topic="orders"},
//	// kafka.producer.node.request_latency_avg{node-id="node-1"}, …
//
// Totals are counters, the rest gauges, in Java's units (ms for latencies
// and queue times, s for metadata-age, ns for *_ns_total).
//
// # Concurrency
//
// A Producer is safe for concurrent use when the Interface it wraps is; it
// starts no goroutine and holds no lock of its own. The metrics callback
// takes one snapshot per collection and never blocks on the producer.
package otel
