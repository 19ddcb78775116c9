package sender

// The transaction state machine: the states and their errors, and the
// transitions (enter, settle, toAbortable, toFatal), all under t.mu. The
// states and the transitions between them are those of the Java client's
// TransactionManager.State (isTransitionValid); an error leaves the
// transaction ABORTABLE_ERROR (only AbortTransaction leads back to READY)
// or the producer FATAL_ERROR.

import (
	"context"
	"errors"
	"fmt"

	"github.com/tributary-go/tributary/accumulator"
)

// TxnState is a transactional producer's state, named as in the Java client.
type TxnState string

// The states of a transactional producer.
const (
	TxnStateUninitialized  TxnState = "UNINITIALIZED"
	TxnStateInitializing   TxnState = "INITIALIZING"
	TxnStateReady          TxnState = "READY"
	TxnStateInTransaction  TxnState = "IN_TRANSACTION"
	TxnStateCommitting     TxnState = "COMMITTING_TRANSACTION"
	TxnStateAborting       TxnState = "ABORTING_TRANSACTION"
	TxnStateAbortableError TxnState = "ABORTABLE_ERROR"
	TxnStateFatalError     TxnState = "FATAL_ERROR"
)

// Sentinel errors of transactions; the typed errors below match them.
var (
	// ErrTxnState is matched by *TxnStateError.
	ErrTxnState = errors.New("sender: call not valid in the transaction state")
	// ErrTxnAbortable is matched by *TxnAbortableError.
	ErrTxnAbortable = errors.New("sender: transaction failed and must be aborted")
	// ErrTxnFatal is matched by *TxnFatalError.
	ErrTxnFatal = errors.New("sender: transactional producer failed fatally")
	// ErrTxnAborted fails the batches of a transaction that was aborted
	// before they were sent.
	ErrTxnAborted = fmt.Errorf("sender: transaction aborted before the batch was sent: %w", accumulator.ErrAborted)
	// ErrTxnClosed ends a transactional call cut short by Close.
	ErrTxnClosed = errors.New("sender: transaction manager closed")
	// ErrTxnNoGroup is returned by SendOffsetsToTransaction without a group id.
	ErrTxnNoGroup = errors.New("sender: SendOffsetsToTransaction needs a consumer group id")
)

// TxnStateError reports a transactional call made in a state that does not
// allow it, e.g. CommitTransaction in READY. It matches ErrTxnState.
type TxnStateError struct {
	Op    string   // the call, e.g. "CommitTransaction" or "Send"
	State TxnState // the state it found
}

func (e *TxnStateError) Error() string {
	return fmt.Sprintf("sender: %s is not allowed in transaction state %s", e.Op, e.State)
}

// Is matches ErrTxnState and ErrClassFatal (KIP-1050 has no class for a
// call out of order; the producer is unchanged, the program is wrong).
func (e *TxnStateError) Is(target error) bool {
	return target == ErrTxnState || target == ErrClassFatal
}

// TxnAbortableError reports a transaction that cannot commit (a batch
// failed, the coordinator answered TRANSACTION_ABORTABLE, …). Abort it;
// then a new transaction may begin. It matches ErrTxnAbortable and unwraps
// to the cause.
type TxnAbortableError struct{ Err error }

func (e *TxnAbortableError) Error() string {
	return "sender: transaction must be aborted: " + e.Err.Error()
}

// Is matches ErrTxnAbortable and the sentinel of its class (ClassOf):
// ErrClassAbortable, or ErrClassApplicationRecoverable or
// ErrClassInvalidConfiguration when the cause says running the transaction
// again cannot help.
func (e *TxnAbortableError) Is(target error) bool {
	return target == ErrTxnAbortable || target == abortableClass(e.Err).Sentinel()
}

// Unwrap returns the cause.
func (e *TxnAbortableError) Unwrap() error { return e.Err }

// TxnFatalError reports an error the transactional producer cannot recover
// from (PRODUCER_FENCED, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, …); every
// later call fails with it, and the producer must be closed. It matches
// ErrTxnFatal and unwraps to the cause (compare with protocol.Err*).
type TxnFatalError struct{ Err error }

func (e *TxnFatalError) Error() string {
	return "sender: transactional producer failed fatally: " + e.Err.Error()
}

// Is matches ErrTxnFatal and the sentinel of its class (ClassOf):
// ErrClassApplicationRecoverable when fenced, ErrClassInvalidConfiguration
// for authorization or version trouble, else ErrClassFatal.
func (e *TxnFatalError) Is(target error) bool {
	return target == ErrTxnFatal || target == fatalClass(e.Err).Sentinel()
}

// Unwrap returns the cause.
func (e *TxnFatalError) Unwrap() error { return e.Err }

// checkLocked returns nil if the state is one of ok, else the error the
// call must fail with: the error of an error state, or a *TxnStateError.
func (t *TxnManager) checkLocked(op string, ok ...TxnState) error {
	for _, s := range ok {
		if t.state == s {
			return nil
		}
	}
	if t.state == TxnStateAbortableError || t.state == TxnStateFatalError {
		return t.lastErr
	}
	return &TxnStateError{Op: op, State: t.state}
}

// enter moves to state to from one of from, after any Send in progress has
// appended its record.
func (t *TxnManager) enter(op string, to TxnState, from ...TxnState) error {
	t.sendMu.Lock()
	defer t.sendMu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.checkLocked(op, from...); err != nil {
		return err
	}
	t.state = to
	return nil
}

// settle applies the state change an operation's final error calls for
// and returns the error to report. A coordinator's abortable answer while
// aborting is fatal, as in the Java client: there is nothing left to abort
// to.
func (t *TxnManager) settle(err error) error {
	var fe *TxnFatalError
	var ae *TxnAbortableError
	switch {
	case errors.As(err, &fe):
		t.toFatal(fe)
	case errors.As(err, &ae):
		if t.State() == TxnStateAborting {
			fe = &TxnFatalError{Err: ae.Err}
			t.toFatal(fe)
			return fe
		}
		t.toAbortable(ae)
	}
	return err
}

// settleOffsets is settle for SendOffsetsToTransaction, where any failure
// leaves the transaction unable to commit what the caller asked.
func (t *TxnManager) settleOffsets(err error) error {
	if errors.Is(err, ErrTxnFatal) || errors.Is(err, ErrTxnAbortable) {
		return t.settle(err)
	}
	ae := &TxnAbortableError{Err: unclassed(err)}
	t.toAbortable(ae)
	return ae
}

// toAbortable moves an open transaction to ABORTABLE_ERROR. The first error
// is kept; in other states (an abort in progress, READY) a late batch
// failure changes nothing.
func (t *TxnManager) toAbortable(err *TxnAbortableError) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state == TxnStateInTransaction || t.state == TxnStateCommitting {
		t.log.Info("transaction must be aborted", "transactional.id", t.cfg.TransactionalID, "err", err.Err)
		t.state, t.lastErr = TxnStateAbortableError, err
		clear(t.pending)
	}
}

// toFatal moves to FATAL_ERROR for good; the first fatal error is kept.
func (t *TxnManager) toFatal(err *TxnFatalError) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state == TxnStateFatalError {
		return
	}
	t.log.Error("transactional producer failed fatally", "transactional.id", t.cfg.TransactionalID, "err", err.Err)
	t.state, t.lastErr = TxnStateFatalError, err
	clear(t.pending)
}

func (t *TxnManager) markStarted() {
	t.mu.Lock()
	t.started = true
	t.mu.Unlock()
}

func (t *TxnManager) acquire(ctx context.Context, op string) error {
	select {
	case t.op <- struct{}{}:
		return nil
	case <-ctx.Done():
		return &TxnRetriableError{Op: op, What: "waiting for another transactional call to finish", Err: ctx.Err()}
	}
}

func (t *TxnManager) release() { <-t.op }
