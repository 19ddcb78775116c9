package clients

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/tributary-go/tributary/bench/internal/workload"
	"github.com/tributary-go/tributary/producer"
)

func init() {
	const note = "batch.size, linger.ms, acks, enable.idempotence, compression.type, max.in.flight=5, buffer.memory=32 MiB set directly; default partitioner (Java's sticky, murmur2 for keys)"
	register("tributary", "github.com/tributary-go/tributary", note, func(c Config) (Client, error) {
		return startTributary(c, false)
	})
	register("tributary-future", "github.com/tributary-go/tributary", note+"; Send + Future, futures awaited in order by one goroutine", func(c Config) (Client, error) {
		return startTributary(c, true)
	})
}

// tributaryClient drives Tributary through SendCallback (no allocation per
// record) or, for the future variant, Send with one goroutine waiting on
// the futures in order.
type tributaryClient struct {
	p     *producer.Producer
	tr    *workload.Tracker
	rec   producer.Record
	plain producer.Callback   // for unsampled records
	cbs   []producer.Callback // one per sample slot, made up front
	ctx   context.Context

	futures chan pendingFuture // future variant only
	waiter  chan struct{}      // closed when the waiter returns
}

type pendingFuture struct {
	f    *producer.Future
	slot int32
}

func startTributary(c Config, futures bool) (*tributaryClient, error) {
	s := c.Scenario
	opts := []producer.Option{
		producer.WithBootstrapServers(c.Brokers...),
		producer.WithClientID("bench"),
		producer.WithAcks(producer.Acks(s.Acks)),
		producer.WithIdempotence(s.Idempotent),
		producer.WithLinger(s.Linger),
		producer.WithBatchSize(s.BatchBytes),
		producer.WithCompression(s.Compression),
		producer.WithMaxInFlight(workload.MaxInFlight),
		producer.WithBufferMemory(workload.BufferBytes),
		producer.WithMaxRequestSize(workload.MaxRequestBytes),
		producer.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	}
	p, err := producer.New(opts...)
	if err != nil {
		return nil, err
	}
	t := &tributaryClient{p: p, tr: c.Tracker, ctx: context.Background()}
	t.rec.Topic = c.Topic
	t.plain = func(_ producer.RecordMetadata, err error) { t.tr.Done(-1, err) }
	t.cbs = make([]producer.Callback, workload.LatencySampleSlots)
	for i := range t.cbs {
		slot := int32(i)
		t.cbs[i] = func(_ producer.RecordMetadata, err error) { t.tr.Done(slot, err) }
	}
	if futures {
		t.futures = make(chan pendingFuture, 64<<10)
		t.waiter = make(chan struct{})
		go t.wait()
	}
	return t, nil
}

func (t *tributaryClient) Produce(key, value []byte, slot int32) error {
	t.rec.Key, t.rec.Value = key, value
	if t.futures != nil {
		t.futures <- pendingFuture{t.p.Send(t.ctx, &t.rec), slot}
		return nil
	}
	cb := t.plain
	if slot >= 0 {
		cb = t.cbs[slot]
	}
	t.p.SendCallback(t.ctx, &t.rec, cb)
	return nil
}

// wait resolves futures in send order, as a caller keeping a window of
// futures would.
func (t *tributaryClient) wait() {
	defer close(t.waiter)
	for pf := range t.futures {
		_, err := pf.f.Get(t.ctx)
		t.tr.Done(pf.slot, err)
	}
}

func (t *tributaryClient) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := t.p.Close(ctx)
	if t.futures != nil {
		close(t.futures)
		<-t.waiter
	}
	if err != nil {
		return fmt.Errorf("tributary: close: %w", err)
	}
	return nil
}
