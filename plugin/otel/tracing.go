package otel

// Why a wrapper and not an interceptor or a hook. A producer span must have
// the caller's span as its parent, which only the context given to Send
// knows; producer.Interceptor.OnSend sees the record but no context. And
// the span must end at the record's own acknowledgement: OnAcknowledgement
// gets the record's metadata but nothing that tells two records with the
// same topic, timestamp and sizes apart, and the sender's hooks report
// batches, not records. Wrapping producer.Interface gets both for free:
// Send starts the span from its context and hands SendCallback a callback
// that closes over that span, so the acknowledgement finds its span without
// a lookup table. The producer itself is untouched: a program that does not
// wrap it pays nothing.

import (
	"context"
	"strconv"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/tributary-go/tributary/producer"
)

// operationName is messaging.operation.name for a Kafka produce, and the
// first word of the span name ("send orders").
const operationName = "send"

// Producer is a producer.Interface that traces every record it sends and
// passes everything else through to the Interface it wraps. It is safe for
// concurrent use when the wrapped Interface is (a *producer.Producer is);
// its methods block as the wrapped ones do.
//
// Each Send or SendCallback starts a span of kind PRODUCER named
// "send <topic>", a child of the span in the call's context, writes that
// span's context into the record's headers through the propagator, and ends
// the span when the record is acknowledged or fails; see the package
// documentation for the attributes.
type Producer struct {
	p          producer.Interface
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	base       []attribute.KeyValue // attributes every span starts with; read-only
	keyAttr    bool
}

var _ producer.Interface = (*Producer)(nil)

// NewProducer returns a Producer that traces the records sent through p (a
// *producer.Producer, a producertest.Producer or any other Interface). It
// adds no goroutine and no state to p; closing the returned Producer closes
// p.
func NewProducer(p producer.Interface, opts ...Option) *Producer {
	c := newConfig(opts)
	base := []attribute.KeyValue{semconv.MessagingSystemKafka, semconv.MessagingOperationTypeSend, semconv.MessagingOperationName(operationName)}
	if c.clientID != "" {
		base = append(base, semconv.MessagingClientID(c.clientID))
	}
	return &Producer{
		p:          p,
		tracer:     c.tracerProvider.Tracer(ScopeName, trace.WithInstrumentationVersion(producer.Version), trace.WithSchemaURL(semconv.SchemaURL)),
		propagator: c.propagator,
		base:       base,
		keyAttr:    c.keyAttribute,
	}
}

// Unwrap returns the Interface t sends through, for the methods a
// *producer.Producer has beyond Interface (TransactionState, …).
func (t *Producer) Unwrap() producer.Interface { return t.p }

// Send traces rec and sends it with the wrapped Send's semantics: the
// returned Future resolves with the record's outcome once the span has
// ended. rec itself is not modified; the headers sent are a copy of its
// headers plus the propagator's.
func (t *Producer) Send(ctx context.Context, rec *producer.Record) *producer.Future {
	if rec == nil {
		return t.p.Send(ctx, rec)
	}
	f, promise := producer.NewPromise()
	t.SendCallback(ctx, rec, func(md producer.RecordMetadata, err error) { promise.Complete(md, err) })
	return f
}

// SendCallback traces rec and sends it with the wrapped SendCallback: cb
// runs after the record's span has ended, on the goroutine the wrapped
// producer runs callbacks on. rec itself is not modified.
func (t *Producer) SendCallback(ctx context.Context, rec *producer.Record, cb producer.Callback) {
	if rec == nil {
		t.p.SendCallback(ctx, rec, cb)
		return
	}
	attrs := make([]attribute.KeyValue, 0, len(t.base)+4)
	attrs = append(attrs, t.base...)
	attrs = append(attrs, semconv.MessagingDestinationName(rec.Topic))
	if rec.UsePartition {
		attrs = append(attrs, semconv.MessagingDestinationPartitionID(strconv.Itoa(int(rec.Partition))))
	}
	if rec.Key != nil && t.keyAttr && utf8.Valid(rec.Key) {
		attrs = append(attrs, semconv.MessagingKafkaMessageKey(string(rec.Key)))
	}
	if rec.Value == nil {
		attrs = append(attrs, semconv.MessagingKafkaMessageTombstone(true))
	} else {
		attrs = append(attrs, semconv.MessagingMessageBodySize(len(rec.Value)))
	}
	ctx, span := t.tracer.Start(ctx, operationName+" "+rec.Topic, trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))

	// Send copies the headers into the batch before it returns, so the
	// copy lives only as long as this call.
	r := *rec
	r.Headers = make([]producer.Header, len(rec.Headers), len(rec.Headers)+2)
	copy(r.Headers, rec.Headers)
	t.propagator.Inject(ctx, HeaderCarrier{Headers: &r.Headers})

	t.p.SendCallback(ctx, &r, func(md producer.RecordMetadata, err error) {
		end(span, rec.UsePartition, md, err)
		if cb != nil {
			cb(md, err)
		}
	})
}

// end completes a record's span with where the record went, or why it did
// not.
func end(span trace.Span, partitionSet bool, md producer.RecordMetadata, err error) {
	if !partitionSet && md.Partition >= 0 {
		span.SetAttributes(semconv.MessagingDestinationPartitionID(strconv.Itoa(int(md.Partition))))
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(semconv.ErrorType(err))
	} else if md.Offset >= 0 {
		span.SetAttributes(semconv.MessagingKafkaOffset(int(md.Offset)))
	}
	span.End()
}

// Flush calls the wrapped Flush.
func (t *Producer) Flush(ctx context.Context) error { return t.p.Flush(ctx) }

// Close closes the wrapped producer; spans of records still pending end
// as their records are delivered or failed by it.
func (t *Producer) Close(ctx context.Context) error { return t.p.Close(ctx) }

// PartitionsFor calls the wrapped PartitionsFor.
func (t *Producer) PartitionsFor(ctx context.Context, topic string) ([]producer.PartitionInfo, error) {
	return t.p.PartitionsFor(ctx, topic)
}

// Metrics calls the wrapped Metrics.
func (t *Producer) Metrics() producer.Metrics { return t.p.Metrics() }

// InitTransactions calls the wrapped InitTransactions.
func (t *Producer) InitTransactions(ctx context.Context) error { return t.p.InitTransactions(ctx) }

// BeginTransaction calls the wrapped BeginTransaction.
func (t *Producer) BeginTransaction() error { return t.p.BeginTransaction() }

// SendOffsetsToTransaction calls the wrapped SendOffsetsToTransaction.
func (t *Producer) SendOffsetsToTransaction(ctx context.Context, offsets map[string][]producer.PartitionOffset, group producer.GroupMetadata) error {
	return t.p.SendOffsetsToTransaction(ctx, offsets, group)
}

// CommitTransaction calls the wrapped CommitTransaction.
func (t *Producer) CommitTransaction(ctx context.Context) error { return t.p.CommitTransaction(ctx) }

// AbortTransaction calls the wrapped AbortTransaction.
func (t *Producer) AbortTransaction(ctx context.Context) error { return t.p.AbortTransaction(ctx) }
