package sender

// Idempotence (KIP-98, KIP-360, on by default since KIP-679).
//
// The producer gets a producer id and epoch from InitProducerId and stamps
// each batch with them and a per-partition sequence, advanced by the batch's
// record count. The broker accepts a batch only if its sequence is the next
// one it expects for the partition, and answers an exact duplicate with
// success, so retries can neither duplicate nor reorder records.
//
// The bookkeeping lives here, owned by the sender goroutine:
//   - Sequences are assigned when a batch is first drained (Options), so a
//     partition's sequences follow its queue order.
//   - A batch keeps its sequence for every retry. Re-enqueued batches go
//     back into their queue in sequence order, and a retried batch is drained
//     only when it is its partition's first unacknowledged sequence (Allow);
//     later batches wait behind it. That is what keeps order with up to five
//     requests in flight.
//   - A batch that fails for good after it may have reached the broker
//     leaves a hole in the sequence. The producer then bumps its epoch
//     itself (KIP-360, Java's TransactionManager.bumpIdempotentProducerEpoch):
//     once nothing is in flight, the epoch goes up by one, sequences restart
//     at 0 under it and batches waiting for a retry are restamped in order.
//     A broker takes a higher epoch of a known producer id at sequence 0
//     (ProducerAppendInfo.checkSequence). InitProducerId is no way to bump:
//     without a transactional id the coordinator ignores the id and epoch
//     sent and hands out a new id (TransactionCoordinator.handleInitProducerId),
//     so it is asked only when the epoch would overflow.
//   - A partition sends one batch at a time until a batch of the current
//     producer id is acknowledged there. Until then the broker may hold no
//     state for the id on that partition, and a broker without state takes
//     any first sequence (ProducerAppendInfo.checkSequence: "accept writes
//     with any sequence number"). With two batches in flight, a retriable
//     error for the first (NOT_LEADER_OR_FOLLOWER while the leader is still
//     applying a new topic) would let the second be written first, and the
//     first could then only be lost or written out of order (KAFKA-15591,
//     fixed on the broker in Kafka 4.5 for partitions that never held a
//     record).
//   - Except those that may already be in the log: a batch that timed out,
//     lost its connection or got REQUEST_TIMED_OUT /
//     NOT_ENOUGH_REPLICAS_AFTER_APPEND might have been written, and under a
//     new epoch the broker could no longer recognise it as a duplicate. Such
//     batches fail with an UncertainDeliveryError instead of being resent,
//     so the producer never writes a record twice.

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/protocol"
)

// InitFunc obtains a producer id and epoch. current is the id and epoch
// being replaced; Idempotence passes -1, -1 (a new id: at first, and after
// the epoch ran out), as it bumps epochs itself.
type InitFunc func(ctx context.Context, currentID int64, currentEpoch int16) (id int64, epoch int16, err error)

// Idempotence implements ProducerState for the idempotent producer.
// Methods other than Start and Close are called by the sender goroutine.
type Idempotence struct {
	init InitFunc

	mu       sync.Mutex
	id       int64     // guarded by mu
	epoch    int16     // guarded by mu
	ready    bool      // id valid and no bump pending; guarded by mu
	fetching bool      // an InitProducerId call is running; guarded by mu
	fatal    error     // a non-retriable InitProducerId failure; guarded by mu
	retryAt  time.Time // no new InitProducerId before; guarded by mu
	failures int       // consecutive InitProducerId failures; guarded by mu
	wake     func()
	backoff  func(attempt int) time.Duration
	// external is set (before use) by a TxnManager, which gets the id and
	// epoch itself (setProducerID): no InitProducerId and no automatic
	// epoch bump happen here.
	external bool

	// Owned by the sender goroutine.
	parts      map[topicPartition]*partitionSeq
	bumpNeeded bool
	seenID     int64 // the id and epoch sequences were last numbered for
	seenEpoch  int16
	uncertain  []*accumulator.Batch // dropped at the last renumbering, for the sender to fail

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// topicPartition keys the sender's per-partition state.
type topicPartition = accumulator.TopicPartition

// partitionSeq is one partition's sequence state.
type partitionSeq struct {
	next    int32                // the sequence the next new batch gets
	unacked []*accumulator.Batch // stamped, neither acked nor failed; in sequence order
	// unresolved is set when a batch that may have been written failed
	// (it expired): the broker may or may not hold its sequences, so no
	// epoch bump yet. Later batches keep their sequences and settle it: an
	// ack proves it was written, OUT_OF_ORDER_SEQUENCE_NUMBER for the first
	// of them proves it was not (then the bump happens).
	unresolved bool
	// known is set once a batch under the current producer id was
	// acknowledged here: from then on the broker checks every sequence of
	// the id on this partition, so batches may be pipelined. Until then
	// Allow keeps one batch in flight. Cleared when the producer id
	// changes (an epoch bump keeps it: the broker keeps the id's state and
	// takes only sequence 0 under a new epoch).
	known bool
}

// NewIdempotence returns the idempotence state. wake nudges the sender when
// a producer id arrives.
// backoff spaces failed InitProducerId attempts.
func NewIdempotence(init InitFunc, wake func(), backoff func(attempt int) time.Duration) *Idempotence {
	ctx, cancel := context.WithCancel(context.Background())
	return &Idempotence{init: init, wake: wake, backoff: backoff, id: -1, epoch: -1, seenID: -1, seenEpoch: -1,
		parts: map[topicPartition]*partitionSeq{}, ctx: ctx, cancel: cancel}
}

// Close stops a running InitProducerId and waits for it.
func (m *Idempotence) Close() {
	m.cancel()
	m.wg.Wait()
}

// Err returns the fatal error that stopped the producer id, if any.
func (m *Idempotence) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.fatal
}

// ProducerID returns the current id and epoch.
func (m *Idempotence) ProducerID() (int64, int16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.id, m.epoch
}

// Ready reports whether batches may be drained, given the number of
// requests in flight. It starts InitProducerId when no id is known, and
// bumps the epoch once a bump is needed and nothing is in flight (InitProducerId
// for a new id only if the epoch is exhausted, as Java's
// bumpIdempotentEpochAndResetIdIfNeeded does); when a new id or epoch has
// arrived it renumbers the waiting batches.
func (m *Idempotence) Ready(inflight int) bool {
	m.mu.Lock()
	if m.fatal == nil && m.bumpNeeded && m.ready && inflight == 0 && !m.external {
		m.bumpNeeded = false
		if m.epoch < math.MaxInt16 {
			m.epoch++
		} else {
			m.id, m.epoch, m.ready = -1, -1, false
		}
	}
	ready, fetching, fatal, id, epoch := m.ready, m.fetching, m.fatal, m.id, m.epoch
	m.mu.Unlock()
	if fatal != nil {
		return false
	}
	if !ready {
		if !fetching && !m.external {
			m.fetch()
		}
		return false
	}
	m.adopt(id, epoch)
	return !m.bumpNeeded
}

// adopt renumbers the waiting batches when id and epoch are not the ones
// sequences were last numbered for. Ready calls it; so does Options, for a
// TxnManager that set a new epoch (EndTxn v5, KIP-890) after this pass's
// Ready looked: a batch of the next transaction drained in that window
// would otherwise take the new epoch with the old epoch's next sequence,
// and the next Ready would restamp it while its request is being written.
func (m *Idempotence) adopt(id int64, epoch int16) {
	if id == m.seenID && epoch == m.seenEpoch {
		return
	}
	if id != m.seenID {
		for _, ps := range m.parts {
			ps.known = false
		}
	}
	m.seenID, m.seenEpoch = id, epoch
	if m.external {
		m.bumpNeeded = false // the new epoch restarts every sequence
	}
	m.resetSequences(id, epoch)
}

// retryWaiter is implemented by a ProducerState whose Ready can stay false
// for a while without an event: it says when to call Ready again.
type retryWaiter interface {
	retryIn(now time.Time) time.Duration
}

var _ retryWaiter = (*Idempotence)(nil)

// retryIn returns how long until a failed InitProducerId may be retried, or
// 0 when no retry is waiting on time (none failed, one is running, or the
// producer id is known): a running fetch wakes the sender when it ends.
func (m *Idempotence) retryIn(now time.Time) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fetching || m.ready || m.fatal != nil || m.external {
		return 0
	}
	return max(m.retryAt.Sub(now), 0)
}

// fetch runs InitProducerId in the background.
func (m *Idempotence) fetch() {
	m.mu.Lock()
	if m.fetching || time.Now().Before(m.retryAt) {
		m.mu.Unlock()
		return
	}
	m.fetching = true
	id, epoch := m.id, m.epoch
	m.mu.Unlock()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		nid, nepoch, err := m.init(m.ctx, id, epoch)
		m.mu.Lock()
		m.fetching = false
		if err != nil {
			// A Kafka error the broker marks non-retriable (authorization,
			// fencing) is fatal; connection trouble is retried.
			var ke *protocol.Error
			if m.ctx.Err() == nil && errors.As(err, &ke) && !ke.Retriable {
				m.fatal = err
			}
			m.failures++
			m.retryAt = time.Now().Add(m.backoff(m.failures))
			m.mu.Unlock()
			m.wake()
			return
		}
		m.failures = 0
		m.id, m.epoch, m.ready = nid, nepoch, true
		m.mu.Unlock()
		m.wake()
	}()
}

// setProducerID installs an id and epoch obtained by a TxnManager; the
// sender goroutine's next Ready restarts sequences under them.
func (m *Idempotence) setProducerID(id int64, epoch int16) {
	m.mu.Lock()
	m.id, m.epoch, m.ready = id, epoch, true
	m.mu.Unlock()
}

// resetSequences renumbers every partition's waiting batches from 0 under
// id and epoch. Nothing is in flight when it runs: the bump waits for
// in-flight requests, and a TxnManager sets a new epoch only after every
// batch of the transaction completed.
func (m *Idempotence) resetSequences(id int64, epoch int16) {
	for _, ps := range m.parts {
		ps.next = 0
		ps.unresolved = false
		kept := ps.unacked[:0]
		for _, b := range ps.unacked {
			if b.MaybeWritten {
				m.uncertain = append(m.uncertain, b)
				continue
			}
			if b.Closed() {
				_ = b.Restamp(id, epoch, ps.next)
			}
			ps.next = protocol.AddSequence(ps.next, b.NumRecords())
			kept = append(kept, b)
		}
		clear(ps.unacked[len(kept):])
		ps.unacked = kept
	}
}

// Uncertain implements ProducerState: it returns, once, the batches the last
// epoch bump could not resend because they may already be in the log.
func (m *Idempotence) Uncertain() []*accumulator.Batch {
	u := m.uncertain
	m.uncertain = nil
	return u
}

func (m *Idempotence) part(b *accumulator.Batch) *partitionSeq {
	tp := topicPartition{Topic: b.Topic, Partition: b.Partition}
	ps := m.parts[tp]
	if ps == nil {
		ps = &partitionSeq{}
		m.parts[tp] = ps
	}
	return ps
}

// Allow implements accumulator.DrainGate. A partition sends nothing to
// node while one of its batches is still in flight to another broker (its
// previous leader): that request must answer first, or the new leader would
// see a sequence gap. A retried batch goes only when it is its partition's
// first unacknowledged sequence; a new batch waits while a retry is queued
// ahead of it, and while the partition has a batch in flight but none
// acknowledged under the current producer id (see known).
func (m *Idempotence) Allow(b *accumulator.Batch, node int32) bool {
	ps := m.part(b)
	for _, u := range ps.unacked {
		if u.InFlight && u.Node != node {
			return false
		}
	}
	if b.HasSequence() {
		return len(ps.unacked) > 0 && ps.unacked[0] == b
	}
	if !ps.known && len(ps.unacked) > 0 {
		return false
	}
	for _, u := range ps.unacked {
		if !u.InFlight {
			return false
		}
	}
	return true
}

// Options implements accumulator.DrainGate: it assigns the next sequence.
func (m *Idempotence) Options(b *accumulator.Batch) protocol.BatchOptions {
	id, epoch := m.ProducerID()
	m.adopt(id, epoch)
	ps := m.part(b)
	seq := ps.next
	ps.next = protocol.AddSequence(ps.next, b.NumRecords())
	ps.unacked = append(ps.unacked, b)
	return protocol.BatchOptions{ProducerID: id, ProducerEpoch: epoch, BaseSequence: seq}
}

// Acked implements ProducerState.
func (m *Idempotence) Acked(b *accumulator.Batch) {
	m.remove(b)
	ps := m.part(b)
	ps.unresolved = false
	if b.ProducerID == m.seenID {
		ps.known = true
	}
}

// Failed implements ProducerState. A stamped batch the broker surely did
// not write leaves a gap, so the epoch must be bumped before the
// partition's later sequences can be accepted. A batch that may have been
// written leaves the partition unresolved instead (see partitionSeq): a
// needless bump would make resending the partition's other maybe-written
// batches unsafe.
func (m *Idempotence) Failed(b *accumulator.Batch, err error) {
	if !b.HasSequence() || !m.remove(b) {
		return
	}
	if b.MaybeWritten {
		m.part(b).unresolved = true
		return
	}
	m.bumpNeeded = true
}

// CanRetry implements ProducerState for OUT_OF_ORDER_SEQUENCE_NUMBER and
// UNKNOWN_PRODUCER_ID (KIP-360). Both are retried. When b is its
// partition's first unacknowledged batch the gap is real (the broker lost
// or never got the earlier sequence), so the epoch is bumped and sequences
// restart; a later batch only failed because an earlier one is being
// retried, and simply goes again behind it.
func (m *Idempotence) CanRetry(b *accumulator.Batch, err error) bool {
	if !errors.Is(err, protocol.ErrOutOfOrderSequenceNumber) && !errors.Is(err, protocol.ErrUnknownProducerID) {
		return false
	}
	ps := m.part(b)
	first := len(ps.unacked) > 0 && ps.unacked[0] == b
	if errors.Is(err, protocol.ErrOutOfOrderSequenceNumber) && !first {
		// Behind an earlier unacknowledged batch, the broker refused this
		// sequence because the earlier one is missing: this attempt was
		// not written, and no earlier one could have been before it. For
		// the first unacknowledged batch the answer is ambiguous: a broker
		// also answers OUT_OF_ORDER_SEQUENCE_NUMBER for a batch it wrote
		// that has left its window of the last five batches per producer
		// (Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN), so a batch
		// that may have been written stays so and is not resent under a
		// new epoch.
		b.MaybeWritten = false
	}
	if first {
		m.bumpNeeded = true
		ps.unresolved = false
	}
	return true
}

// behindUnacked reports whether b waits behind an earlier unacknowledged
// batch of its partition whose fate is known (no unresolved sequence); if
// so, b was not written and may be resent after it.
func (m *Idempotence) behindUnacked(b *accumulator.Batch) bool {
	ps := m.part(b)
	if ps.unresolved || len(ps.unacked) == 0 || ps.unacked[0] == b || !slices.Contains(ps.unacked, b) {
		return false
	}
	b.MaybeWritten = false
	return true
}

// Split implements ProducerState: the pieces of a split batch take its
// place (and its sequences) in the partition's unacknowledged list.
func (m *Idempotence) Split(parent *accumulator.Batch, children []*accumulator.Batch) {
	ps := m.part(parent)
	for i, u := range ps.unacked {
		if u == parent {
			rest := append([]*accumulator.Batch(nil), ps.unacked[i+1:]...)
			ps.unacked = append(append(ps.unacked[:i], children...), rest...)
			return
		}
	}
}

// remove drops b from its partition's unacked list and reports whether it
// was there.
func (m *Idempotence) remove(b *accumulator.Batch) bool {
	ps := m.parts[topicPartition{Topic: b.Topic, Partition: b.Partition}]
	if ps == nil {
		return false
	}
	for i, u := range ps.unacked {
		if u == b {
			ps.unacked = append(ps.unacked[:i], ps.unacked[i+1:]...)
			return true
		}
	}
	return false
}
