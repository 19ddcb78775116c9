//go:build cgo && !nocgo

package clients

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/tributary-go/tributary/bench/internal/workload"
)

func init() {
	register("confluent-kafka-go", "github.com/confluentinc/confluent-kafka-go/v2",
		"librdkafka via cgo (bundled static library); batch.size, linger.ms, acks, enable.idempotence, compression.type, max.in.flight=5 set directly; queue.buffering.max.kbytes=32768 (messages cap lifted); partitioner murmur2_random (Java placement); go.delivery.report.fields=none; Produce retried after a short wait on ErrQueueFull; allocations are Go-side only (librdkafka's C heap is not in runtime.MemStats, but is in RSS and CPU)",
		startConfluent)
	extraVersion = func(name string) string {
		if name != "confluent-kafka-go" {
			return ""
		}
		_, v := kafka.LibraryVersion()
		return "librdkafka " + v
	}
}

// confluentClient drives librdkafka's producer: Produce with the producer's
// Events channel read by one goroutine. A sampled message's Opaque points
// at its slot number in a preallocated table.
type confluentClient struct {
	p     *kafka.Producer
	tr    *workload.Tracker
	tp    kafka.TopicPartition
	slots []int32
	msgs  []kafka.Message // one per sender goroutine
	wg    sync.WaitGroup
}

func startConfluent(c Config) (Client, error) {
	s := c.Scenario
	brokers := ""
	for i, b := range c.Brokers {
		if i > 0 {
			brokers += ","
		}
		brokers += b
	}
	acks := "1"
	if s.Acks == -1 {
		acks = "all"
	}
	cm := &kafka.ConfigMap{
		"bootstrap.servers":                     brokers,
		"client.id":                             "bench",
		"acks":                                  acks,
		"enable.idempotence":                    s.Idempotent,
		"linger.ms":                             strconv.FormatFloat(float64(s.Linger)/float64(time.Millisecond), 'f', -1, 64),
		"batch.size":                            s.BatchBytes,
		"compression.type":                      s.Compression,
		"max.in.flight.requests.per.connection": workload.MaxInFlight,
		"queue.buffering.max.kbytes":            s.BufferMemory() >> 10,
		"queue.buffering.max.messages":          10_000_000,
		"message.max.bytes":                     workload.MaxRequestBytes,
		"partitioner":                           "murmur2_random",
		"go.delivery.report.fields":             "none",
		"log_level":                             3,
	}
	p, err := kafka.NewProducer(cm)
	if err != nil {
		return nil, err
	}
	topic := c.Topic
	cc := &confluentClient{p: p, tr: c.Tracker, slots: make([]int32, workload.LatencySampleSlots), msgs: make([]kafka.Message, s.Senders()),
		tp: kafka.TopicPartition{Topic: &topic, Partition: kafka.PartitionAny}}
	for i := range cc.slots {
		cc.slots[i] = int32(i)
	}
	cc.wg.Add(1)
	go cc.events()
	return cc, nil
}

func (cc *confluentClient) events() {
	defer cc.wg.Done()
	for ev := range cc.p.Events() {
		m, ok := ev.(*kafka.Message)
		if !ok {
			continue // logs and stats
		}
		slot := int32(-1)
		if p, ok := m.Opaque.(*int32); ok {
			slot = *p
		}
		cc.tr.Done(slot, m.TopicPartition.Error)
	}
}

func (cc *confluentClient) Produce(w int, key, value []byte, slot int32) error {
	m := &cc.msgs[w]
	*m = kafka.Message{TopicPartition: cc.tp, Key: key, Value: value}
	if slot >= 0 {
		m.Opaque = &cc.slots[slot]
	}
	for {
		err := cc.p.Produce(m, nil)
		if err == nil {
			return nil
		}
		if ke, ok := err.(kafka.Error); ok && ke.Code() == kafka.ErrQueueFull {
			time.Sleep(100 * time.Microsecond)
			continue
		}
		return fmt.Errorf("confluent-kafka-go: produce: %w", err)
	}
}

func (cc *confluentClient) Close() error {
	left := cc.p.Flush(30_000)
	cc.p.Close()
	cc.wg.Wait()
	if left > 0 {
		return fmt.Errorf("confluent-kafka-go: %d messages not delivered at close", left)
	}
	return nil
}
