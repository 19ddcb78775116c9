package clients

import (
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/rcrowley/go-metrics"

	"github.com/tributary-go/tributary/bench/internal/workload"
)

func init() {
	register("sarama", "github.com/IBM/sarama",
		"AsyncProducer; Producer.MaxMessageBytes=batch.size (sarama's per-partition batch cap), Flush.Frequency=linger.ms, Flush.Bytes=0 (sarama's byte trigger is per broker request, so a partition's batch closes at batch.size as in Java), RequiredAcks, Idempotent (which forces Net.MaxOpenRequests=1) else MaxOpenRequests=5, Compression; Version 3.6; go-metrics disabled (UseNilMetrics); default partitioner (random for null keys, FNV-1a for keys); no byte bound on buffering (ChannelBufferSize 256 messages); messages recycled through a sync.Pool",
		startSarama)
}

// saramaClient drives sarama's AsyncProducer: messages go in on Input, and
// come back on Successes or Errors, read by two goroutines. A sampled
// message's Metadata points at its slot number in a preallocated table.
type saramaClient struct {
	p     sarama.AsyncProducer
	tr    *workload.Tracker
	topic string
	pool  sync.Pool
	slots []int32
	wg    sync.WaitGroup
}

func startSarama(c Config) (Client, error) {
	s := c.Scenario
	metrics.UseNilMetrics = true
	cfg := sarama.NewConfig()
	cfg.ClientID = "bench"
	cfg.Version = sarama.V3_6_0_0
	cfg.Producer.RequiredAcks = sarama.WaitForLocal
	if s.Acks == -1 {
		cfg.Producer.RequiredAcks = sarama.WaitForAll
	}
	cfg.Net.MaxOpenRequests = workload.MaxInFlight
	if s.Idempotent {
		cfg.Producer.Idempotent = true
		cfg.Net.MaxOpenRequests = 1
	}
	cfg.Producer.MaxMessageBytes = s.BatchBytes
	cfg.Producer.Flush.Frequency = s.Linger
	cfg.Producer.Flush.Bytes = 0
	switch s.Compression {
	case "lz4":
		cfg.Producer.Compression = sarama.CompressionLZ4
	case "zstd":
		cfg.Producer.Compression = sarama.CompressionZSTD
	}
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	cfg.Producer.Timeout = 30 * time.Second
	p, err := sarama.NewAsyncProducer(c.Brokers, cfg)
	if err != nil {
		return nil, err
	}
	sc := &saramaClient{p: p, tr: c.Tracker, topic: c.Topic, slots: make([]int32, workload.LatencySampleSlots)}
	for i := range sc.slots {
		sc.slots[i] = int32(i)
	}
	sc.pool.New = func() any { return new(sarama.ProducerMessage) }
	sc.wg.Add(2)
	go func() {
		defer sc.wg.Done()
		for m := range p.Successes() {
			sc.done(m, nil)
		}
	}()
	go func() {
		defer sc.wg.Done()
		for e := range p.Errors() {
			sc.done(e.Msg, e.Err)
		}
	}()
	return sc, nil
}

func (sc *saramaClient) done(m *sarama.ProducerMessage, err error) {
	slot := int32(-1)
	if p, ok := m.Metadata.(*int32); ok {
		slot = *p
	}
	*m = sarama.ProducerMessage{}
	sc.pool.Put(m)
	sc.tr.Done(slot, err)
}

func (sc *saramaClient) Produce(_ int, key, value []byte, slot int32) error {
	m := sc.pool.Get().(*sarama.ProducerMessage)
	m.Topic = sc.topic
	m.Value = sarama.ByteEncoder(value)
	if key != nil {
		m.Key = sarama.ByteEncoder(key)
	}
	if slot >= 0 {
		m.Metadata = &sc.slots[slot]
	}
	sc.p.Input() <- m
	return nil
}

func (sc *saramaClient) Close() error {
	err := sc.p.Close()
	sc.wg.Wait()
	return err
}
