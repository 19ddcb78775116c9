package sender

// Unit tests of the transaction state machine and its error rules, without
// a broker. The protocol flows (both generations, fencing, timeouts,
// injected coordinator errors) are proven against kfake in
// producer/txn_test.go.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/protocol"
)

// newTestTxn returns a manager whose coordinator can never be reached; the
// tests move it between states directly where a broker would be needed.
func newTestTxn(t *testing.T) *TxnManager {
	t.Helper()
	acc := accumulator.New(accumulator.Config{BatchSize: 1024, Linger: time.Hour, DeliveryTimeout: time.Hour}, accumulator.NewBufferPool(1<<20, 1024))
	m := NewTxnManager(TxnConfig{
		TransactionalID: "unit",
		Timeout:         time.Minute,
		RequestTimeout:  time.Second,
		Backoff:         func(int) time.Duration { return time.Millisecond },
		AnyConn:         func(context.Context) (*conn.Conn, error) { return nil, errors.New("no broker in unit tests") },
		Acc:             acc,
	})
	t.Cleanup(m.Close)
	return m
}

// force puts m in state st with producer id 7, epoch 3.
func force(m *TxnManager, st TxnState) {
	m.idem.setProducerID(7, 3)
	m.mu.Lock()
	m.state = st
	m.mu.Unlock()
}

func batch(topic string, partition int32) *accumulator.Batch {
	return &accumulator.Batch{Topic: topic, Partition: partition, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
}

// TestTxnWrongStateErrors: every call outside its states fails at once
// with a *TxnStateError naming the call and the state.
func TestTxnWrongStateErrors(t *testing.T) {
	m := newTestTxn(t)
	ctx := context.Background()
	assert.Equal(t, &TxnStateError{Op: "BeginTransaction", State: TxnStateUninitialized}, m.BeginTransaction())
	assert.Equal(t, &TxnStateError{Op: "Send", State: TxnStateUninitialized}, m.AcquireSend())
	assert.Equal(t, &TxnStateError{Op: "CommitTransaction", State: TxnStateUninitialized}, m.CommitTransaction(ctx))

	force(m, TxnStateReady)
	assert.Equal(t, &TxnStateError{Op: "InitTransactions", State: TxnStateReady}, m.InitTransactions(ctx))
	assert.Equal(t, &TxnStateError{Op: "CommitTransaction", State: TxnStateReady}, m.CommitTransaction(ctx))
	assert.Equal(t, &TxnStateError{Op: "AbortTransaction", State: TxnStateReady}, m.AbortTransaction(ctx))
	assert.Equal(t, &TxnStateError{Op: "SendOffsetsToTransaction", State: TxnStateReady},
		m.SendOffsetsToTransaction(ctx, TxnGroup{GroupID: "g"}, []TxnOffset{{Topic: "t"}}))
	err := m.AcquireSend()
	assert.ErrorIs(t, err, ErrTxnState)
	assert.EqualError(t, err, "sender: Send is not allowed in transaction state READY")

	require.NoError(t, m.BeginTransaction())
	assert.Equal(t, TxnStateInTransaction, m.State())
	assert.Equal(t, &TxnStateError{Op: "BeginTransaction", State: TxnStateInTransaction}, m.BeginTransaction())
	require.NoError(t, m.AcquireSend())
	m.ReleaseSend()
	assert.ErrorIs(t, m.SendOffsetsToTransaction(ctx, TxnGroup{}, []TxnOffset{{Topic: "t"}}), ErrTxnNoGroup)

	// Nothing was written: the commit needs no EndTxn and returns to READY.
	require.NoError(t, m.CommitTransaction(ctx))
	assert.Equal(t, TxnStateReady, m.State())
}

// TestTxnFailedBatchIsAbortable: a failed batch turns an open transaction
// abortable with that error; sends, begin and commit then fail with it,
// queued batches are to be failed with it, and an abort (which needs no
// EndTxn when nothing reached the coordinator) leads back to READY.
func TestTxnFailedBatchIsAbortable(t *testing.T) {
	m := newTestTxn(t)
	force(m, TxnStateInTransaction)
	cause := &BatchError{Topic: "t", Partition: 1, Err: protocol.ErrTopicAuthorizationFailed}
	m.Failed(batch("t", 1), cause)

	assert.Equal(t, TxnStateAbortableError, m.State())
	for _, err := range []error{m.AcquireSend(), m.BeginTransaction(), m.CommitTransaction(context.Background()), m.AbortQueued()} {
		require.ErrorIs(t, err, ErrTxnAbortable)
		require.ErrorIs(t, err, protocol.ErrTopicAuthorizationFailed)
		var ae *TxnAbortableError
		require.ErrorAs(t, err, &ae)
		assert.Same(t, cause, ae.Err)
	}
	assert.NoError(t, m.Err(), "abortable is not fatal")
	assert.True(t, m.Ready(0), "nothing drains, but the loop need not spin")
	assert.False(t, m.Allow(batch("t", 1), 0), "no batch leaves a failed transaction")

	// A second failure keeps the first error.
	m.Failed(batch("t", 2), errors.New("later"))
	var ae *TxnAbortableError
	require.ErrorAs(t, m.AbortQueued(), &ae)
	assert.Same(t, cause, ae.Err)

	require.NoError(t, m.AbortTransaction(context.Background()))
	assert.Equal(t, TxnStateReady, m.State())
	assert.NoError(t, m.AbortQueued())
}

// TestTxnFatalIsSticky: fencing or authorization errors on a batch make
// the producer fatal; every later call fails with the same error, and the
// sender fails queued batches with it.
func TestTxnFatalIsSticky(t *testing.T) {
	for _, cause := range []*protocol.Error{protocol.ErrProducerFenced, protocol.ErrTransactionalIDAuthorizationFailed, protocol.ErrClusterAuthorizationFailed} {
		t.Run(cause.Name, func(t *testing.T) {
			m := newTestTxn(t)
			force(m, TxnStateInTransaction)
			m.Failed(batch("t", 0), &BatchError{Topic: "t", Err: cause})
			m.Failed(batch("t", 0), &BatchError{Topic: "t", Err: protocol.ErrInvalidRecord}) // too late to matter
			assert.Equal(t, TxnStateFatalError, m.State())
			ctx := context.Background()
			for _, err := range []error{m.AcquireSend(), m.BeginTransaction(), m.CommitTransaction(ctx), m.AbortTransaction(ctx),
				m.InitTransactions(ctx), m.SendOffsetsToTransaction(ctx, TxnGroup{GroupID: "g"}, nil), m.Err()} {
				require.ErrorIs(t, err, ErrTxnFatal)
				require.ErrorIs(t, err, cause)
			}
			assert.False(t, m.Ready(0))
		})
	}
}

// TestTxnAbortingIgnoresBatchFailures: while an abort is in progress,
// failing batches (those it aborts, or answers of requests in flight) do
// not change the state, and queued batches fail with ErrTxnAborted.
func TestTxnAbortingIgnoresBatchFailures(t *testing.T) {
	m := newTestTxn(t)
	force(m, TxnStateAborting)
	m.Failed(batch("t", 0), ErrTxnAborted)
	m.Failed(batch("t", 0), &BatchError{Err: protocol.ErrInvalidProducerEpoch})
	assert.Equal(t, TxnStateAborting, m.State())
	assert.ErrorIs(t, m.AbortQueued(), ErrTxnAborted)
	assert.ErrorIs(t, m.AbortQueued(), accumulator.ErrAborted)
}

// TestTxnStampedFailureBumpsEpochAfterAbort: a batch that failed with a
// sequence leaves a hole, which the abort must repair with an epoch bump
// (transaction version 1); a batch that failed before it was stamped does
// not.
func TestTxnStampedFailureBumpsEpochAfterAbort(t *testing.T) {
	m := newTestTxn(t)
	force(m, TxnStateInTransaction)
	m.Failed(batch("t", 0), ErrTxnAborted)
	m.mu.Lock()
	assert.False(t, m.seqGap)
	m.mu.Unlock()
	b := batch("t", 0)
	b.BaseSequence = 0
	m.Failed(b, &BatchError{Err: protocol.ErrInvalidRecord})
	m.mu.Lock()
	assert.True(t, m.seqGap)
	m.mu.Unlock()
	assert.False(t, m.CanRetry(b, protocol.ErrOutOfOrderSequenceNumber), "no epoch bump behind the transaction's back")
}

// TestTxnProduceVersion: Produce stops at v11 unless transaction version 2
// is on (v12 asks the broker to add partitions implicitly).
func TestTxnProduceVersion(t *testing.T) {
	m := newTestTxn(t)
	assert.Equal(t, int16(11), m.ProduceVersion(12))
	assert.Equal(t, int16(9), m.ProduceVersion(9))
	m.tv2.Store(true)
	assert.Equal(t, int16(12), m.ProduceVersion(12))
}

// TestTxnGateWaitsForAddPartitions: with transaction version 1 a
// partition's batches stay queued until the partition is added, and the
// gate asks for the add; with version 2 they go at once, and every batch
// is stamped transactional.
func TestTxnGateWaitsForAddPartitions(t *testing.T) {
	m := newTestTxn(t)
	force(m, TxnStateInTransaction)
	b := batch("t", 4)
	assert.False(t, m.Allow(b, 1))
	m.mu.Lock()
	assert.True(t, m.pending[topicPartition{Topic: "t", Partition: 4}] || m.adding != nil, "the gate asked for AddPartitionsToTxn")
	m.added[topicPartition{Topic: "t", Partition: 4}] = true
	m.mu.Unlock()
	assert.True(t, m.Allow(b, 1))
	o := m.Options(b)
	assert.True(t, o.Transactional)
	assert.Equal(t, int64(7), o.ProducerID)
	assert.Equal(t, int16(3), o.ProducerEpoch)

	m.tv2.Store(true)
	assert.True(t, m.Allow(batch("u", 0), 1))
}

// TestTxnClassify: the coordinator's answers map to retry, re-find,
// abortable or fatal as in the Java client.
func TestTxnClassify(t *testing.T) {
	const (
		retry, refind, abortable, fatal = "retry", "refind", "abortable", "fatal"
	)
	cases := []struct {
		err  *protocol.Error
		want string
	}{
		{protocol.ErrNotCoordinator, refind},
		{protocol.ErrCoordinatorNotAvailable, refind},
		{protocol.ErrCoordinatorLoadInProgress, retry},
		{protocol.ErrConcurrentTransactions, retry},
		{protocol.ErrRequestTimedOut, retry},
		{protocol.ErrProducerFenced, fatal},
		{protocol.ErrInvalidProducerEpoch, fatal},
		{protocol.ErrTransactionalIDAuthorizationFailed, fatal},
		{protocol.ErrClusterAuthorizationFailed, fatal},
		{protocol.ErrInvalidTxnState, fatal},
		{protocol.ErrUnknownServerError, fatal},
		{protocol.ErrTransactionAbortable, abortable},
		{protocol.ErrUnknownProducerID, abortable},
		{protocol.ErrInvalidProducerIDMapping, abortable},
	}
	for _, c := range cases {
		t.Run(c.err.Name, func(t *testing.T) {
			st, err := classify(c.err, false)
			got := map[step]string{stepRetry: retry, stepRefind: refind}[st]
			switch {
			case errors.Is(err, ErrTxnFatal):
				got = fatal
			case errors.Is(err, ErrTxnAbortable):
				got = abortable
			}
			assert.Equal(t, c.want, got)
			if c.want == fatal && c.err.Code == protocol.ErrInvalidProducerEpoch.Code {
				assert.ErrorIs(t, err, protocol.ErrProducerFenced, "a coordinator's INVALID_PRODUCER_EPOCH means fenced")
			}
		})
	}
	st, err := classify(nil, false)
	assert.Equal(t, stepDone, st)
	assert.NoError(t, err)
	_, err = classify(protocol.ErrInvalidRecord, true)
	assert.ErrorIs(t, err, ErrTxnAbortable, "unknownAbortable")
}

// TestTxnInitGivesUpWithContext: with no coordinator reachable,
// InitTransactions retries until its ctx ends, then returns to
// UNINITIALIZED so that it may be called again.
func TestTxnInitGivesUpWithContext(t *testing.T) {
	m := newTestTxn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := m.InitTransactions(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "no broker in unit tests")
	assert.Equal(t, TxnStateUninitialized, m.State())
}

func ExampleTxnStateError() {
	err := error(&TxnStateError{Op: "CommitTransaction", State: TxnStateReady})
	fmt.Println(err, errors.Is(err, ErrTxnState))
	// Output: sender: CommitTransaction is not allowed in transaction state READY true
}

// TestTxnCloseStopsRetries: a transactional call retrying against an
// unreachable coordinator gives up with ErrTxnClosed when the manager
// closes.
func TestTxnCloseStopsRetries(t *testing.T) {
	m := newTestTxn(t)
	done := make(chan error, 1)
	go func() { done <- m.InitTransactions(context.Background()) }()
	for m.State() != TxnStateInitializing {
		time.Sleep(time.Millisecond)
	}
	m.Close()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, ErrTxnClosed)
	case <-time.After(10 * time.Second):
		t.Fatal("InitTransactions kept retrying after Close")
	}
	assert.Equal(t, TxnStateUninitialized, m.State())
}

// TestTxnCannotEndWhileQueuedBatchesFail: the sender fails an aborting
// transaction's queued batches inside FailQueued, and the transaction
// cannot end (finish) until that is done. Without the guard the sender
// could read ABORTING, the abort could finish and the next transaction's
// records be queued, and the sender would then fail those with
// ErrTxnAborted (seen once in CI in TestTxnFailedRecordMakesCommitAbortable).
func TestTxnCannotEndWhileQueuedBatchesFail(t *testing.T) {
	m := newTestTxn(t)
	force(m, TxnStateAborting)
	ended := make(chan struct{})
	calls := 0
	m.FailQueued(func(err error) {
		calls++
		assert.ErrorIs(t, err, ErrTxnAborted)
		go func() { m.finish(); close(ended) }()
		// finish must wait for this call. Give it every chance to run: it
		// can never succeed while the guard holds, and without the guard
		// it gets through well within these yields.
		for range 10000 {
			runtime.Gosched()
			if m.State() != TxnStateAborting {
				t.Fatal("the transaction ended while its queued batches were failing")
			}
		}
	})
	assert.Equal(t, 1, calls)
	<-ended
	assert.Equal(t, TxnStateReady, m.State())
	m.FailQueued(func(error) { t.Error("a READY transaction has nothing to fail") })
}
