package producer

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/internal/clock"
	"github.com/tributary-go/tributary/internal/compress"
	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/internal/cowmap"
	"github.com/tributary-go/tributary/internal/metrics"
	"github.com/tributary-go/tributary/internal/telemetry"
	"github.com/tributary-go/tributary/metadata"
	"github.com/tributary-go/tributary/partitioner"
	"github.com/tributary-go/tributary/protocol"
	"github.com/tributary-go/tributary/sender"
)

// Version is the client software version sent to brokers (ApiVersions v3+).
const Version = "0.1.0"

// Producer sends records to Kafka. It is safe for concurrent use by any
// number of goroutines; one Producer per process is the usual shape, as with
// the Java client. Create it with New or NewFromProperties and Close it when
// done.
type Producer struct {
	cfg   *config
	pool  *accumulator.BufferPool
	acc   *accumulator.Accumulator
	meta  *metadata.Metadata
	conns *conn.Pool
	snd   *sender.Sender
	part  partitioner.Partitioner
	cmp   *completer
	idem  *sender.Idempotence // nil when enable.idempotence is false or the producer is transactional
	clock *clock.Coarse       // millisecond clock for record timestamps
	txn   *sender.TxnManager  // nil unless transactional.id is set
	tel   *telemetry.Reporter // nil when enable.metrics.push is false (telemetry.go)
	met   *metrics.Registry   // counters behind Metrics; written by the sender and the facade

	appendObs partitioner.AppendObserver // part's optional hook, or nil
	topics    cowmap.Map[topicHandle]    // topic name → handle, one per topic sent to (topics.go)
	futures   futureSource               // Send's Futures (future.go)
	closed    atomic.Bool                // Send and PartitionsFor fail with ErrClosed
	closing   atomic.Bool                // set by the first Close
	closeDone chan struct{}              // closed when the first Close returns
	closeErr  error                      // written by the first Close before closeDone closes
}

// New returns a producer configured by opts. It validates the settings and
// starts the producer's background goroutines; it does not contact the
// cluster (metadata is fetched on the first Send or PartitionsFor).
func New(opts ...Option) (*Producer, error) {
	c := defaultConfig()
	for _, o := range opts {
		o(c)
	}
	return newProducer(c)
}

// NewFromProperties returns a producer configured by Java property names
// ("bootstrap.servers", "batch.size", "linger.ms", "acks", …), then opts.
// Unknown keys, malformed values and contradictory settings are errors that
// name the key and the rule.
func NewFromProperties(props map[string]string, opts ...Option) (*Producer, error) {
	c := defaultConfig()
	if err := applyProperties(c, props); err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(c)
	}
	return newProducer(c)
}

func newProducer(c *config) (*Producer, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	log := c.logger
	if c.idempotenceDisabledReason != "" {
		log.Warn("producer: idempotence disabled", "reason", c.idempotenceDisabledReason)
	}
	var cmpr *compress.Compressor
	if c.compression != compress.None {
		var err error
		if cmpr, err = compress.NewCompressor(c.compression, compressionLevel(c)); err != nil {
			return nil, err
		}
	}

	p := &Producer{cfg: c, clock: clock.NewCoarse(), met: metrics.NewRegistry(time.Now(), metrics.DefaultSample), closeDone: make(chan struct{})}
	p.futures.init()
	// The pipeline is built in the order a record travels it (see
	// lifecycle.go); nothing below refers to a part built after it.

	// Send appends records into per-partition batches, drawing memory
	// from the pool.
	p.pool = accumulator.NewBufferPool(c.bufferMemory, max(c.batchSize, 1))
	p.met.Mirror(metrics.BufferWait, func() int64 { return int64(p.pool.WaitTime()) })
	p.acc = accumulator.New(accumulator.Config{
		BatchSize:       max(c.batchSize, 1),
		MaxRecordSize:   c.maxRequestSize,
		Linger:          c.linger,
		DeliveryTimeout: c.deliveryTimeout,
		Compressor:      cmpr,
	}, p.pool)
	// A completed batch's callbacks run here, then its memory goes back
	// to the accumulator.
	p.cmp = newCompleter(p.acc, c.interceptors, log)

	// wake is the sender loop's wake-up channel. It is made first so that
	// the parts that signal it (the connection pool when a dial ends,
	// idempotence when a producer id arrives) can be built before the
	// sender itself.
	wake := make(chan struct{}, 1)
	signal := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	ccfg := &conn.Config{
		ClientID:            c.clientID,
		SoftwareName:        "tributary",
		SoftwareVersion:     Version,
		DialTimeout:         c.socketSetupTimeout,
		RequestTimeout:      c.requestTimeout,
		IdleTimeout:         c.connectionsMaxIdle,
		ReconnectBackoff:    c.reconnectBackoff,
		ReconnectBackoffMax: c.reconnectBackoffMax,
		Dial:                c.dial,
		Logger:              log,
	}
	applySecurity(ccfg, c)
	p.observeConns(ccfg)
	p.conns = conn.NewPool(ccfg, p.connReady(signal))
	fetcher := metadata.NewPoolFetcher(p.conns, c.bootstrap)
	p.tel = newTelemetry(p, fetcher)
	recovery, trigger := c.metadataRecoveryConfig()
	p.meta = metadata.New(metadata.Config{
		Recovery:               recovery,
		RebootstrapTrigger:     trigger,
		MaxAge:                 c.metadataMaxAge,
		MaxIdle:                c.metadataMaxIdle,
		AllowAutoTopicCreation: c.allowAutoTopicCreation,
		RetryBackoff:           c.retryBackoff,
		RetryBackoffMax:        c.retryBackoffMax,
		Logger:                 log,
	}, fetcher)

	p.part = c.partitioner
	if p.part == nil {
		switch c.partitionerName {
		case "round-robin":
			p.part = partitioner.NewRoundRobin()
		case "uniform-sticky":
			p.part = partitioner.NewUniformSticky(max(c.batchSize, 1))
		default:
			p.part = partitioner.NewDefault(max(c.batchSize, 1), partitioner.IgnoreKeys(c.ignoreKeys), partitioner.Adaptive(c.adaptive))
		}
	}
	p.appendObs, _ = p.part.(partitioner.AppendObserver)
	var load accumulator.LoadFunc
	if lo, ok := p.part.(partitioner.LoadObserver); ok {
		load = lo.UpdateLoad
	}

	scfg := sender.Config{
		Acks:            c.acks,
		MaxInFlight:     c.maxInFlight,
		MaxRequestSize:  c.maxRequestSize,
		RequestTimeout:  c.requestTimeout,
		DeliveryTimeout: c.deliveryTimeout,
		Retries:         c.retries,
		RetryBackoff:    c.retryBackoff,
		RetryBackoffMax: c.retryBackoffMax,
		Load:            load,
		Logger:          log,
		Observer:        &observer{reg: p.met, hooks: newHookSet(c.hooks), log: log},
		OnComplete:      p.cmp.onComplete,
		Wake:            wake,
	}
	if c.transactionalID != "" { // validate ensured idempotence
		p.txn = newTxnManager(c, fetcher, p.conns, p, signal)
		scfg.Producer = p.txn
		scfg.TransactionalID = &c.transactionalID
	} else if c.idempotence {
		p.idem = sender.NewIdempotence(func(ctx context.Context, id int64, epoch int16) (int64, int16, error) {
			return initProducerID(ctx, fetcher, c, id, epoch)
		}, signal, func(attempt int) time.Duration {
			return conn.Backoff(attempt, c.retryBackoff, c.retryBackoffMax)
		})
		scfg.Producer = p.idem
	}
	// The sender drains ready batches into Produce requests and hands each
	// completed batch to the completer.
	p.snd = sender.New(scfg, p.acc, p.meta, p.conns)
	p.meta.Start()
	p.snd.Start()
	p.startTelemetry()
	return p, nil
}

// Send hands rec to the producer and returns its Future at once, or after
// waiting (at most max.block.ms, or until ctx ends) for the topic's
// metadata and for buffer memory. ctx bounds only that blocking phase: once
// Send returns, the record is delivered or fails under delivery.timeout.ms,
// whatever happens to ctx. Misuse (closed producer, empty or invalid topic
// name, a record over max.request.size or buffer.memory) resolves the
// Future with an error at once; so does a topic the broker rejected, and
// one whose metadata did not come within max.block.ms once that passed
// (see the package documentation's Errors). Send is safe for concurrent use; rec and
// its byte slices may be reused once it returns.
func (p *Producer) Send(ctx context.Context, rec *Record) *Future {
	f := p.futures.newFuture()
	if err := p.send(ctx, rec, f, nil); err != nil {
		topic, part := "", int32(-1)
		if rec != nil {
			topic = rec.Topic
			if rec.UsePartition {
				part = rec.Partition
			}
		}
		f.fail(topic, part, err)
	}
	return f
}

// SendCallback is Send with a callback instead of a Future: cb receives the
// record's outcome on one of the completion workers, in offset order per
// partition (see Callback). It allocates nothing per record. When the
// record fails before it is queued (the cases where Send resolves its
// Future at once), cb runs on the calling goroutine before SendCallback
// returns.
func (p *Producer) SendCallback(ctx context.Context, rec *Record, cb Callback) {
	if err := p.send(ctx, rec, nil, cb); err != nil && cb != nil {
		md := RecordMetadata{Partition: -1, Offset: -1, SerializedKeySize: -1, SerializedValueSize: -1}
		if rec != nil {
			md.Topic = rec.Topic
		}
		cb(md, err)
	}
}

// send runs the Send pipeline: interceptors, metadata, size checks,
// partitioner, append. On success the record is owned by the accumulator.
// It uses no defer on the fast path: with this many returns Go would not
// open-code it, and a heap-recorded defer costs more than the rest of the
// bookkeeping here.
func (p *Producer) send(ctx context.Context, rec *Record, f *Future, cb Callback) error {
	if rec == nil {
		return ErrNilRecord
	}
	if p.closed.Load() {
		return ErrClosed
	}
	for _, ic := range p.cfg.interceptors {
		if r := ic.OnSend(rec); r != nil {
			rec = r
		}
	}
	var err error
	if p.txn != nil {
		err = p.sendTxn(ctx, rec, f, cb)
	} else {
		err = p.append(ctx, rec, f, cb)
	}
	if err != nil {
		p.ackFailure(rec, err)
	}
	return err
}

// sendTxn appends a record of a transactional producer, holding the
// transaction manager's send gate around it.
func (p *Producer) sendTxn(ctx context.Context, rec *Record, f *Future, cb Callback) error {
	if rec.Topic == "" {
		return ErrNoTopic
	}
	if err := p.txn.AcquireSend(); err != nil {
		return err
	}
	defer p.txn.ReleaseSend()
	return p.append(ctx, rec, f, cb)
}

// append resolves the record's topic and partition and appends it to the
// accumulator.
func (p *Producer) append(ctx context.Context, rec *Record, f *Future, cb Callback) error {
	if rec.Topic == "" {
		return ErrNoTopic
	}
	// Send reads no system clock on its fast path: timestamps come from the
	// coarse clock, and the max.block.ms budget is measured only when
	// something actually blocks (a metadata wait here, a buffer wait in
	// Append).
	now := p.clock.Millis()
	var (
		v      *topicView
		waited time.Duration
	)
	h := p.topics.Load(rec.Topic)
	if h != nil {
		v = h.current(p.meta, now)
	}
	if v == nil {
		t, w, err := p.topic(ctx, rec.Topic, p.cfg.maxBlock)
		if err != nil {
			return err
		}
		if h == nil {
			h = p.handle(rec.Topic)
		}
		v, waited = h.remember(p.meta, t, now), w
		if w > 0 {
			now = p.clock.Millis() // the record's timestamp is taken after the wait
		}
	}

	var partition int32
	if rec.UsePartition {
		if rec.Partition < 0 || int(rec.Partition) >= v.pt.NumPartitions {
			return &PartitionError{Topic: rec.Topic, Partition: rec.Partition, NumPartitions: v.pt.NumPartitions}
		}
		partition = rec.Partition
	} else {
		partition = p.partition(h, v, rec.Key, rec.Value)
		if partition < 0 || int(partition) >= v.pt.NumPartitions {
			return &PartitionError{Topic: rec.Topic, Partition: partition, NumPartitions: v.pt.NumPartitions, FromPartitioner: true}
		}
	}

	ts := now
	if !rec.Timestamp.IsZero() {
		ts = rec.Timestamp.UnixMilli()
	}
	th := accumulator.Thunk{Timestamp: ts, KeySize: sizeOf(rec.Key), ValueSize: sizeOf(rec.Value)}
	if f != nil {
		f.ts, f.keySize, f.valueSize = ts, th.KeySize, th.ValueSize
	}
	if cb != nil {
		th.Ack = cb
	} else if len(p.cfg.interceptors) > 0 {
		// The interceptors' OnAcknowledgement needs the record's thunk,
		// which the batch keeps only for a record with an Ack.
		th.Ack = noCallback{}
	}
	if p.txn != nil {
		p.txn.AddPartition(rec.Topic, partition)
	}
	res, err := p.acc.AppendTo(ctx, h.q, partition, ts, rec.Key, rec.Value, rec.Headers, th, p.cfg.maxBlock-waited)
	if err != nil {
		if errors.Is(err, accumulator.ErrClosed) {
			return ErrClosed
		}
		return err
	}
	if f != nil {
		// Outside the partition lock: no one else holds f until Send
		// returns it (see accumulator.Handle).
		f.h = res.Handle
	}
	p.onAppend(h, partition, res.Size, res.BatchFull)
	return nil
}

// noCallback is the Ack of a record sent through Send when interceptors
// are configured: it keeps the record's thunk in its batch (so the
// completer can tell the interceptors about it) and is not a Callback.
type noCallback struct{}

func sizeOf(b []byte) int32 {
	if b == nil {
		return -1
	}
	return int32(len(b))
}

// topic returns the topic's metadata, waiting for it at most maxBlock, and
// how long it waited.
func (p *Producer) topic(ctx context.Context, name string, maxBlock time.Duration) (*metadata.Topic, time.Duration, error) {
	if t := p.meta.Use(name); t != nil && t.Err == nil && len(t.Partitions) > 0 {
		return t, 0, nil
	}
	// Not cached yet: this is where a name is first seen, so check it
	// here, off the hot path.
	if err := validateTopic(name); err != nil {
		return nil, 0, err
	}
	p.meta.Touch(name)
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, maxBlock)
	defer cancel()
	t, err := p.meta.WaitForTopic(wctx, name)
	waited := time.Since(start)
	p.met.Global.Add(metrics.MetadataWait, int64(waited))
	if err != nil {
		return nil, 0, metadataError(ctx, name, p.cfg.maxBlock, waited, err)
	}
	return t, waited, nil
}

// ackFailure tells interceptors about a record that failed before it was
// queued.
func (p *Producer) ackFailure(rec *Record, err error) {
	p.met.Global.Add(metrics.RecordErrors, 1)
	if len(p.cfg.interceptors) == 0 {
		return
	}
	md := RecordMetadata{Topic: rec.Topic, Partition: -1, Offset: -1, SerializedKeySize: int(sizeOf(rec.Key)), SerializedValueSize: int(sizeOf(rec.Value))}
	for _, ic := range p.cfg.interceptors {
		p.cmp.safely("interceptor OnAcknowledgement", func() { ic.OnAcknowledgement(md, err) })
	}
}

// Flush makes every buffered record ready to send at once and waits until
// all records sent before the call have completed (their futures resolved
// and callbacks run). It blocks until then or until ctx ends, returning
// ctx's error. Safe for concurrent use.
//
// Called from a Callback or an interceptor's OnAcknowledgement, Flush
// returns ErrFlushInCallback at once and flushes nothing: it would wait
// for callbacks queued behind the calling one, as Java's
// KafkaProducer.flush refuses a call from its I/O thread.
func (p *Producer) Flush(ctx context.Context) error {
	if p.cmp.inCallback() {
		p.cfg.logger.Error("producer: Flush called from a callback; returning ErrFlushInCallback instead of deadlocking, as Java does")
		return ErrFlushInCallback
	}
	defer p.timed(metrics.FlushTime)()
	p.acc.BeginFlush()
	defer p.acc.EndFlush()
	p.snd.Wake()
	return p.acc.AwaitIncomplete(ctx)
}

// PartitionInfo describes one partition of a topic.
type PartitionInfo struct {
	Topic     string
	Partition int32
	Leader    int32 // broker node id, -1 when none
	Err       error // partition-level error reported by the broker
}

// PartitionsFor returns the topic's partitions, fetching metadata if needed
// (blocking at most max.block.ms or until ctx ends).
func (p *Producer) PartitionsFor(ctx context.Context, topic string) ([]PartitionInfo, error) {
	if p.closed.Load() {
		return nil, ErrClosed
	}
	t, _, err := p.topic(ctx, topic, p.cfg.maxBlock)
	if err != nil {
		return nil, err
	}
	out := make([]PartitionInfo, len(t.Partitions))
	for i, pt := range t.Partitions {
		out[i] = PartitionInfo{Topic: topic, Partition: pt.ID, Leader: pt.Leader, Err: pt.Err}
	}
	return out, nil
}

// Close stops accepting records, aborts a transaction left open (best
// effort within ctx), sends everything buffered and in flight,
// runs the remaining callbacks, and releases every goroutine and
// connection. If ctx ends first, records not yet delivered fail with an
// error matching ErrClosed and Close returns a *CloseError; a callback
// still running then is not waited for (its worker finishes its queues
// when it returns). After Close, Send fails with ErrClosed.
//
// Close blocks. Calling it again waits for the first call (or for its own
// ctx) and returns the first call's result. Called from a Callback or an
// interceptor's OnAcknowledgement, which run on workers Close would
// otherwise wait for, Close does not wait at all, like Java's
// KafkaProducer.close from its I/O thread (a zero timeout): whatever is
// not yet delivered fails with ErrClosed at once, and Close returns a
// *CloseError saying it did not wait; a second Close from a callback while
// another is in progress returns nil at once.
func (p *Producer) Close(ctx context.Context) error {
	fromCallback := p.cmp.inCallback()
	if !p.closing.CompareAndSwap(false, true) {
		if fromCallback {
			return nil
		}
		select {
		case <-p.closeDone:
			return p.closeErr
		case <-ctx.Done():
			return &CloseError{Err: ctx.Err()}
		}
	}
	defer close(p.closeDone)
	if fromCallback {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		cancel(errCloseInCallback)
		p.cfg.logger.Warn("producer: Close called from a callback; closing without waiting, as Java does from its I/O thread")
	}
	p.closed.Store(true)
	p.abortOnClose(ctx)
	err := p.snd.Close(ctx)
	if werr := p.cmp.wait(ctx); err == nil {
		err = werr
	}
	p.cmp.stop()
	p.closeTelemetry(ctx)
	if p.idem != nil {
		p.idem.Close()
	}
	if p.txn != nil {
		p.txn.Close()
	}
	p.meta.Close()
	p.conns.Close()
	p.pool.Close()
	p.clock.Stop()
	if err != nil {
		if fromCallback {
			err = errCloseInCallback
		}
		p.closeErr = &CloseError{Err: err}
	}
	return p.closeErr
}

// compressionLevel returns the level for the configured codec, 0 for the
// codec's default (Java's gzip default is -1).
func compressionLevel(c *config) int {
	var l int
	switch c.compression {
	case compress.Gzip:
		l = c.gzipLevel
	case compress.LZ4:
		l = c.lz4Level
	case compress.Zstd:
		l = c.zstdLevel
	}
	if l < 0 && c.compression == compress.Gzip {
		return 0
	}
	return l
}

// initProducerID asks a broker for a producer id (InitProducerId with a
// null transactional id). When id and epoch are set and the broker speaks
// v3+, it asks for an epoch bump of the same id (KIP-360).
func initProducerID(ctx context.Context, f *metadata.PoolFetcher, c *config, id int64, epoch int16) (int64, int16, error) {
	ctx, cancel := context.WithTimeout(ctx, c.requestTimeout)
	defer cancel()
	cn, err := f.Conn(ctx)
	if err != nil {
		return 0, 0, err
	}
	req := &protocol.InitProducerIDRequest{TransactionTimeoutMillis: int32(c.transactionTimeout / time.Millisecond), ProducerID: id, ProducerEpoch: epoch}
	r, err := cn.Do(ctx, req)
	if err != nil {
		return 0, 0, err
	}
	resp := r.(*protocol.InitProducerIDResponse)
	if kerr := protocol.KafkaError(resp.ErrorCode, nil); kerr != nil {
		return 0, 0, fmt.Errorf("producer: InitProducerId: %w", kerr)
	}
	return resp.ProducerID, resp.ProducerEpoch, nil
}
