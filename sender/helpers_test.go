package sender_test

import (
	"context"
	"fmt"
	"github.com/tributary-go/tributary/internal/leakcheck"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/internal/fakebroker"
	"github.com/tributary-go/tributary/metadata"
	"github.com/tributary-go/tributary/protocol"
	"github.com/tributary-go/tributary/sender"
)

// hangLimit bounds every wait in these tests. It guards against hangs and is
// never an assertion about speed.
const hangLimit = 20 * time.Second

// options configure a test pipeline. Zero fields take the defaults set in
// newEnv.
type options struct {
	broker      fakebroker.Config
	sender      sender.Config
	conn        conn.Config
	acks        string // "all" (the default), "1" or "0"
	batchSize   int
	linger      time.Duration
	idempotence bool
}

// env is the real pipeline (accumulator, metadata, connection pool,
// sender, optionally idempotence) wired as producer.New wires it, against
// a fake broker.
type env struct {
	t     *testing.T
	fb    *fakebroker.Broker
	acc   *accumulator.Accumulator
	meta  *metadata.Metadata
	conns *conn.Pool
	snd   *sender.Sender
	idem  *sender.Idempotence
	cfg   sender.Config

	closeOnce sync.Once
	closeErr  error
}

// newEnv starts a fake broker and the pipeline, waits until the metadata
// knows every topic, and registers a cleanup that closes everything and
// checks that no goroutine of ours outlives it.
func newEnv(t *testing.T, o options) *env {
	t.Helper()
	checkNoLeaks(t)
	fb, err := fakebroker.Start(o.broker)
	require.NoError(t, err)
	t.Cleanup(fb.Close)

	if o.batchSize == 0 {
		o.batchSize = 16384
	}
	if o.linger == 0 {
		o.linger = time.Hour // nothing leaves before the test flushes
	}
	sc := o.sender
	switch o.acks {
	case "", "all":
		sc.Acks = -1
	case "1":
		sc.Acks = 1
	case "0":
		sc.Acks = 0
	default:
		t.Fatalf("bad acks %q", o.acks)
	}
	if sc.MaxInFlight == 0 {
		sc.MaxInFlight = 5
	}
	if sc.MaxRequestSize == 0 {
		sc.MaxRequestSize = 1 << 20
	}
	if sc.RequestTimeout == 0 {
		sc.RequestTimeout = 5 * time.Second
	}
	if sc.DeliveryTimeout == 0 {
		sc.DeliveryTimeout = hangLimit
	}
	if sc.Retries == 0 {
		sc.Retries = math.MaxInt32
	}
	if sc.RetryBackoff == 0 {
		sc.RetryBackoff = 5 * time.Millisecond
	}
	if sc.RetryBackoffMax == 0 {
		sc.RetryBackoffMax = 20 * time.Millisecond
	}

	e := &env{t: t, fb: fb}
	pool := accumulator.NewBufferPool(32<<20, o.batchSize)
	e.acc = accumulator.New(accumulator.Config{BatchSize: o.batchSize, Linger: o.linger, DeliveryTimeout: sc.DeliveryTimeout}, pool)
	cc := o.conn
	if cc.RequestTimeout == 0 {
		cc.RequestTimeout = sc.RequestTimeout + 5*time.Second
	}
	if cc.ReconnectBackoff == 0 {
		cc.ReconnectBackoff, cc.ReconnectBackoffMax = 5*time.Millisecond, 20*time.Millisecond
	}
	var snd *sender.Sender
	e.conns = conn.NewPool(&cc, func() {
		if snd != nil {
			snd.ConnReady()
		}
	})
	fetcher := metadata.NewPoolFetcher(e.conns, fb.Addrs())
	e.meta = metadata.New(metadata.Config{RetryBackoff: 5 * time.Millisecond, RetryBackoffMax: 20 * time.Millisecond}, fetcher)
	if o.idempotence {
		e.idem = sender.NewIdempotence(initProducerID(fetcher), func() { snd.Wake() }, func(int) time.Duration { return 10 * time.Millisecond })
		sc.Producer = e.idem
	}
	e.cfg = sc
	snd = sender.New(sc, e.acc, e.meta, e.conns)
	e.snd = snd
	e.meta.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
		defer cancel()
		if err := e.close(ctx); err != nil && ctx.Err() != nil {
			t.Errorf("Close did not finish delivering within %v", hangLimit)
		}
		e.conns.Close()
		pool.Close()
	})

	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	for name := range o.broker.Topics {
		_, err := e.meta.WaitForTopic(ctx, name)
		require.NoError(t, err)
	}
	snd.Start()
	return e
}

// close closes the sender (with ctx), the idempotence state and the
// metadata, once, and returns the sender's Close error.
func (e *env) close(ctx context.Context) error {
	e.closeOnce.Do(func() {
		e.closeErr = e.snd.Close(ctx)
		if e.idem != nil {
			e.idem.Close()
		}
		e.meta.Close()
	})
	return e.closeErr
}

// initProducerID is the InitFunc producer.New uses: InitProducerId on any
// broker, carrying the current id and epoch.
func initProducerID(f *metadata.PoolFetcher) sender.InitFunc {
	return func(ctx context.Context, id int64, epoch int16) (int64, int16, error) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		c, err := f.Conn(ctx)
		if err != nil {
			return 0, 0, err
		}
		r, err := c.Do(ctx, &protocol.InitProducerIDRequest{TransactionTimeoutMillis: 60000, ProducerID: id, ProducerEpoch: epoch})
		if err != nil {
			return 0, 0, err
		}
		resp := r.(*protocol.InitProducerIDResponse)
		if kerr := protocol.KafkaError(resp.ErrorCode, nil); kerr != nil {
			return 0, 0, kerr
		}
		return resp.ProducerID, resp.ProducerEpoch, nil
	}
}

// record is one appended record's future.
type record struct {
	h     *accumulator.Handle
	value string
}

// send appends a record with value to topic-partition.
func (e *env) send(topic string, partition int32, value string) *record {
	e.t.Helper()
	res, err := e.acc.Append(context.Background(), topic, partition, time.Now().UnixMilli(), nil, []byte(value), nil,
		accumulator.Thunk{KeySize: -1, ValueSize: int32(len(value))}, time.Second)
	require.NoError(e.t, err)
	return &record{h: &res.Handle, value: value}
}

// sendN appends n records "<prefix>-0", ... to topic-partition.
func (e *env) sendN(topic string, partition int32, prefix string, n int) []*record {
	e.t.Helper()
	out := make([]*record, n)
	for i := range out {
		out[i] = e.send(topic, partition, fmt.Sprintf("%s-%d", prefix, i))
	}
	return out
}

// soloBatchSize is a batch.size below any one record of sendSolo: every
// such record gets a batch of its own.
const soloBatchSize = 64

// sendSolo appends n records like sendN, padded so that with
// soloBatchSize each one fills a batch by itself (a record's first-append
// size estimate exceeds its real size by up to ~17 bytes, so small records
// would share a batch).
func (e *env) sendSolo(topic string, partition int32, prefix string, n int) []*record {
	e.t.Helper()
	out := make([]*record, n)
	for i := range out {
		out[i] = e.send(topic, partition, fmt.Sprintf("%s-%d-%s", prefix, i, strings.Repeat(".", 40)))
	}
	return out
}

// flush makes every queued batch ready now.
func (e *env) flush() {
	e.acc.BeginFlush()
	e.t.Cleanup(e.acc.EndFlush)
	e.snd.Wake()
}

// wait waits for the record's outcome: its offset, and its own error
// (a per-record error when the broker named it, else its batch's).
func (r *record) wait(t *testing.T) (int64, error) {
	t.Helper()
	res, _ := r.h.Result()
	select {
	case <-res.Done():
	case <-time.After(hangLimit):
		t.Fatalf("record %q: no outcome within %v", r.value, hangLimit)
	}
	res, idx := r.h.Result() // a split may have moved the record
	if res.Err != nil || res.RecordErrors != nil {
		return -1, res.RecordErr(idx)
	}
	if res.BaseOffset < 0 {
		return -1, nil
	}
	return res.BaseOffset + int64(idx), nil
}

// done reports whether the record has an outcome, without waiting.
func (r *record) done() bool {
	res, _ := r.h.Result()
	return res.IsDone()
}

// values returns the values stored in a partition, in offset order.
func values(fb *fakebroker.Broker, topic string, partition int32) []string {
	var out []string
	for _, rb := range fb.Batches(topic, partition) {
		for _, r := range rb.Records {
			out = append(out, string(r.Value))
		}
	}
	return out
}

// names returns the values of records, in order.
func names(recs []*record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.value
	}
	return out
}

// produceLog records every Produce request a fake broker receives, as a
// Handler, and lets a test script the answers.
type produceLog struct {
	mu     sync.Mutex
	reqs   []seenRequest
	answer func(n int, node int32, req *protocol.ProduceRequest) fakebroker.Action // n counts from 1
}

// seenRequest is what a test needs of a Produce request.
type seenRequest struct {
	node       int32
	at         time.Time
	acks       int16
	partitions []seenPartition
	bytes      int // records bytes in all
}

type seenPartition struct {
	topic     string
	partition int32
	batches   int
	records   int
	pid       int64
	epoch     int16
	seq       int32
}

// handler is the fakebroker Handler.
func (l *produceLog) handler(node int32, key protocol.Key, _ int16, req protocol.Request) fakebroker.Action {
	if key != protocol.KeyProduce {
		return fakebroker.Action{}
	}
	pr := req.(*protocol.ProduceRequest)
	s := seenRequest{node: node, at: time.Now(), acks: pr.Acks}
	for _, t := range pr.Topics {
		for _, p := range t.Partitions {
			sp := seenPartition{topic: t.Name, partition: p.Index}
			if bs, err := protocol.ReadBatches(append([]byte(nil), p.Records...)); err == nil {
				sp.batches = len(bs)
				for _, b := range bs {
					sp.records += len(b.Records)
				}
				if len(bs) > 0 {
					sp.pid, sp.epoch, sp.seq = bs[0].ProducerID, bs[0].ProducerEpoch, bs[0].BaseSequence
				}
			}
			s.partitions = append(s.partitions, sp)
			s.bytes += len(p.Records)
		}
	}
	l.mu.Lock()
	l.reqs = append(l.reqs, s)
	n := len(l.reqs)
	answer := l.answer
	l.mu.Unlock()
	if answer == nil {
		return fakebroker.Action{}
	}
	return answer(n, node, pr)
}

func (l *produceLog) requests() []seenRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]seenRequest(nil), l.reqs...)
}

func (l *produceLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs)
}

// checkNoLeaks fails the test if a goroutine of the pipeline or the fake
// broker outlives it.
func checkNoLeaks(t *testing.T) {
	leakcheck.Check(t, "tributary/sender.", "tributary/internal/conn.", "tributary/metadata.", "tributary/internal/fakebroker.", "tributary/accumulator.")
}

// waitFor polls cond until it holds, failing the test after hangLimit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
