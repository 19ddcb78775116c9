package sender

// The transaction manager as the sender sees it: the ProducerState and
// DrainGate hooks, called by the sender goroutine.

import (
	"errors"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/protocol"
)

var (
	_ ProducerState    = (*TxnManager)(nil)
	_ queueAborter     = (*TxnManager)(nil)
	_ produceVersioner = (*TxnManager)(nil)
)

// queueAborter is implemented by a ProducerState that may need every
// queued batch failed with an error (an aborting or failed transaction).
type queueAborter interface {
	// FailQueued calls fail with that error, if there is one now, and
	// keeps the state from moving on until fail returns, so that what fail
	// finds queued belongs to the state that asked for it.
	FailQueued(fail func(error))
}

// produceVersioner is implemented by a ProducerState that limits the
// Produce version to use.
type produceVersioner interface {
	ProduceVersion(negotiated int16) int16
}

// Ready implements ProducerState. Batches drain only while a transaction is
// open; in the other states none can be queued (Send is refused and
// AbortQueued empties the queues), except FATAL_ERROR, which Err reports.
func (t *TxnManager) Ready(inflight int) bool {
	switch t.State() {
	case TxnStateInTransaction, TxnStateCommitting:
		return t.idem.Ready(inflight)
	case TxnStateFatalError:
		return false
	}
	return true
}

// Err implements ProducerState: the fatal error, if any.
func (t *TxnManager) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state == TxnStateFatalError {
		return t.lastErr
	}
	return nil
}

// AbortQueued tells the sender to fail every queued batch with the returned
// error: ErrTxnAborted while aborting, the transaction's error while it is
// abortable.
func (t *TxnManager) AbortQueued() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch t.state {
	case TxnStateAborting:
		return ErrTxnAborted
	case TxnStateAbortableError:
		return t.lastErr
	}
	return nil
}

// FailQueued implements queueAborter: fail runs with AbortQueued's error
// while the transaction cannot end (endMu), so a transaction begun after
// the abort never loses its records to it.
func (t *TxnManager) FailQueued(fail func(error)) {
	t.endMu.Lock()
	defer t.endMu.Unlock()
	if err := t.AbortQueued(); err != nil {
		fail(err)
	}
}

// ProduceVersion caps Produce at v11 unless transaction version 2 is on:
// v12 means "add the partition implicitly", which only a cluster with
// transaction.version ≥ 2 may be asked to do.
func (t *TxnManager) ProduceVersion(negotiated int16) int16 {
	if !t.tv2.Load() {
		return min(negotiated, 11)
	}
	return negotiated
}

// Allow implements accumulator.DrainGate: only an open transaction sends;
// a partition's batches wait until AddPartitionsToTxn has added it
// (version 1), then follow the idempotence rules. (A record appended while
// the transaction turned abortable must not go out before AbortQueued
// fails it.)
func (t *TxnManager) Allow(b *accumulator.Batch, node int32) bool {
	tp := topicPartition{Topic: b.Topic, Partition: b.Partition}
	t.mu.Lock()
	open := t.state == TxnStateInTransaction || t.state == TxnStateCommitting
	ok := open && (t.tv2.Load() || t.added[tp])
	if open && !ok {
		t.addLocked(tp)
	}
	t.mu.Unlock()
	return ok && t.idem.Allow(b, node)
}

// Options implements accumulator.DrainGate: the idempotence stamp, marked
// transactional.
func (t *TxnManager) Options(b *accumulator.Batch) protocol.BatchOptions {
	if t.tv2.Load() {
		t.markStarted() // Produce v12 adds the partition: EndTxn is needed
	}
	o := t.idem.Options(b)
	o.Transactional = true
	return o
}

// Acked implements ProducerState.
func (t *TxnManager) Acked(b *accumulator.Batch) { t.idem.Acked(b) }

// Uncertain implements ProducerState. Epochs change only between
// transactions, when no batch is left, so it returns nothing in practice.
func (t *TxnManager) Uncertain() []*accumulator.Batch { return t.idem.Uncertain() }

// Split implements ProducerState.
func (t *TxnManager) Split(parent *accumulator.Batch, children []*accumulator.Batch) {
	t.idem.Split(parent, children)
}

// CanRetry implements ProducerState. A transactional producer never
// retries sequence errors under a new epoch mid-transaction (that would
// abort the transaction at the coordinator behind the caller's back): the
// batch fails, the transaction becomes abortable, and the abort bumps the
// epoch. The exception is OUT_OF_ORDER_SEQUENCE_NUMBER for a batch behind
// an earlier unacknowledged one of its partition: the earlier batch was
// not written (a retriable error, e.g. while a 4.x broker verified the
// partition's implicit add, KIP-890), so this one arrived early and is
// retried in sequence order with the same epoch, as Java's
// TransactionManager.canRetry does when the batch is not the next
// sequence.
func (t *TxnManager) CanRetry(b *accumulator.Batch, err error) bool {
	return errors.Is(err, protocol.ErrOutOfOrderSequenceNumber) && t.idem.behindUnacked(b)
}

// Failed implements ProducerState: a failed batch makes the open
// transaction abortable, or the producer fatal for the errors that mean it
// may no longer write (fenced, unauthorized).
func (t *TxnManager) Failed(b *accumulator.Batch, err error) {
	if b.HasSequence() {
		t.mu.Lock()
		t.seqGap = true
		t.mu.Unlock()
	}
	t.idem.Failed(b, err)
	switch {
	case errors.Is(err, ErrTxnAborted), errors.Is(err, ErrTxnAbortable), errors.Is(err, ErrTxnFatal):
		// failed because of the state it is already in
	case isFatalProduceError(err):
		t.toFatal(&TxnFatalError{Err: err})
	default:
		t.toAbortable(&TxnAbortableError{Err: err})
	}
}

// isFatalProduceError reports the batch errors after which a transactional
// producer may not write again. INVALID_PRODUCER_EPOCH from Produce is
// abortable (KIP-588): the abort's EndTxn tells whether it was fenced.
func isFatalProduceError(err error) bool {
	return errors.Is(err, protocol.ErrProducerFenced) ||
		errors.Is(err, protocol.ErrTransactionalIDAuthorizationFailed) ||
		errors.Is(err, protocol.ErrClusterAuthorizationFailed)
}
