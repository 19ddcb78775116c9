package producertest

// The mock's transactions follow the real producer's state machine
// (sender.TxnManager) without a coordinator: UNINITIALIZED →
// InitTransactions → READY → BeginTransaction → IN_TRANSACTION →
// CommitTransaction or AbortTransaction → READY, with ABORTABLE_ERROR after
// a failed record or commit and FATAL_ERROR after FenceProducer. A call in
// a state that does not allow it fails as on the real producer: with the
// error of an error state, else a *producer.TxnStateError.

import (
	"context"
	"maps"
	"slices"

	"github.com/tributary-go/tributary/producer"
	"github.com/tributary-go/tributary/protocol"
)

// CommittedOffsets is one SendOffsetsToTransaction call of a committed
// transaction.
type CommittedOffsets struct {
	Group   producer.GroupMetadata
	Offsets map[string][]producer.PartitionOffset
}

// txnState is the mock's transaction bookkeeping; guarded by Producer.mu.
type txnState struct {
	state       producer.TxnState
	lastErr     error // the error of ABORTABLE_ERROR or FATAL_ERROR
	uncommitted []*Sent
	offsets     []CommittedOffsets // of the open transaction
	committed   []CommittedOffsets
	commits     int
	aborts      int
	failCommit  error // FailNextCommit
}

// check returns nil if the state is one of ok, else the error the call
// fails with (the real producer's checkLocked).
func (t *txnState) check(op string, ok ...producer.TxnState) error {
	if slices.Contains(ok, t.state) {
		return nil
	}
	if t.state == producer.TxnStateAbortableError || t.state == producer.TxnStateFatalError {
		return t.lastErr
	}
	return &producer.TxnStateError{Op: op, State: t.state}
}

// toAbortable makes an open transaction abortable after a failed record.
func (t *txnState) toAbortable(err error) {
	if t.state == producer.TxnStateInTransaction || t.state == producer.TxnStateCommitting {
		t.state, t.lastErr = producer.TxnStateAbortableError, &producer.TxnAbortableError{Err: err}
	}
}

func (t *txnState) needsAbort() bool {
	return t.state == producer.TxnStateInTransaction || t.state == producer.TxnStateAbortableError
}

// begin checks the common preconditions of a transactional call and, when
// they hold, returns with p.mu held.
func (p *Producer) begin(op string, ok ...producer.TxnState) error {
	if p.txnID == "" {
		return producer.ErrNotTransactional
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return producer.ErrClosed
	}
	if err := p.txn.check(op, ok...); err != nil {
		p.mu.Unlock()
		return err
	}
	return nil
}

// InitTransactions moves a transactional mock from UNINITIALIZED to READY.
func (p *Producer) InitTransactions(ctx context.Context) error {
	if err := p.begin("InitTransactions", producer.TxnStateUninitialized); err != nil {
		return err
	}
	defer p.mu.Unlock()
	p.txn.state = producer.TxnStateReady
	return nil
}

// BeginTransaction opens a transaction (READY → IN_TRANSACTION).
func (p *Producer) BeginTransaction() error {
	if err := p.begin("BeginTransaction", producer.TxnStateReady); err != nil {
		return err
	}
	defer p.mu.Unlock()
	p.txn.state = producer.TxnStateInTransaction
	return nil
}

// SendOffsetsToTransaction records the group's offsets in the open
// transaction; they appear in OffsetsHistory once it commits.
func (p *Producer) SendOffsetsToTransaction(ctx context.Context, offsets map[string][]producer.PartitionOffset, group producer.GroupMetadata) error {
	if err := p.begin("SendOffsetsToTransaction", producer.TxnStateInTransaction); err != nil {
		return err
	}
	defer p.mu.Unlock()
	if group.GroupID == "" {
		return producer.ErrTransactionNoGroup
	}
	if len(offsets) == 0 {
		return nil
	}
	cp := make(map[string][]producer.PartitionOffset, len(offsets))
	for topic, ps := range offsets {
		cp[topic] = slices.Clone(ps)
	}
	p.txn.offsets = append(p.txn.offsets, CommittedOffsets{Group: group, Offsets: cp})
	return nil
}

// CommitTransaction completes the transaction's pending records, then
// commits: its records move to History and its offsets to OffsetsHistory.
// If a record of the transaction failed, or FailNextCommit was called, it
// returns a *producer.TxnAbortableError and the transaction must be
// aborted.
func (p *Producer) CommitTransaction(ctx context.Context) error {
	if err := p.begin("CommitTransaction", producer.TxnStateInTransaction, producer.TxnStateCommitting); err != nil {
		return err
	}
	p.txn.state = producer.TxnStateCommitting
	p.mu.Unlock()
	p.completeAll(nil)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.txn.failCommit; err != nil {
		p.txn.failCommit = nil
		p.txn.toAbortable(err)
	}
	if p.txn.state != producer.TxnStateCommitting {
		return p.txn.lastErr
	}
	p.history = append(p.history, p.txn.uncommitted...)
	p.txn.committed = append(p.txn.committed, p.txn.offsets...)
	p.txn.commits++
	p.finishTxnLocked()
	return nil
}

// AbortTransaction aborts the open or failed transaction: pending records
// of it fail with producer.ErrTransactionAborted, and its records and
// offsets are dropped.
func (p *Producer) AbortTransaction(ctx context.Context) error {
	if err := p.begin("AbortTransaction", producer.TxnStateInTransaction, producer.TxnStateAbortableError, producer.TxnStateAborting); err != nil {
		return err
	}
	p.txn.state = producer.TxnStateAborting
	p.mu.Unlock()
	p.completeAll(producer.ErrTransactionAborted)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.txn.aborts++
	p.finishTxnLocked()
	return nil
}

func (p *Producer) finishTxnLocked() {
	if p.txn.state == producer.TxnStateFatalError {
		return
	}
	p.txn.state, p.txn.lastErr = producer.TxnStateReady, nil
	p.txn.uncommitted, p.txn.offsets = nil, nil
}

// FenceProducer simulates another producer with the same transactional id
// taking over: every later transactional call and Send fails with a
// *producer.TxnFatalError wrapping protocol.ErrProducerFenced.
func (p *Producer) FenceProducer() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.txn.state = producer.TxnStateFatalError
	p.txn.lastErr = &producer.TxnFatalError{Err: protocol.ErrProducerFenced}
}

// FailNextCommit makes the next CommitTransaction fail with a
// *producer.TxnAbortableError wrapping err, leaving the transaction to be
// aborted.
func (p *Producer) FailNextCommit(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.txn.failCommit = err
}

// TransactionState returns the mock's transaction state ("" when it is
// not transactional).
func (p *Producer) TransactionState() producer.TxnState {
	if p.txnID == "" {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.txn.state
}

// Commits returns the number of committed transactions.
func (p *Producer) Commits() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.txn.commits
}

// Aborts returns the number of aborted transactions.
func (p *Producer) Aborts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.txn.aborts
}

// OffsetsHistory returns the offsets of committed transactions, one entry
// per SendOffsetsToTransaction call, oldest first.
func (p *Producer) OffsetsHistory() []CommittedOffsets {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]CommittedOffsets, len(p.txn.committed))
	for i, c := range p.txn.committed {
		out[i] = CommittedOffsets{Group: c.Group, Offsets: maps.Clone(c.Offsets)}
	}
	return out
}
