package clients

import (
	"context"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"

	"github.com/tributary-go/tributary/bench/internal/workload"
)

func init() {
	register("kafka-go", "github.com/segmentio/kafka-go",
		"Writer{Async: true, Completion}; BatchBytes=batch.size, BatchSize=batch.size/value size messages (so bytes decide; kafka-go preallocates BatchSize message slots per batch, which is most of its B/rec at linger 0), BatchTimeout=linger.ms, RequiredAcks, Compression; no idempotence (acks=all without it in the idempotent scenario), one request in flight per partition (no max.in.flight knob), no bound on buffering; Balancer RoundRobin for null keys, Murmur2Balancer (Java placement) for keys",
		startKafkaGo)
}

// kafkaGoClient drives kafka-go's asynchronous Writer. A sampled message's
// WriterData points at its slot number in a preallocated table; Completion
// reports a partition's batch at once.
type kafkaGoClient struct {
	w     *kafka.Writer
	tr    *workload.Tracker
	slots []int32
	msgs  [][1]kafka.Message // one per sender goroutine
	ctx   context.Context
}

func startKafkaGo(c Config) (Client, error) {
	s := c.Scenario
	k := &kafkaGoClient{tr: c.Tracker, slots: make([]int32, workload.LatencySampleSlots), ctx: context.Background(),
		msgs: make([][1]kafka.Message, s.Senders())}
	for i := range k.slots {
		k.slots[i] = int32(i)
	}
	var bal kafka.Balancer = &kafka.RoundRobin{}
	if s.Keys > 0 {
		bal = kafka.Murmur2Balancer{}
	}
	acks := kafka.RequireOne
	if s.Acks == -1 {
		acks = kafka.RequireAll
	}
	var codec compress.Compression
	switch s.Compression {
	case "lz4":
		codec = kafka.Lz4
	case "zstd":
		codec = kafka.Zstd
	}
	linger := s.Linger
	if linger == 0 {
		linger = 1 // kafka-go treats 0 as "use the 1 s default"
	}
	k.w = &kafka.Writer{
		Addr:         kafka.TCP(c.Brokers...),
		Topic:        c.Topic,
		Balancer:     bal,
		BatchSize:    max(100, s.BatchBytes/s.ValueSize),
		BatchBytes:   int64(s.BatchBytes),
		BatchTimeout: linger,
		RequiredAcks: acks,
		Async:        true,
		Compression:  codec,
		Completion:   k.complete,
	}
	return k, nil
}

func (k *kafkaGoClient) complete(msgs []kafka.Message, err error) {
	n := 0
	for i := range msgs {
		if p, ok := msgs[i].WriterData.(*int32); ok {
			k.tr.Done(*p, err)
		} else {
			n++
		}
	}
	if n > 0 {
		k.tr.DoneN(n, err)
	}
}

func (k *kafkaGoClient) Produce(w int, key, value []byte, slot int32) error {
	m := &k.msgs[w][0]
	*m = kafka.Message{Key: key, Value: value}
	if slot >= 0 {
		m.WriterData = &k.slots[slot]
	}
	return k.w.WriteMessages(k.ctx, k.msgs[w][:]...)
}

func (k *kafkaGoClient) Close() error { return k.w.Close() }
