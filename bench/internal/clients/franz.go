package clients

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-go/tributary/bench/internal/workload"
)

func init() {
	register("franz-go", "github.com/twmb/franz-go",
		"ProducerBatchMaxBytes=batch.size, ProducerLinger, RequiredAcks, DisableIdempotentWrite unless idempotent, ProducerBatchCompression (NoCompression for none: franz-go defaults to snappy), MaxProduceRequestsInflightPerBroker=5 (idempotent: franz-go's own 5), MaxBufferedBytes=32 MiB (records cap lifted); default partitioner (uniform bytes, murmur2 for keys); records recycled through a sync.Pool in the promise",
		startFranz)
}

// franzClient drives kgo.Client.Produce with pooled records, as franz-go
// recommends for throughput, so the record struct is not counted as a
// per-record allocation.
type franzClient struct {
	cl       *kgo.Client
	tr       *workload.Tracker
	topic    string
	pool     sync.Pool
	plain    func(*kgo.Record, error)
	promises []func(*kgo.Record, error) // one per sample slot, made up front
	ctx      context.Context
}

func startFranz(c Config) (Client, error) {
	s := c.Scenario
	acks := kgo.LeaderAck()
	if s.Acks == -1 {
		acks = kgo.AllISRAcks()
	}
	codec := kgo.NoCompression()
	switch s.Compression {
	case "lz4":
		codec = kgo.Lz4Compression()
	case "zstd":
		codec = kgo.ZstdCompression()
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ClientID("bench"),
	}
	if !c.Defaults {
		opts = append(opts,
			kgo.RequiredAcks(acks),
			kgo.ProducerLinger(s.Linger),
			kgo.ProducerBatchMaxBytes(int32(s.BatchBytes)),
			kgo.ProducerBatchCompression(codec),
			kgo.MaxBufferedBytes(s.BufferMemory()),
			kgo.MaxBufferedRecords(1<<24),
		)
	}
	if !s.Idempotent && !c.Defaults {
		// With idempotence franz-go already allows 5 in flight (Kafka ≥ 1.0)
		// and rejects this option.
		opts = append(opts, kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(workload.MaxInFlight))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	f := &franzClient{cl: cl, tr: c.Tracker, topic: c.Topic, ctx: context.Background()}
	f.pool.New = func() any { return new(kgo.Record) }
	f.plain = func(r *kgo.Record, err error) {
		f.recycle(r)
		f.tr.Done(-1, err)
	}
	f.promises = make([]func(*kgo.Record, error), workload.LatencySampleSlots)
	for i := range f.promises {
		slot := int32(i)
		f.promises[i] = func(r *kgo.Record, err error) {
			f.recycle(r)
			f.tr.Done(slot, err)
		}
	}
	return f, nil
}

func (f *franzClient) recycle(r *kgo.Record) {
	*r = kgo.Record{}
	f.pool.Put(r)
}

func (f *franzClient) Produce(_ int, key, value []byte, slot int32) error {
	return f.ProduceTopic(f.topic, key, value, slot)
}

func (f *franzClient) ProduceTopic(topic string, key, value []byte, slot int32) error {
	r := f.pool.Get().(*kgo.Record)
	r.Topic, r.Key, r.Value = topic, key, value
	promise := f.plain
	if slot >= 0 {
		promise = f.promises[slot]
	}
	f.cl.Produce(f.ctx, r, promise)
	return nil
}

func (f *franzClient) Close() error {
	err := f.cl.Flush(context.Background())
	f.cl.Close()
	return err
}
