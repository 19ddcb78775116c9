package producertest

import (
	"context"
	"sync"
	"time"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/partitioner"
	"github.com/tributary-go/tributary/producer"
	"github.com/tributary-go/tributary/protocol"
)

// Sent is one record the mock accepted: a deep copy of it as sent, where
// it went, and its outcome so far.
type Sent struct {
	Record producer.Record // a copy; the caller's slices are not shared
	// Partition is the partition the record went to: Record.Partition
	// when UsePartition is set, else the partitioner's choice.
	Partition int32
	// Offset is the record's offset once it succeeded, else -1.
	Offset int64
	// Err is the record's error once it failed, else nil.
	Err error
	// Done reports whether the record was completed (succeeded or failed).
	Done bool
}

// Option configures a mock Producer.
type Option func(*Producer)

// WithAutoComplete sets whether records succeed at once (true, the
// default) or wait for CompleteNext, ErrorNext, Flush or
// CommitTransaction.
func WithAutoComplete(auto bool) Option { return func(p *Producer) { p.auto = auto } }

// WithPartitions gives topic n partitions (at least 1). Topics not named
// have WithDefaultPartitions partitions.
func WithPartitions(topic string, n int) Option {
	return func(p *Producer) { p.partitions[topic] = max(n, 1) }
}

// WithDefaultPartitions sets the partition count of topics not given to
// WithPartitions (default 1, at least 1).
func WithDefaultPartitions(n int) Option { return func(p *Producer) { p.defPartitions = max(n, 1) } }

// WithPartitioner replaces the partitioner (default: the real producer's,
// partitioner.NewDefault with batch.size 16384: murmur2 for keyed
// records, sticky for unkeyed ones).
func WithPartitioner(pt partitioner.Partitioner) Option { return func(p *Producer) { p.part = pt } }

// WithTransactionalID makes the mock transactional: Send is allowed only
// inside a transaction, after InitTransactions and BeginTransaction, as on
// a real producer with transactional.id set.
func WithTransactionalID(id string) Option { return func(p *Producer) { p.txnID = id } }

// WithClock sets the clock for the timestamps of records sent without one
// (default time.Now); a fixed clock makes RecordMetadata deterministic.
func WithClock(now func() time.Time) Option { return func(p *Producer) { p.now = now } }

// WithMaxRequestSize sets the max.request.size records are checked
// against (default 1048576, as in Java).
func WithMaxRequestSize(n int) Option { return func(p *Producer) { p.maxRequestSize = n } }

// Producer is a mock of producer.Producer for unit tests. Create it with
// New. It is safe for concurrent use; no method blocks except Flush,
// Close and CommitTransaction, and only for the callbacks they run.
type Producer struct {
	// Set by New; read-only afterwards.
	auto           bool
	partitions     map[string]int
	defPartitions  int
	part           partitioner.Partitioner
	appendObs      partitioner.AppendObserver
	txnID          string
	now            func() time.Time
	maxRequestSize int

	mu      sync.Mutex
	history []*Sent                           // guarded by mu
	pending []*pending                        // guarded by mu; oldest first
	offsets map[producer.PartitionInfo]int64  // next offset per partition (Topic, Partition); guarded by mu
	topics  map[string]*producer.TopicMetrics // guarded by mu
	sendErr error                             // guarded by mu
	sent    int64                             // records accepted; guarded by mu
	errors  int64                             // records failed; guarded by mu
	flushed bool                              // guarded by mu
	closed  bool                              // guarded by mu
	txn     txnState                          // guarded by mu
}

// pending is an accepted record not yet completed.
type pending struct {
	sent    *Sent
	promise *producer.Promise // for Send, or nil
	cb      producer.Callback // for SendCallback, or nil
	inTxn   bool              // sent inside a transaction
	ts      time.Time
}

var _ producer.Interface = (*Producer)(nil)

// New returns a mock producer configured by opts.
func New(opts ...Option) *Producer {
	p := &Producer{
		auto: true, partitions: map[string]int{}, defPartitions: 1,
		now: time.Now, maxRequestSize: 1 << 20,
		offsets: map[producer.PartitionInfo]int64{},
		topics:  map[string]*producer.TopicMetrics{},
	}
	for _, o := range opts {
		o(p)
	}
	if p.part == nil {
		p.part = partitioner.NewDefault(16384)
	}
	p.appendObs, _ = p.part.(partitioner.AppendObserver)
	p.txn.state = producer.TxnStateUninitialized
	return p
}

// Send records rec and returns its Future: already resolved in
// auto-complete mode, else pending until the test completes it. Misuse
// fails at once with the real producer's errors. Safe for concurrent use.
func (p *Producer) Send(ctx context.Context, rec *producer.Record) *producer.Future {
	f, pr := producer.NewPromise()
	p.send(rec, pr, nil)
	return f
}

// SendCallback is Send with a callback, which runs on the goroutine that
// completes the record: before SendCallback returns in auto-complete mode
// or on failure at Send, else in CompleteNext, ErrorNext, Flush, Close or
// a transaction's end.
func (p *Producer) SendCallback(ctx context.Context, rec *producer.Record, cb producer.Callback) {
	p.send(rec, nil, cb)
}

func (p *Producer) send(rec *producer.Record, pr *producer.Promise, cb producer.Callback) {
	p.mu.Lock()
	pd, err := p.acceptLocked(rec)
	if err != nil {
		p.errors++
		p.mu.Unlock()
		md := producer.RecordMetadata{Partition: -1, Offset: -1, SerializedKeySize: -1, SerializedValueSize: -1}
		if rec != nil {
			md.Topic = rec.Topic
			if rec.UsePartition {
				md.Partition = rec.Partition
			}
		}
		finish(&pending{promise: pr, cb: cb}, md, err)
		return
	}
	pd.promise, pd.cb = pr, cb
	if !p.auto {
		p.pending = append(p.pending, pd)
		p.mu.Unlock()
		return
	}
	md := p.completeLocked(pd, nil)
	p.mu.Unlock()
	finish(pd, md, nil)
}

// acceptLocked validates rec as the real Send does and records a copy.
func (p *Producer) acceptLocked(rec *producer.Record) (*pending, error) {
	switch {
	case rec == nil:
		return nil, producer.ErrNilRecord
	case p.closed:
		return nil, producer.ErrClosed
	case rec.Topic == "":
		return nil, producer.ErrNoTopic
	case p.sendErr != nil:
		return nil, p.sendErr
	}
	if p.txnID != "" {
		if err := p.txn.check("Send", producer.TxnStateInTransaction); err != nil {
			return nil, err
		}
	}
	if size := protocol.BatchHeaderSize + protocol.EstimateRecordSize(rec.Key, rec.Value, rec.Headers); size > p.maxRequestSize {
		return nil, &accumulator.RecordTooLargeError{Size: size, Max: p.maxRequestSize, Setting: "max.request.size"}
	}
	n := p.numPartitions(rec.Topic)
	partition := rec.Partition
	if rec.UsePartition {
		if partition < 0 || int(partition) >= n {
			return nil, &producer.PartitionError{Topic: rec.Topic, Partition: partition, NumPartitions: n}
		}
	} else {
		all := make([]int32, n)
		for i := range all {
			all[i] = int32(i)
		}
		partition = p.part.Partition(partitioner.Topic{Name: rec.Topic, NumPartitions: n, Available: all}, rec.Key, rec.Value)
		if partition < 0 || int(partition) >= n {
			return nil, &producer.PartitionError{Topic: rec.Topic, Partition: partition, NumPartitions: n, FromPartitioner: true}
		}
		if p.appendObs != nil {
			p.appendObs.OnAppend(rec.Topic, partition, protocol.EstimateRecordSize(rec.Key, rec.Value, rec.Headers), false)
		}
	}
	s := &Sent{Record: copyRecord(rec), Partition: partition, Offset: -1}
	ts := rec.Timestamp
	if ts.IsZero() {
		ts = p.now()
	}
	pd := &pending{sent: s, ts: ts, inTxn: p.txnID != ""}
	if pd.inTxn {
		p.txn.uncommitted = append(p.txn.uncommitted, s)
	} else {
		p.history = append(p.history, s)
	}
	p.sent++
	tm := p.topic(rec.Topic)
	tm.RecordSendTotal++
	tm.ByteTotal += int64(len(rec.Key) + len(rec.Value))
	return pd, nil
}

func (p *Producer) numPartitions(topic string) int {
	if n, ok := p.partitions[topic]; ok {
		return n
	}
	return p.defPartitions
}

func (p *Producer) topic(name string) *producer.TopicMetrics {
	tm := p.topics[name]
	if tm == nil {
		tm = &producer.TopicMetrics{}
		p.topics[name] = tm
	}
	return tm
}

// completeLocked resolves pd with err (nil: success, with the partition's
// next offset) and returns its metadata; the caller calls finish after
// unlocking.
func (p *Producer) completeLocked(pd *pending, err error) producer.RecordMetadata {
	s := pd.sent
	md := producer.RecordMetadata{
		Topic: s.Record.Topic, Partition: s.Partition, Offset: -1, Timestamp: pd.ts,
		SerializedKeySize: sizeOf(s.Record.Key), SerializedValueSize: sizeOf(s.Record.Value),
	}
	s.Done = true
	if err != nil {
		s.Err = err
		p.errors++
		p.topic(s.Record.Topic).RecordErrorTotal++
		if pd.inTxn {
			p.txn.toAbortable(err)
		}
		return md
	}
	tp := producer.PartitionInfo{Topic: s.Record.Topic, Partition: s.Partition}
	md.Offset = p.offsets[tp]
	p.offsets[tp]++
	s.Offset = md.Offset
	return md
}

// finish hands the outcome to the record's future or callback; never
// under p.mu.
func finish(pd *pending, md producer.RecordMetadata, err error) {
	if pd.promise != nil {
		pd.promise.Complete(md, err)
	}
	if pd.cb != nil {
		pd.cb(md, err)
	}
}

func sizeOf(b []byte) int {
	if b == nil {
		return -1
	}
	return len(b)
}

func copyRecord(r *producer.Record) producer.Record {
	c := *r
	c.Key = cloneBytes(r.Key)
	c.Value = cloneBytes(r.Value)
	if r.Headers != nil {
		c.Headers = make([]producer.Header, len(r.Headers))
		for i, h := range r.Headers {
			c.Headers[i] = producer.Header{Key: h.Key, Value: cloneBytes(h.Value)}
		}
	}
	return c
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// CompleteNext completes the oldest pending record successfully and
// reports whether there was one. Its callback runs before CompleteNext
// returns.
func (p *Producer) CompleteNext() bool { return p.completeNext(nil) }

// ErrorNext fails the oldest pending record with err and reports whether
// there was one. Inside a transaction, the transaction becomes abortable,
// as when a real batch fails.
func (p *Producer) ErrorNext(err error) bool { return p.completeNext(err) }

func (p *Producer) completeNext(err error) bool {
	p.mu.Lock()
	if len(p.pending) == 0 {
		p.mu.Unlock()
		return false
	}
	pd := p.pending[0]
	p.pending = p.pending[1:]
	md := p.completeLocked(pd, err)
	p.mu.Unlock()
	finish(pd, md, err)
	return true
}

// completeAll completes every pending record, in order, with err (nil:
// success); for aborts, only records of the transaction are affected.
func (p *Producer) completeAll(err error) {
	for p.completeNext(err) {
	}
}

// Flush completes every pending record successfully, as the real Flush
// waits until everything sent has been delivered, and marks the producer
// flushed. It returns nil.
func (p *Producer) Flush(ctx context.Context) error {
	p.completeAll(nil)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flushed = true
	return nil
}

// Close aborts an open transaction, completes pending records
// successfully (the real Close delivers them) and marks the mock closed:
// later sends fail with ErrClosed. It returns nil; calling it again does
// nothing.
func (p *Producer) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	abort := p.txnID != "" && p.txn.needsAbort()
	p.mu.Unlock()
	if abort {
		_ = p.AbortTransaction(ctx)
	}
	p.completeAll(nil)
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	return nil
}

// PartitionsFor returns the topic's partitions (its configured count, all
// led by broker 0), or ErrClosed after Close.
func (p *Producer) PartitionsFor(ctx context.Context, topic string) ([]producer.PartitionInfo, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, producer.ErrClosed
	}
	out := make([]producer.PartitionInfo, p.numPartitions(topic))
	for i := range out {
		out[i] = producer.PartitionInfo{Topic: topic, Partition: int32(i), Leader: 0}
	}
	return out, nil
}

// Metrics returns the mock's counts: RecordSendTotal (records accepted),
// RecordErrorTotal (records failed, at Send or by ErrorNext) and per topic
// RecordSendTotal, ByteTotal (key and value bytes) and RecordErrorTotal.
// Rates and the other figures are zero.
func (p *Producer) Metrics() producer.Metrics {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := producer.Metrics{Time: p.now(), RecordSendTotal: p.sent, RecordErrorTotal: p.errors, Topics: map[string]producer.TopicMetrics{}}
	for name, tm := range p.topics {
		m.Topics[name] = *tm
		m.ByteTotal += tm.ByteTotal
	}
	return m
}

// History returns copies of the records sent outside transactions and of
// those in committed transactions, in the order they were sent.
func (p *Producer) History() []Sent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return copySent(p.history)
}

// Uncommitted returns copies of the records of the open transaction.
func (p *Producer) Uncommitted() []Sent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return copySent(p.txn.uncommitted)
}

func copySent(in []*Sent) []Sent {
	out := make([]Sent, len(in))
	for i, s := range in {
		out[i] = *s
	}
	return out
}

// Pending returns the number of records waiting to be completed.
func (p *Producer) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending)
}

// Clear forgets the history, the open transaction's records and the
// committed offsets, as Java's MockProducer.clear does; offsets, pending
// records, counts and the transaction state stay.
func (p *Producer) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.history, p.txn.uncommitted, p.txn.committed = nil, nil, nil
}

// FailSend makes every later Send and SendCallback fail at once with err,
// as misuse does on the real producer; nil restores normal sending.
func (p *Producer) FailSend(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sendErr = err
}

// Flushed reports whether Flush was called.
func (p *Producer) Flushed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.flushed
}

// Closed reports whether Close was called.
func (p *Producer) Closed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}
