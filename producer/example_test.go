package producer_test

// Runnable examples. Each starts an in-process cluster (internal/embedded,
// franz-go's kfake) with a fresh topic, so partitions and offsets are
// deterministic: keyed records go where Java's murmur2 puts them, and
// offsets start at 0.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-go/tributary/internal/embedded"
	"github.com/tributary-go/tributary/producer"
)

// cluster starts one broker with topic "events" of 3 partitions.
func cluster() *embedded.Cluster {
	c, err := embedded.Start(1, 3, "events")
	if err != nil {
		log.Fatal(err)
	}
	return c
}

func ExampleNew() {
	c := cluster()
	defer c.Close()

	p, err := producer.New(
		producer.WithBootstrapServers(c.Addrs()...),
		producer.WithLinger(time.Millisecond),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())

	ctx := context.Background()
	md, err := p.Send(ctx, &producer.Record{Topic: "events", Key: []byte("user-1"), Value: []byte("signed up")}).Get(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s partition %d offset %d\n", md.Topic, md.Partition, md.Offset)
	// Output: events partition 2 offset 0
}

func ExampleProducer_Send() {
	c := cluster()
	defer c.Close()
	p, err := producer.New(producer.WithBootstrapServers(c.Addrs()...))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())

	ctx := context.Background()
	// Send returns at once; the futures resolve when the batch is
	// acknowledged. One key's records keep their order on one partition.
	var futures []*producer.Future
	for _, v := range []string{"created", "paid", "shipped"} {
		futures = append(futures, p.Send(ctx, &producer.Record{Topic: "events", Key: []byte("order-7"), Value: []byte(v)}))
	}
	for _, f := range futures {
		md, err := f.Get(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(md.Partition, md.Offset)
	}
	// Output:
	// 1 0
	// 1 1
	// 1 2
}

func ExampleFuture_Get() {
	c := cluster()
	defer c.Close()
	p, err := producer.New(producer.WithBootstrapServers(c.Addrs()...))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())

	f := p.Send(context.Background(), &producer.Record{Topic: "events", Partition: 0, UsePartition: true, Value: []byte("x")})
	// Get's context bounds only the wait: the record is delivered (or
	// fails within delivery.timeout.ms) whether or not Get gives up.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	md, err := f.Get(ctx)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Println("still pending")
	case err != nil:
		fmt.Println("failed:", err)
	default:
		fmt.Println("offset", md.Offset, "value bytes", md.SerializedValueSize, "key bytes", md.SerializedKeySize)
	}
	// Output: offset 0 value bytes 1 key bytes -1
}

func ExampleProducer_SendCallback() {
	c := cluster()
	defer c.Close()
	p, err := producer.New(producer.WithBootstrapServers(c.Addrs()...))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())

	ctx := context.Background()
	var mu sync.Mutex
	var acked []string
	for _, key := range []string{"a", "b", "c", "d"} {
		// The callback runs on a completion worker; it must be safe to
		// run alongside other partitions' callbacks.
		p.SendCallback(ctx, &producer.Record{Topic: "events", Key: []byte(key)}, func(md producer.RecordMetadata, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				acked = append(acked, key+": "+err.Error())
				return
			}
			acked = append(acked, fmt.Sprintf("%s: partition %d", key, md.Partition))
		})
	}
	if err := p.Flush(ctx); err != nil { // every callback has run when Flush returns
		log.Fatal(err)
	}
	slices.Sort(acked)
	for _, s := range acked {
		fmt.Println(s)
	}
	// Output:
	// a: partition 1
	// b: partition 2
	// c: partition 1
	// d: partition 2
}

func ExampleNewFromProperties() {
	c := cluster()
	defer c.Close()

	// Java's property names, as a migrating team has them in a file.
	p, err := producer.NewFromProperties(map[string]string{
		"bootstrap.servers":  c.Addrs()[0],
		"acks":               "all",
		"linger.ms":          "2",
		"compression.type":   "lz4",
		"enable.idempotence": "true",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())
	md, err := p.Send(context.Background(), &producer.Record{Topic: "events", Key: []byte("k"), Value: []byte("v")}).Get(context.Background())
	fmt.Println(md.Partition, md.Offset, err)

	// Contradictions name both settings.
	_, err = producer.NewFromProperties(map[string]string{
		"bootstrap.servers": c.Addrs()[0], "enable.idempotence": "true", "acks": "1",
	})
	fmt.Println(errors.Is(err, producer.ErrInvalidConfig))
	// Output:
	// 2 0 <nil>
	// true
}

func ExampleProducer_Flush() {
	c := cluster()
	defer c.Close()
	// A long linger: records wait for more until Flush makes them ready.
	p, err := producer.New(producer.WithBootstrapServers(c.Addrs()...), producer.WithLinger(time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())

	ctx := context.Background()
	var delivered atomic.Int64
	for i := range 100 {
		p.SendCallback(ctx, &producer.Record{Topic: "events", Value: []byte{byte(i)}}, func(_ producer.RecordMetadata, err error) {
			if err == nil {
				delivered.Add(1)
			}
		})
	}
	if err := p.Flush(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println(delivered.Load(), "delivered")
	// Output: 100 delivered
}

func ExampleProducer_Close() {
	c := cluster()
	defer c.Close()
	p, err := producer.New(producer.WithBootstrapServers(c.Addrs()...))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	f := p.Send(ctx, &producer.Record{Topic: "events", Partition: 1, UsePartition: true, Value: []byte("last words")})

	// Close delivers what is buffered; the context bounds how long it may
	// take, after which undelivered records fail with ErrClosed.
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := p.Close(cctx); err != nil {
		log.Fatal(err)
	}
	md, err := f.Get(ctx)
	fmt.Println(md.Offset, err)
	_, err = p.Send(ctx, &producer.Record{Topic: "events"}).Get(ctx)
	fmt.Println(err)
	// Output:
	// 0 <nil>
	// producer: closed
}

// Click is a value sent as JSON.
type Click struct {
	User string `json:"user"`
	Page string `json:"page"`
}

func ExampleNewTyped() {
	c := cluster()
	defer c.Close()
	p, err := producer.New(producer.WithBootstrapServers(c.Addrs()...))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())
	ctx := context.Background()

	// String keys and JSON values: Java's KafkaProducer<String, Click>.
	clicks := producer.NewTyped(p, producer.StringSerializer(), producer.JSONSerializer[Click]())
	md, err := clicks.Send(ctx, &producer.TypedRecord[string, Click]{Topic: "events", Key: "user-1", Value: Click{User: "user-1", Page: "/home"}}).Get(ctx)
	fmt.Println(md.Partition, md.SerializedValueSize, err)

	// Strings both ways, and a tombstone (null value) for a key.
	names := producer.NewTyped(p, producer.StringSerializer(), producer.StringSerializer())
	md, err = names.Send(ctx, &producer.TypedRecord[string, string]{Topic: "events", Key: "user-1", Value: "Ada"}).Get(ctx)
	fmt.Println(md.Partition, md.Offset, err)
	md, err = names.Send(ctx, &producer.TypedRecord[string, string]{Topic: "events", Key: "user-1", NullValue: true}).Get(ctx)
	fmt.Println(md.Partition, md.Offset, md.SerializedValueSize, err)
	// Output:
	// 2 32 <nil>
	// 2 1 <nil>
	// 2 2 -1 <nil>
}

// Reading is a sensor reading with a hand-written binary encoding, the
// way a generated Avro or Protobuf serializer would plug in.
type Reading struct {
	Sensor  uint16
	Celsius float32
}

// readingSerializer encodes a Reading as a version byte, the sensor id and
// the temperature, big-endian: 7 bytes.
type readingSerializer struct{}

func (readingSerializer) Serialize(_ string, r Reading) ([]byte, error) {
	if math.IsNaN(float64(r.Celsius)) {
		return nil, errors.New("no temperature")
	}
	b := make([]byte, 0, 7)
	b = append(b, 1) // format version
	b = binary.BigEndian.AppendUint16(b, r.Sensor)
	b = binary.BigEndian.AppendUint32(b, math.Float32bits(r.Celsius))
	return b, nil
}

func ExampleSerializer() {
	var s producer.Serializer[Reading] = readingSerializer{}
	b, _ := s.Serialize("readings", Reading{Sensor: 7, Celsius: 21.5})
	fmt.Printf("% x\n", b)

	// With Typed, a serializer's error fails the record before it is sent.
	typed := producer.NewTyped(nilProducer{}, producer.Int32Serializer(), s)
	_, err := typed.Send(context.Background(), &producer.TypedRecord[int32, Reading]{Topic: "readings", Key: 7, Value: Reading{Celsius: float32(math.NaN())}}).Get(context.Background())
	fmt.Println(errors.Is(err, producer.ErrSerialization), err)
	// Output:
	// 01 00 07 41 ac 00 00
	// true producer: serializing value for topic "readings": no temperature
}

// nilProducer stands in for a producer the example never reaches.
type nilProducer struct{ producer.Interface }

func ExampleProducer_Metrics() {
	c := cluster()
	defer c.Close()
	p, err := producer.New(producer.WithBootstrapServers(c.Addrs()...), producer.WithLinger(time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())
	ctx := context.Background()
	for i := range 10 {
		p.Send(ctx, &producer.Record{Topic: "events", Partition: int32(i % 2), UsePartition: true, Value: []byte("v")})
	}
	if err := p.Flush(ctx); err != nil {
		log.Fatal(err)
	}
	m := p.Metrics()
	fmt.Println("records sent:", m.RecordSendTotal, "errors:", m.RecordErrorTotal)
	fmt.Println("records per request:", m.RecordsPerRequestAvg)
	fmt.Println("by Java name:", m.Map()["record-send-total{topic=events}"])
	// Output:
	// records sent: 10 errors: 0
	// records per request: 10
	// by Java name: 10
}

// ackCounter is a hook counting acknowledged records.
type ackCounter struct{ records atomic.Int64 }

func (h *ackCounter) OnBatchAcked(b producer.BatchInfo, _ int64) { h.records.Add(int64(b.Records)) }

func ExampleWithHooks() {
	c := cluster()
	defer c.Close()
	h := &ackCounter{}
	p, err := producer.New(producer.WithBootstrapServers(c.Addrs()...), producer.WithHooks(h))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())
	ctx := context.Background()
	for range 25 {
		p.Send(ctx, &producer.Record{Topic: "events", Value: []byte("v")})
	}
	if err := p.Flush(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println(h.records.Load(), "records acknowledged")
	// Output: 25 records acknowledged
}
