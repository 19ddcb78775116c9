package sender

// The transactional calls a user makes: InitTransactions,
// BeginTransaction, SendOffsetsToTransaction, CommitTransaction and
// AbortTransaction, and the Send admission (AcquireSend, ReleaseSend). Each
// runs on the caller's goroutine, one at a time (the op semaphore), blocks
// on the coordinator and is bounded by the caller's ctx, as the Java
// KafkaProducer's transactional methods are (bounded by max.block.ms there).

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tributary-go/tributary/protocol"
)

// InitTransactions finds the transaction coordinator and gets the producer
// id and epoch for the transactional id with InitProducerId, which fences
// any older producer using the same id and has the coordinator abort its
// unfinished transaction. Coordinator errors are retried with backoff until
// ctx ends; then the state returns to UNINITIALIZED and the call may be
// repeated. It blocks; it is valid only in state UNINITIALIZED.
func (t *TxnManager) InitTransactions(ctx context.Context) error {
	const op = "InitTransactions"
	if err := t.acquire(ctx, op); err != nil {
		return err
	}
	defer t.release()
	if err := t.enter(op, TxnStateInitializing, TxnStateUninitialized); err != nil {
		return err
	}
	var (
		id    int64
		epoch int16
		v2    bool
	)
	err := t.retry(ctx, op, func(ctx context.Context) (step, error) {
		var st step
		var err error
		id, epoch, v2, st, err = t.initProducerIDOnce(ctx, -1, -1)
		return st, err
	})
	if err != nil {
		t.mu.Lock()
		if t.state == TxnStateInitializing {
			t.state = TxnStateUninitialized
		}
		t.mu.Unlock()
		return t.settle(err)
	}
	t.idem.setProducerID(id, epoch)
	t.tv2.Store(v2)
	t.mu.Lock()
	t.state = TxnStateReady
	t.mu.Unlock()
	t.log.Info("transactional producer initialized", "transactional.id", t.cfg.TransactionalID, "producer_id", id, "epoch", epoch, "transaction_v2", v2)
	return nil
}

// BeginTransaction starts a transaction: from now until the commit or
// abort, Send is allowed. It does not block and contacts no broker; it is
// valid only in state READY.
func (t *TxnManager) BeginTransaction() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.checkLocked("BeginTransaction", TxnStateReady); err != nil {
		return err
	}
	t.state = TxnStateInTransaction
	t.begun = time.Now()
	return nil
}

// AcquireSend admits one Send into the open transaction: it fails at once
// unless the state is IN_TRANSACTION. On success the caller must call
// ReleaseSend once its record is appended; until then the transaction
// cannot move on to its commit or abort.
func (t *TxnManager) AcquireSend() error {
	t.sendMu.RLock()
	t.mu.Lock()
	err := t.checkLocked("Send", TxnStateInTransaction)
	t.mu.Unlock()
	if err != nil {
		t.sendMu.RUnlock()
	}
	return err
}

// ReleaseSend ends what AcquireSend admitted.
func (t *TxnManager) ReleaseSend() { t.sendMu.RUnlock() }

// SendOffsetsToTransaction makes the group's offsets part of the open
// transaction: they are committed for the group if and only if the
// transaction commits. With transaction version 1 it first adds the group
// with AddOffsetsToTxn; then it sends TxnOffsetCommit to the group's
// coordinator. It blocks until the offsets are stored or an error, and is
// valid only in state IN_TRANSACTION. If ctx ends first, the offsets may or
// may not be part of the transaction, which therefore becomes abortable.
func (t *TxnManager) SendOffsetsToTransaction(ctx context.Context, group TxnGroup, offsets []TxnOffset) error {
	const op = "SendOffsetsToTransaction"
	if err := t.acquire(ctx, op); err != nil {
		return err
	}
	defer t.release()
	t.mu.Lock()
	err := t.checkLocked(op, TxnStateInTransaction)
	t.mu.Unlock()
	if err != nil {
		return err
	}
	if group.GroupID == "" {
		return ErrTxnNoGroup
	}
	if len(offsets) == 0 {
		return nil
	}
	id, epoch := t.idem.ProducerID()
	v2 := t.tv2.Load()
	if v2 {
		t.markStarted() // TxnOffsetCommit v5 may start the transaction
	} else {
		err := t.retry(ctx, op, func(ctx context.Context) (step, error) {
			return t.addOffsetsOnce(ctx, group.GroupID, id, epoch)
		})
		if err != nil {
			return t.settleOffsets(err)
		}
		t.markStarted()
	}
	pending := append([]TxnOffset(nil), offsets...)
	var gc *coordinator
	err = t.retry(ctx, op, func(ctx context.Context) (step, error) {
		var st step
		var err error
		pending, st, err = t.commitOffsetsOnce(ctx, &gc, group, pending, id, epoch, v2)
		return st, err
	})
	if err != nil {
		return t.settleOffsets(err)
	}
	return nil
}

// CommitTransaction flushes the transaction's records and waits for all of
// them; if any failed it returns a *TxnAbortableError and the transaction
// must be aborted; otherwise it commits with EndTxn. It blocks until then.
// If ctx ends first, the state stays COMMITTING_TRANSACTION and the call
// may be repeated to finish the commit. It is valid in IN_TRANSACTION (and
// COMMITTING_TRANSACTION, to resume).
func (t *TxnManager) CommitTransaction(ctx context.Context) error {
	const op = "CommitTransaction"
	if err := t.acquire(ctx, op); err != nil {
		return err
	}
	defer t.release()
	if err := t.enter(op, TxnStateCommitting, TxnStateInTransaction, TxnStateCommitting); err != nil {
		return err
	}
	t.cfg.Acc.BeginFlush()
	t.cfg.Wake()
	err := t.awaitBatches(ctx)
	t.cfg.Acc.EndFlush()
	if err != nil {
		return &TxnRetriableError{Op: op, What: "waiting for the transaction's records", Err: err}
	}
	if err := t.awaitAdder(ctx); err != nil {
		return &TxnRetriableError{Op: op, What: "waiting for AddPartitionsToTxn", Err: err}
	}
	t.mu.Lock()
	if t.state != TxnStateCommitting { // a batch failed: abortable (or fatal)
		err := t.lastErr
		t.mu.Unlock()
		return err
	}
	started := t.started
	t.mu.Unlock()
	if started {
		if err := t.endTxn(ctx, op, true); err != nil {
			return err
		}
	}
	t.finish()
	return nil
}

// AbortTransaction aborts the transaction: records not yet sent fail with
// ErrTxnAborted, records in flight are waited for, and EndTxn tells the
// coordinator to abort. It blocks until then; if ctx ends first the state
// stays ABORTING_TRANSACTION and the call may be repeated. It is valid in
// IN_TRANSACTION and ABORTABLE_ERROR (and ABORTING_TRANSACTION, to resume).
func (t *TxnManager) AbortTransaction(ctx context.Context) error {
	const op = "AbortTransaction"
	if err := t.acquire(ctx, op); err != nil {
		return err
	}
	defer t.release()
	t.mu.Lock()
	cause := t.lastErr
	t.mu.Unlock()
	if err := t.enter(op, TxnStateAborting, TxnStateInTransaction, TxnStateAbortableError, TxnStateAborting); err != nil {
		return err
	}
	t.cfg.Wake() // the sender fails queued batches (AbortQueued)
	if err := t.awaitBatches(ctx); err != nil {
		return &TxnRetriableError{Op: op, What: "waiting for records in flight", Err: err}
	}
	if err := t.awaitAdder(ctx); err != nil {
		return &TxnRetriableError{Op: op, What: "waiting for AddPartitionsToTxn", Err: err}
	}
	t.mu.Lock()
	started, gap := t.started, t.seqGap
	t.mu.Unlock()
	bumped := false
	if started {
		// INVALID_PRODUCER_ID_MAPPING: the coordinator no longer knows the
		// id, so EndTxn cannot succeed; InitProducerId starts afresh.
		if errors.Is(cause, protocol.ErrInvalidProducerIDMapping) {
			gap = true
		} else {
			if err := t.endTxn(ctx, op, false); err != nil {
				return err
			}
			bumped = t.tv2.Load()
		}
		t.mu.Lock()
		t.started = false
		t.mu.Unlock()
	}
	if gap && !bumped {
		if err := t.bumpEpoch(ctx, op); err != nil {
			return err
		}
	}
	t.finish()
	return nil
}

// endTxn sends EndTxn until it succeeds or fails for good, and adopts the
// new epoch that EndTxn v5 returns.
func (t *TxnManager) endTxn(ctx context.Context, op string, commit bool) error {
	id, epoch := t.idem.ProducerID()
	v2 := t.tv2.Load()
	nid, nepoch := id, epoch
	err := t.retry(ctx, op, func(ctx context.Context) (step, error) {
		var st step
		var err error
		nid, nepoch, st, err = t.endTxnOnce(ctx, commit, id, epoch, v2)
		return st, err
	})
	if err != nil {
		t.mu.Lock()
		open := time.Since(t.begun)
		t.mu.Unlock()
		return t.settle(explainTimeout(err, open, t.cfg.Timeout))
	}
	if nid != id || nepoch != epoch {
		t.idem.setProducerID(nid, nepoch)
	}
	return nil
}

// explainTimeout gives a fatal EndTxn answer its likely reason when the
// transaction was open longer than transaction.timeout.ms: the coordinator
// aborted it and bumped the epoch (TransactionCoordinator's
// abortTimedOutTransactions), after which Kafka 3.x answers
// PRODUCER_FENCED and 4.x (transaction.version 2) INVALID_TXN_STATE, and
// either would otherwise read as if another producer had taken over. The
// cause still matches with errors.Is. Other errors are returned unchanged.
func explainTimeout(err error, open, timeout time.Duration) error {
	fe, ok := err.(*TxnFatalError)
	if !ok || timeout <= 0 || open < timeout ||
		!(errors.Is(fe.Err, protocol.ErrProducerFenced) || errors.Is(fe.Err, protocol.ErrInvalidTxnState)) {
		return err
	}
	return &TxnFatalError{Err: fmt.Errorf("the transaction was open for %s, longer than transaction.timeout.ms=%s, so the coordinator has aborted it: %w",
		open.Round(time.Millisecond), timeout, fe.Err)}
}

// bumpEpoch ends an abort that left a hole in a partition's sequence:
// InitProducerId with the current id and epoch (KIP-360) gives a new epoch,
// under which sequences restart at 0.
func (t *TxnManager) bumpEpoch(ctx context.Context, op string) error {
	id, epoch := t.idem.ProducerID()
	var nid int64
	var nepoch int16
	err := t.retry(ctx, op, func(ctx context.Context) (step, error) {
		var st step
		var err error
		nid, nepoch, _, st, err = t.initProducerIDOnce(ctx, id, epoch)
		return st, err
	})
	if err != nil {
		return t.settle(err)
	}
	t.idem.setProducerID(nid, nepoch)
	t.mu.Lock()
	t.seqGap = false
	t.mu.Unlock()
	return nil
}

// finish returns to READY after a commit or abort, forgetting the
// transaction's partitions.
func (t *TxnManager) finish() {
	t.endMu.Lock()
	defer t.endMu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state == TxnStateFatalError {
		return
	}
	t.state = TxnStateReady
	t.lastErr = nil
	t.started = false
	clear(t.added)
	clear(t.pending)
}
