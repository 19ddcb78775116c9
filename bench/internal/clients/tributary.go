package clients

import (
	"context"
	"fmt"
	"log/slog"
	"math/bits"
	"os"
	"sync"
	"time"

	"github.com/tributary-go/tributary/bench/internal/workload"
	"github.com/tributary-go/tributary/producer"
)

func init() {
	const note = "batch.size, linger.ms, acks, enable.idempotence, compression.type, max.in.flight=5, buffer.memory=32 MiB set directly; default partitioner (Java's sticky, murmur2 for keys)"
	register("tributary", "github.com/tributary-go/tributary", note, func(c Config) (Client, error) {
		return startTributary(c, false)
	})
	register("tributary-future", "github.com/tributary-go/tributary", note+"; Send + Future: each sending goroutine keeps a window of futures and Gets the oldest, in send order, when the window is full (the rest after the last Send)", func(c Config) (Client, error) {
		return startTributary(c, true)
	})
}

// tributaryClient drives Tributary through SendCallback (no allocation per
// record) or, for the future variant, through Send and Future.Get as a
// user keeping a bounded window of outstanding futures would (see
// futureWindow).
type tributaryClient struct {
	p     *producer.Producer
	tr    *workload.Tracker
	recs  []producer.Record   // one per sender goroutine
	one   producer.Record     // for ProduceTopic
	plain producer.Callback   // for unsampled records
	cbs   []producer.Callback // one per sample slot, made up front
	ctx   context.Context

	windows []futureWindow // future variant only: one per sender goroutine
	oneMu   sync.Mutex     // guards windows[0] for ProduceTopic, which has no sender index

	m0   producer.Metrics // at start, for the run's deltas in Extra
	diag *poolSampler     // nil unless Config.Diag
}

func startTributary(c Config, futures bool) (*tributaryClient, error) {
	s := c.Scenario
	logs := slog.DiscardHandler
	if path := os.Getenv("BENCH_TRIBUTARY_LOG"); path != "" { // a debug log of the producer, to diagnose a run
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		logs = slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}) // f stays open for the child's life
	}
	opts := []producer.Option{
		producer.WithBootstrapServers(c.Brokers...),
		producer.WithClientID("bench"),
		producer.WithLogger(slog.New(logs)),
	}
	if !c.Defaults {
		opts = append(opts,
			producer.WithAcks(producer.Acks(s.Acks)),
			producer.WithIdempotence(s.Idempotent),
			producer.WithLinger(s.Linger),
			producer.WithBatchSize(s.BatchBytes),
			producer.WithCompression(s.Compression),
			producer.WithMaxInFlight(workload.MaxInFlight),
			producer.WithBufferMemory(int64(s.BufferMemory())),
			producer.WithMaxRequestSize(workload.MaxRequestBytes),
		)
	}
	p, err := producer.New(opts...)
	if err != nil {
		return nil, err
	}
	t := &tributaryClient{p: p, tr: c.Tracker, ctx: context.Background(), recs: make([]producer.Record, s.Senders())}
	for i := range t.recs {
		t.recs[i].Topic = c.Topic
	}
	t.plain = func(_ producer.RecordMetadata, err error) { t.tr.Done(-1, err) }
	t.cbs = make([]producer.Callback, workload.LatencySampleSlots)
	for i := range t.cbs {
		slot := int32(i)
		t.cbs[i] = func(_ producer.RecordMetadata, err error) { t.tr.Done(slot, err) }
	}
	if futures {
		t.windows = make([]futureWindow, s.Senders())
		size := 1 << bits.Len(uint(max(futureWindowRecords/s.Senders(), minFutureWindow)-1)) // a power of two: the ring wraps with a mask
		for i := range t.windows {
			t.windows[i].futs = make([]*producer.Future, size)
		}
	}
	t.m0 = p.Metrics()
	if c.Diag {
		t.diag = startPoolSampler(p)
	}
	return t, nil
}

func (t *tributaryClient) Produce(w int, key, value []byte, slot int32) error {
	rec := &t.recs[w]
	rec.Key, rec.Value = key, value
	if t.windows != nil {
		t.windows[w].push(t, t.p.Send(t.ctx, rec), slot)
		return nil
	}
	t.send(rec, slot)
	return nil
}

func (t *tributaryClient) ProduceTopic(topic string, key, value []byte, slot int32) error {
	t.one.Topic, t.one.Key, t.one.Value = topic, key, value
	if t.windows != nil {
		t.oneMu.Lock()
		t.windows[0].push(t, t.p.Send(t.ctx, &t.one), slot)
		t.windows[0].drain(t)
		t.oneMu.Unlock()
		return nil
	}
	t.send(&t.one, slot)
	return nil
}

// Drain waits for the outcome of every future still in a window (the
// future variant; the callback variant has nothing to wait for). The
// harness calls it once the sending goroutines have returned.
func (t *tributaryClient) Drain() {
	for i := range t.windows {
		t.windows[i].drain(t)
	}
}

func (t *tributaryClient) send(rec *producer.Record, slot int32) {
	cb := t.plain
	if slot >= 0 {
		cb = t.cbs[slot]
	}
	t.p.SendCallback(t.ctx, rec, cb)
}

// Extra reports the producer's own figures over the run: buffer pool
// wait, requests and records per request (its view of what the sink
// counts), and with Config.Diag the sampled pool state.
func (t *tributaryClient) Extra() map[string]float64 {
	m := t.p.Metrics()
	out := map[string]float64{
		"bufferpool_wait_ms":     float64(m.BufferpoolWaitTime-t.m0.BufferpoolWaitTime) / 1e6,
		"produce_requests":       float64(m.RequestTotal - t.m0.RequestTotal),
		"records_sent":           float64(m.RecordSendTotal - t.m0.RecordSendTotal),
		"batch_size_avg_bytes":   m.BatchSizeAvg,
		"buffer_available_bytes": float64(m.BufferAvailableBytes),
	}
	if t.diag != nil {
		t.diag.stop(out)
	}
	return out
}

func (t *tributaryClient) Close() error {
	if t.diag != nil {
		t.diag.stop(nil)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := t.p.Close(ctx)
	t.Drain() // nothing left after a run; after a failed one, Close resolved every future
	if err != nil {
		return fmt.Errorf("tributary: close: %w", err)
	}
	return nil
}

// poolSampler samples the buffer pool every millisecond while a run goes
// on (Config.Diag only: it costs a Metrics call per sample): how often
// Sends were waiting for memory and how low free memory went.
type poolSampler struct {
	p       *producer.Producer
	quit    chan struct{}
	done    chan struct{}
	once    sync.Once
	samples int
	waiting int   // samples with a Send waiting for memory
	minFree int64 // lowest buffer-available-bytes seen
	sumFree float64
}

func startPoolSampler(p *producer.Producer) *poolSampler {
	s := &poolSampler{p: p, quit: make(chan struct{}), done: make(chan struct{}), minFree: -1}
	go s.run()
	return s
}

func (s *poolSampler) run() {
	defer close(s.done)
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
		}
		m := s.p.Metrics()
		s.samples++
		if m.WaitingThreads > 0 {
			s.waiting++
		}
		if s.minFree < 0 || m.BufferAvailableBytes < s.minFree {
			s.minFree = m.BufferAvailableBytes
		}
		s.sumFree += float64(m.BufferAvailableBytes)
	}
}

// stop ends the sampling and, when out is not nil, writes the figures.
func (s *poolSampler) stop(out map[string]float64) {
	s.once.Do(func() { close(s.quit) })
	<-s.done
	if out == nil || s.samples == 0 {
		return
	}
	out["diag_pool_samples"] = float64(s.samples)
	out["diag_pool_waiting_fraction"] = float64(s.waiting) / float64(s.samples)
	out["diag_pool_min_free_bytes"] = float64(s.minFree)
	out["diag_pool_mean_free_bytes"] = s.sumFree / float64(s.samples)
}
