package otel_test

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	totel "github.com/tributary-go/tributary/plugin/otel"
	"github.com/tributary-go/tributary/producer"
	"github.com/tributary-go/tributary/producer/producertest"
)

// Example traces a record sent through a mock producer and reads the trace
// context back from the headers the producer received, as a consumer
// would.
func Example() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	mock := producertest.New(producertest.WithPartitions("orders", 3))
	p := totel.NewProducer(mock, totel.WithTracerProvider(tp), totel.WithPropagator(propagation.TraceContext{}), totel.WithClientID("shop"))

	md, err := p.Send(context.Background(), &producer.Record{Topic: "orders", Key: []byte("order-42"), Value: []byte("{}")}).Get(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	s := spans.Ended()[0]
	fmt.Println(s.Name(), s.SpanKind())
	for _, kv := range s.Attributes() {
		fmt.Printf("  %s=%s\n", kv.Key, kv.Value.Emit())
	}

	// What a consumer does with the delivered record's headers.
	rec := mock.History()[0].Record
	ctx := propagation.TraceContext{}.Extract(context.Background(), totel.HeaderCarrier{Headers: &rec.Headers})
	fmt.Println("consumer continues the span:", trace.SpanContextFromContext(ctx).SpanID() == s.SpanContext().SpanID())
	fmt.Println("offset:", md.Offset)
	// Output:
	// send orders producer
	//   messaging.system=kafka
	//   messaging.operation.type=send
	//   messaging.operation.name=send
	//   messaging.client.id=shop
	//   messaging.destination.name=orders
	//   messaging.kafka.message.key=order-42
	//   messaging.message.body.size=2
	//   messaging.destination.partition.id=0
	//   messaging.kafka.offset=0
	// consumer continues the span: true
	// offset: 0
}
