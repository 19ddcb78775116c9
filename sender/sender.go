package sender

// The sender is one goroutine that owns everything between the accumulator
// and the sockets: which batches go in which request, the in-flight window
// per broker, retries, and completing batches. Connections deliver
// responses on their own goroutines, which only post them to the sender's
// channel; all state changes happen here, in one place, so no lock guards
// the in-flight bookkeeping. This is the Java producer's Sender.run() loop
// in Go: wait for a wake-up (a batch filled, linger expired, a response or a
// connection arrived), handle responses, drain what is ready, send.

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/metadata"
	"github.com/tributary-go/tributary/protocol"
)

// Config holds the sender's settings, named after the Java properties.
type Config struct {
	Acks            int16         // acks: -1 (all), 0 or 1
	MaxInFlight     int           // max.in.flight.requests.per.connection
	MaxRequestSize  int           // max.request.size
	RequestTimeout  time.Duration // request.timeout.ms (also the broker-side timeout)
	DeliveryTimeout time.Duration // delivery.timeout.ms
	Retries         int           // retries
	RetryBackoff    time.Duration // retry.backoff.ms
	RetryBackoffMax time.Duration // retry.backoff.max.ms
	// TransactionalID is sent on every Produce request (transactions).
	TransactionalID *string
	// Producer supplies producer ids and sequences when idempotence is on;
	// nil means batches carry no producer state.
	Producer ProducerState
	// Load receives queue depths for adaptive partitioning; may be nil.
	Load   accumulator.LoadFunc
	Logger *slog.Logger
	// Observer hears each request and batch outcome (metrics, hooks); may
	// be nil.
	Observer Observer
	// OnComplete, if set, takes over each batch once its outcome is
	// recorded (the producer runs its callbacks, then Deallocate); nil
	// hands it to the accumulator's Completed. It must not block.
	OnComplete func(*accumulator.Batch)
	// Wake, if set, is the channel the loop wakes on when a connection is
	// ready or a producer id arrived, so that whoever signals it (the
	// connection pool, idempotence) can be built before the sender. Its
	// owner sends without blocking; capacity 1. ConnReady and Wake send
	// on it too.
	Wake chan struct{}
}

// ProducerState is the idempotence hook: it gates which batches may be sent
// and stamps them, and it learns each batch's fate. The sender calls it
// only from its own goroutine.
type ProducerState interface {
	accumulator.DrainGate
	// Ready reports whether a producer id is available (false while
	// InitProducerId is in progress); nothing is drained until it is.
	// inflight is the number of requests outstanding.
	Ready(inflight int) bool
	// Acked records a successful batch; Failed a batch that will not be
	// retried.
	Acked(b *accumulator.Batch)
	Failed(b *accumulator.Batch, err error)
	// Err returns a fatal error (e.g. CLUSTER_AUTHORIZATION_FAILED from
	// InitProducerId): every queued batch fails with it.
	Err() error
	// CanRetry decides sequence errors (OUT_OF_ORDER_SEQUENCE_NUMBER,
	// UNKNOWN_PRODUCER_ID) for b; it may schedule an epoch bump.
	CanRetry(b *accumulator.Batch, err error) bool
	// Split tells the state that parent was replaced by children.
	Split(parent *accumulator.Batch, children []*accumulator.Batch)
	// Uncertain returns batches that an epoch bump dropped because they
	// may already be in the log; the sender fails them.
	Uncertain() []*accumulator.Batch
}

// Sender drains the accumulator into Produce requests. Create it with New;
// Start runs its goroutine; Close stops it. Its methods are safe for
// concurrent use.
type Sender struct {
	cfg  Config
	acc  *accumulator.Accumulator
	meta *metadata.Metadata
	pool *conn.Pool
	log  *slog.Logger

	responses *responseQueue // posted by connection goroutines, taken by run
	connReady chan struct{}  // a background dial finished
	closing   chan struct{}  // Close called: drain everything, then stop
	force     chan struct{}  // the close deadline passed: fail what remains
	done      chan struct{}  // closed when run returns
	closeOnce sync.Once
	forceOnce sync.Once

	// Owned by the run goroutine.
	inflight map[int32]int // requests outstanding per node
	total    int           // requests outstanding in all
	mute     *muteGate     // with max.in.flight=1: one batch per partition in flight; else nil
	// outstanding holds every request written and not yet finished, for
	// expiring in-flight batches at delivery.timeout.ms.
	outstanding map[*inflight]struct{}
	// nodes holds the failure state of each node that has any (nodes.go);
	// owned by the run goroutine like the rest of this block.
	nodes map[int32]nodeState
}

// inflight is one Produce request on the wire and its batches.
type inflight struct {
	node    int32
	batches []*accumulator.Batch
	sent    time.Time
	oldest  time.Time // the earliest creation time among batches
	resp    *protocol.ProduceResponse
	err     error
	// expired holds the batches that failed at delivery.timeout.ms while
	// the request was outstanding, moved out of batches when it finished.
	expired []*accumulator.Batch
}

// New returns a sender. It does not start any goroutine.
func New(cfg Config, acc *accumulator.Accumulator, meta *metadata.Metadata, pool *conn.Pool) *Sender {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 5
	}
	if cfg.Wake == nil {
		cfg.Wake = make(chan struct{}, 1)
	}
	s := &Sender{
		cfg: cfg, acc: acc, meta: meta, pool: pool, log: log,
		responses: newResponseQueue(),
		connReady: cfg.Wake,
		closing:   make(chan struct{}),
		force:     make(chan struct{}),
		done:      make(chan struct{}),
		inflight:  make(map[int32]int),

		outstanding: make(map[*inflight]struct{}),
	}
	if cfg.MaxInFlight == 1 {
		var inner accumulator.DrainGate
		if cfg.Producer != nil {
			inner = cfg.Producer
		}
		s.mute = newMuteGate(inner)
	}
	return s
}

// ConnReady is the callback for conn.Pool: a background dial finished.
func (s *Sender) ConnReady() {
	select {
	case s.connReady <- struct{}{}:
	default:
	}
}

// Start runs the send loop in a new goroutine owned by the Sender.
func (s *Sender) Start() { go s.run() }

// Close asks the sender to send everything queued and stop once nothing is
// queued or in flight. If ctx ends first, queued batches fail with
// accumulator.ErrAborted and in-flight ones with the connection's error.
// Close blocks until the goroutine has returned.
func (s *Sender) Close(ctx context.Context) error {
	s.closeOnce.Do(func() { close(s.closing) })
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
	}
	s.forceOnce.Do(func() { close(s.force) })
	<-s.done
	return ctx.Err()
}

// Wake nudges the loop (e.g. when a flush begins).
func (s *Sender) Wake() { s.ConnReady() }

// completed hands a batch whose outcome is recorded to Config.OnComplete,
// or to the accumulator.
func (s *Sender) completed(b *accumulator.Batch) {
	if s.cfg.OnComplete != nil {
		s.cfg.OnComplete(b)
		return
	}
	s.acc.Completed(b)
}

// noDeadline is the wait that means "until an event": no timer is armed.
const noDeadline = time.Duration(-1)

// testHookWait, if set (tests only, before Start), sees every wait the loop
// is about to sleep for: noDeadline, or the time to its next deadline.
var testHookWait func(wait time.Duration)

// The loop sleeps until an event or its next real deadline, never for a
// fixed period, as Java's Sender polls with the time to its next deadline
// (Sender.sendProducerData pollTimeout, RecordAccumulator.ready
// nextReadyCheckDelayMs). The events are: a partition became sendable (its
// batch filled, a flush, Close, a memory waiter) or a new batch's deadline
// comes before the one the loop sleeps until (acc.Wake; the accumulator
// knows that deadline from Ready), every response that arrived (all are
// handled in one iteration), a connection dialled or a producer id arrived
// (connReady), Close, and, only while some queued batch has no known leader,
// a metadata publication (meta.Changed). The deadlines are the linger or
// retry backoff of a queued batch, the delivery timeout of the oldest queued
// or in-flight batch, a node's reconnect backoff and the InitProducerId
// backoff. Request timeouts need no timer here: the connection's read
// deadline fails the request and its response wakes the loop. Metadata
// expiry and idle connections are the refresher's and the connections' own
// deadlines. A producer with nothing queued or in flight therefore arms no
// timer at all.
func (s *Sender) run() {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	closing := false
	closingCh := s.closing
	for {
		now := time.Now()
		select {
		case <-s.force:
			s.abort(now)
			return
		default:
		}
		wait, changed := s.sendReady(now)
		if closing && s.total == 0 && !s.acc.Appending() && s.acc.Queued() == 0 {
			return
		}
		if testHookWait != nil {
			testHookWait(wait)
		}
		// Since Go 1.23 Stop and Reset leave no stale tick in timer.C.
		timer.Stop()
		if wait >= 0 {
			timer.Reset(wait)
		}
		select {
		case <-s.responses.ready():
			now := time.Now()
			for _, r := range s.responses.take() {
				s.handle(r, now)
			}
		case <-s.acc.Wake():
		case <-s.connReady:
		case <-changed:
		case <-timer.C:
		case <-closingCh:
			closing = true
			s.acc.Close()
			closingCh = nil // a closed channel: stop selecting it
		case <-s.force:
			s.abort(time.Now())
			return
		}
	}
}

// sendReady drains and sends every ready batch and fails expired ones. It
// returns how long the loop may sleep (noDeadline: until an event) and, if
// a metadata update is awaited, the channel closed when one is published
// (nil otherwise).
func (s *Sender) sendReady(now time.Time) (time.Duration, <-chan struct{}) {
	wait := noDeadline
	snap := s.meta.Snapshot()
	leaders := snapshotLeaders{snap}

	for _, b := range s.acc.Expire(now) {
		s.fail(b, &DeliveryTimeoutError{Topic: b.Topic, Partition: b.Partition, Timeout: s.cfg.DeliveryTimeout, Records: b.NumRecords(), Last: s.holdCause(b, snap, now)})
	}
	wait = sooner(wait, s.expireInFlight(now))
	if q, ok := s.cfg.Producer.(queueAborter); ok {
		q.FailQueued(func(err error) {
			for _, b := range s.acc.AbortAll() {
				s.fail(b, err)
			}
		})
	}
	if s.cfg.Producer != nil && !s.cfg.Producer.Ready(s.total) {
		if err := s.cfg.Producer.Err(); err != nil {
			for _, b := range s.acc.AbortAll() {
				s.fail(b, &FatalError{Err: err})
			}
			return wait, nil
		}
		// The producer id's arrival wakes the loop (connReady); until
		// then only the InitProducerId backoff and the queued batches'
		// delivery timeout are deadlines.
		if r, ok := s.cfg.Producer.(retryWaiter); ok {
			wait = sooner(wait, r.retryIn(now))
		}
		return sooner(wait, expiryWait(s.acc.NextExpiry(now))), nil
	}

	if s.cfg.Producer != nil {
		for _, b := range s.cfg.Producer.Uncertain() {
			s.acc.Remove(b)
			s.fail(b, &UncertainDeliveryError{Topic: b.Topic, Partition: b.Partition, Records: b.NumRecords()})
		}
	}

	ready := s.acc.Ready(leaders, now, s.cfg.Load)
	wait = sooner(wait, ready.NextCheck)
	wait = sooner(wait, expiryWait(ready.NextExpiry))
	needMeta := false
	if len(ready.UnknownLeaders) > 0 {
		s.meta.RequestUpdate()
		for _, t := range ready.UnknownLeaders {
			s.meta.Touch(t)
		}
		needMeta = true
	}

	nodes := ready.Nodes[:0]
	conns := make(map[int32]*conn.Conn, len(ready.Nodes))
	for _, n := range ready.Nodes {
		if s.inflight[n] >= s.cfg.MaxInFlight {
			continue // a response wakes the loop
		}
		br, ok := snap.Brokers[n]
		if !ok {
			s.meta.RequestUpdate()
			needMeta = true
			continue
		}
		c, retryIn, ok := s.pool.Ready(n, br.Addr(), conn.PurposeProduce)
		if !ok {
			// A running dial wakes the loop when it ends (ConnReady);
			// otherwise the node is backing off after a failed dial,
			// which may mean stale metadata (the broker moved, or the
			// whole cluster did: re-bootstrap): noteUnreachable asks for
			// a refresh, as Java's handleServerDisconnect does.
			wait = sooner(wait, retryIn)
			s.noteUnreachable(n, now, retryIn)
			continue
		}
		s.reachable(n)
		conns[n] = c
		nodes = append(nodes, n)
	}
	var changed <-chan struct{}
	if needMeta {
		changed = s.meta.Changed()
		if s.meta.Snapshot() != snap {
			wait = 0 // published since snap was taken: look again now
		}
	}
	if len(nodes) == 0 {
		return wait, changed
	}
	byNode, err := s.acc.Drain(leaders, nodes, s.cfg.MaxRequestSize, now, s.gate())
	if err != nil {
		s.log.Error("closing a batch failed", "err", err)
	}
	for node, batches := range byNode {
		s.send(node, conns[node], batches, now)
	}
	if len(byNode) > 0 {
		// More may be ready behind what was just sent: look again at once
		// rather than wait for the next event (Java's Sender polls with a
		// zero timeout while nodes have data ready, Sender.sendProducerData).
		wait = 0
	}
	return wait, changed
}

// sooner returns the earlier of a wait and a deadline d away; d <= 0 is
// no deadline.
func sooner(wait, d time.Duration) time.Duration {
	if d <= 0 {
		return wait
	}
	if wait < 0 || d < wait {
		return d
	}
	return wait
}

// expiryWait turns accumulator.ReadyResult.NextExpiry into a wait for
// sooner: nothing queued is no deadline, one already due is due at once.
func expiryWait(d time.Duration) time.Duration {
	if d < 0 {
		return time.Nanosecond
	}
	return d
}

func (s *Sender) gate() accumulator.DrainGate {
	if s.mute != nil {
		return s.mute
	}
	if s.cfg.Producer == nil {
		return nil
	}
	return s.cfg.Producer
}

// send writes one Produce request carrying batches to node.
func (s *Sender) send(node int32, c *conn.Conn, batches []*accumulator.Batch, now time.Time) {
	v, err := c.Version(protocol.KeyProduce)
	if err != nil {
		for _, b := range batches {
			s.fail(b, err)
		}
		return
	}
	if pv, ok := s.cfg.Producer.(produceVersioner); ok {
		v = pv.ProduceVersion(v)
	}
	req := &protocol.ProduceRequest{
		TransactionalID: s.cfg.TransactionalID,
		Acks:            s.cfg.Acks,
		TimeoutMillis:   int32(s.cfg.RequestTimeout / time.Millisecond),
	}
	for _, b := range batches {
		b.InFlight = true
		b.Node = node
		b.Attempts++
		i := len(req.Topics) - 1
		if i < 0 || req.Topics[i].Name != b.Topic {
			i = topicIndex(req.Topics, b.Topic)
			if i < 0 {
				t := protocol.ProduceRequestTopic{Name: b.Topic}
				if len(req.Topics) == 0 {
					// Most requests carry one topic: room for every
					// batch at once rather than growing by doubling.
					t.Partitions = make([]protocol.ProduceRequestPartition, 0, len(batches))
				}
				req.Topics = append(req.Topics, t)
				i = len(req.Topics) - 1
			}
		}
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, protocol.ProduceRequestPartition{Index: b.Partition, Records: b.Encoded()})
	}
	in := &inflight{node: node, batches: batches, sent: now, oldest: now}
	for _, b := range batches {
		if b.Created().Before(in.oldest) {
			in.oldest = b.Created()
		}
	}
	s.outstanding[in] = struct{}{}
	if s.cfg.Observer != nil {
		s.cfg.Observer.RequestSent(node, batches, now)
	}
	s.inflight[node]++
	s.total++
	if s.mute != nil {
		s.mute.mute(batches)
	}
	expect := s.cfg.Acks != 0
	c.Send(req, v, expect, func(resp protocol.Response, err error) {
		if r, ok := resp.(*protocol.ProduceResponse); ok {
			in.resp = r
		}
		in.err = err
		s.responses.post(in)
	})
}

func topicIndex(ts []protocol.ProduceRequestTopic, name string) int {
	for i := range ts {
		if ts[i].Name == name {
			return i
		}
	}
	return -1
}

// abort fails everything still queued and waits for in-flight requests to
// be answered or their connections to fail.
func (s *Sender) abort(now time.Time) {
	s.acc.Close()
	for _, b := range s.acc.AbortAll() {
		s.fail(b, ErrClosedBeforeSent)
	}
	if s.total > 0 {
		// Fails every pending request at once. It waits for the
		// connections' goroutines, which never block posting responses.
		s.pool.Close()
	}
	for s.total > 0 {
		<-s.responses.ready()
		for _, r := range s.responses.take() {
			s.finished(r)
			s.requestDone(r, now)
			if r.err == nil {
				s.completeResponse(r, now, false)
			} else {
				for _, b := range r.batches {
					s.fail(b, errors.Join(ErrClosedInFlight, r.err))
				}
			}
			s.releaseExpired(r)
		}
	}
	// Appends that raced with Close may have queued more; appends waiting
	// for memory give up now.
	s.acc.Pool().Close()
	for s.acc.Appending() {
		time.Sleep(time.Millisecond)
	}
	for _, b := range s.acc.AbortAll() {
		s.fail(b, ErrClosedBeforeSent)
	}
}

// holdCause says what kept a queued batch from being delivered, for its
// delivery-timeout error: no known leader (with the metadata's error for the
// partition, if any), a leader whose connection cannot be established, the
// error of the batch's last attempt, requests to the leader it queued
// behind that are still unanswered, or the error of the latest request to
// the leader that failed on its connection (a silent broker: the batch
// never went out, and the redial has not failed yet). It is nil when the
// batch only waited its turn on a connection that answers.
func (s *Sender) holdCause(b *accumulator.Batch, snap *metadata.Snapshot, now time.Time) error {
	l, ok := snap.Leader(b.Topic, b.Partition)
	if !ok {
		return &LeaderUnavailableError{Topic: b.Topic, Partition: b.Partition, Err: partitionErr(snap, b.Topic, b.Partition)}
	}
	if err := s.pool.LastError(l.NodeID); err != nil {
		return &UnreachableError{Node: l.NodeID, Addr: l.Addr(), Err: err}
	}
	if b.LastErr != nil {
		return b.LastErr
	}
	var oldest *inflight
	for r := range s.outstanding {
		if r.node == l.NodeID && (oldest == nil || r.sent.Before(oldest.sent)) {
			oldest = r
		}
	}
	if oldest != nil {
		return &QueuedError{Node: l.NodeID, Addr: l.Addr(), Requests: s.inflight[l.NodeID], Waited: now.Sub(oldest.sent)}
	}
	if err := s.node(l.NodeID).lastErr; err != nil {
		return &UnreachableError{Node: l.NodeID, Addr: l.Addr(), Err: err}
	}
	return nil
}

// partitionErr returns the metadata error of the topic or partition, if the
// broker reported one.
func partitionErr(snap *metadata.Snapshot, topic string, partition int32) error {
	t, ok := snap.Topics[topic]
	if !ok {
		return nil
	}
	if t.Err != nil {
		return t.Err
	}
	if int(partition) < len(t.Partitions) {
		return t.Partitions[partition].Err
	}
	return nil
}

// backoff returns the retry delay for a batch's next attempt, attempts
// being the sends so far: retry.backoff.ms doubling per attempt up to
// retry.backoff.max.ms, with ±20% jitter that never exceeds the maximum
// (KIP-580). It is the one schedule every retry in the client uses.
func (s *Sender) backoff(attempts int) time.Duration {
	return conn.Backoff(attempts-1, s.cfg.RetryBackoff, s.cfg.RetryBackoffMax)
}

// snapshotLeaders adapts a metadata snapshot to accumulator.LeaderTable.
// Snapshots are immutable and replaced on every publication, so two values
// holding the same snapshot report the same leaders: the accumulator builds
// each topic's partition → node slice once per snapshot instead of looking
// up every partition on every wake-up.
type snapshotLeaders struct{ s *metadata.Snapshot }

func (l snapshotLeaders) Leader(topic string, partition int32) (int32, bool) {
	b, ok := l.s.Leader(topic, partition)
	return b.NodeID, ok
}

// PartitionLeaders appends each partition's leader to dst, -1 where there
// is none or the leader is not among the snapshot's brokers (as Leader).
func (l snapshotLeaders) PartitionLeaders(topic string, dst []int32) []int32 {
	t := l.s.Topics[topic]
	if t == nil {
		return dst
	}
	for i := range t.Partitions {
		node := t.Partitions[i].Leader
		if _, ok := l.s.Brokers[node]; node < 0 || !ok {
			node = -1
		}
		dst = append(dst, node)
	}
	return dst
}
