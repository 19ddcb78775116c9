package producer

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/protocol"
	"github.com/tributary-go/tributary/sender"
)

// The KIP-1050 classes are checked two ways: every error code a
// transactional response can carry is injected (kfake faults on the
// request the code comes back in) into a real producer's call, and the
// error the call returns must be of the class the Java 4.x client gives
// it; and ClassOf and the errors.Is sentinels are checked on the error
// types alone.

// classCase is one injected error: the request that answers with it, the
// code, and the class the affected call must report.
type classCase struct {
	key  kmsg.Key
	code int16
	want ErrorClass
}

// retriableCodes come back until ctx ends: the call reports ClassRetriable
// (or, where the call's own rules make a timeout abortable, the case says
// so).
var retriableCodes = []int16{
	kerr.CoordinatorNotAvailable.Code, kerr.NotCoordinator.Code,
	kerr.CoordinatorLoadInProgress.Code, kerr.ConcurrentTransactions.Code,
}

var classCases = func() []classCase {
	var cs []classCase
	add := func(key kmsg.Key, want ErrorClass, codes ...int16) {
		for _, code := range codes {
			cs = append(cs, classCase{key, code, want})
		}
	}
	const (
		fenced      = 90 // PRODUCER_FENCED
		epoch       = 47 // INVALID_PRODUCER_EPOCH
		pidMapping  = 49 // INVALID_PRODUCER_ID_MAPPING
		txnIDAuth   = 53 // TRANSACTIONAL_ID_AUTHORIZATION_FAILED
		clusterAuth = 31 // CLUSTER_AUTHORIZATION_FAILED
		txnState    = 48 // INVALID_TXN_STATE
		unknownPID  = 59 // UNKNOWN_PRODUCER_ID
		abortable   = 120
		unknown     = -1 // UNKNOWN_SERVER_ERROR
	)
	add(kmsg.FindCoordinator, ClassRetriable, kerr.CoordinatorNotAvailable.Code, kerr.CoordinatorLoadInProgress.Code)
	add(kmsg.FindCoordinator, ClassInvalidConfiguration, txnIDAuth)
	add(kmsg.FindCoordinator, ClassFatal, unknown)

	add(kmsg.InitProducerID, ClassRetriable, retriableCodes...)
	add(kmsg.InitProducerID, ClassApplicationRecoverable, fenced, epoch, pidMapping)
	add(kmsg.InitProducerID, ClassInvalidConfiguration, txnIDAuth, clusterAuth, kerr.InvalidTransactionTimeout.Code)
	// TRANSACTION_ABORTABLE has no transaction to abort here; the
	// producer cannot start.
	add(kmsg.InitProducerID, ClassFatal, txnState, unknownPID, abortable, unknown)

	add(kmsg.AddPartitionsToTxn, ClassRetriable, retriableCodes...)
	add(kmsg.AddPartitionsToTxn, ClassAbortable, abortable, unknownPID, unknown)
	// The transaction is abortable, but the cause's Java 4.x type decides
	// the class (InvalidPidMappingException is application-recoverable,
	// TopicAuthorizationException invalid configuration).
	add(kmsg.AddPartitionsToTxn, ClassApplicationRecoverable, fenced, epoch, pidMapping)
	add(kmsg.AddPartitionsToTxn, ClassInvalidConfiguration, txnIDAuth, kerr.TopicAuthorizationFailed.Code)
	add(kmsg.AddPartitionsToTxn, ClassFatal, txnState)

	add(kmsg.Produce, ClassAbortable, epoch, abortable, kerr.InvalidRecord.Code)
	add(kmsg.Produce, ClassApplicationRecoverable, fenced)
	add(kmsg.Produce, ClassInvalidConfiguration, txnIDAuth, clusterAuth, kerr.TopicAuthorizationFailed.Code)

	// SendOffsetsToTransaction that runs out of time leaves the offsets
	// in doubt, so the transaction must be aborted.
	add(kmsg.AddOffsetsToTxn, ClassAbortable, retriableCodes...)
	add(kmsg.AddOffsetsToTxn, ClassAbortable, abortable, unknownPID)
	add(kmsg.AddOffsetsToTxn, ClassApplicationRecoverable, fenced, epoch, pidMapping)
	add(kmsg.AddOffsetsToTxn, ClassInvalidConfiguration, txnIDAuth, kerr.GroupAuthorizationFailed.Code)
	add(kmsg.AddOffsetsToTxn, ClassFatal, txnState, unknown)

	add(kmsg.TxnOffsetCommit, ClassAbortable, kerr.CoordinatorLoadInProgress.Code, kerr.NotCoordinator.Code)
	add(kmsg.TxnOffsetCommit, ClassAbortable, abortable, unknownPID)
	// The consumer group's member errors are ApplicationRecoverableExceptions
	// in Java 4.x: the application must rejoin the group.
	add(kmsg.TxnOffsetCommit, ClassApplicationRecoverable, fenced, epoch, kerr.UnknownMemberID.Code,
		kerr.IllegalGeneration.Code, kerr.FencedInstanceID.Code)
	add(kmsg.TxnOffsetCommit, ClassInvalidConfiguration, txnIDAuth, kerr.UnsupportedForMessageFormat.Code,
		kerr.GroupAuthorizationFailed.Code)
	add(kmsg.TxnOffsetCommit, ClassFatal, unknown)

	add(kmsg.EndTxn, ClassRetriable, retriableCodes...)
	add(kmsg.EndTxn, ClassAbortable, abortable, unknownPID)
	add(kmsg.EndTxn, ClassApplicationRecoverable, fenced, epoch, pidMapping)
	add(kmsg.EndTxn, ClassInvalidConfiguration, txnIDAuth, clusterAuth)
	add(kmsg.EndTxn, ClassFatal, txnState, unknown)
	return cs
}()

// TestErrorClassesOfInjectedErrors drives every code of classCases into a
// real producer's transactional call and checks the class of what the call
// returns: with ClassOf, with the class's errors.Is sentinel, and that no
// other class's sentinel matches. Retriable codes are answered until the
// call's ctx ends; after a retriable CommitTransaction the same call
// resumes and commits once the coordinator recovers.
func TestErrorClassesOfInjectedErrors(t *testing.T) {
	eachTxnGeneration(t, func(t *testing.T, g txnGeneration) {
		for _, tc := range classCases {
			if g.v2 && (tc.key == kmsg.AddPartitionsToTxn || tc.key == kmsg.AddOffsetsToTxn) {
				continue // transaction version 2 does not send them
			}
			name := fmt.Sprintf("%s/%s", kmsg.NameForKey(int16(tc.key)), kerr.TypedErrorForCode(tc.code).Message)
			t.Run(name, func(t *testing.T) { runClassCase(t, g, tc) })
		}
	})
}

func runClassCase(t *testing.T, g txnGeneration, tc classCase) {
	opts := append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(2, "ta")}, g.opts...)
	c, err := kfake.NewCluster(opts...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	id := "class-" + t.Name()
	retriable := false
	for _, code := range retriableCodes {
		retriable = retriable || code == tc.code
	}
	count := 1
	if retriable {
		count = -1
	}
	f := kfake.Fault{Keys: []kmsg.Key{tc.key}, Err: kerr.TypedErrorForCode(tc.code), Count: count}
	switch tc.key {
	case kmsg.TxnOffsetCommit:
		f.Group = "g"
	case kmsg.Produce:
		f.Topic = "ta"
	default:
		f.TxnID = id
	}
	// A short ctx for the call that meets a retriable fault (it can only
	// end by the ctx); a long one for everything else.
	callCtx := txnCtx(t)
	if retriable {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(context.Background(), time.Second)
		defer cancel()
	}

	p := startProducer(t, c, WithTransactionalID(id), WithLinger(time.Millisecond), WithRetryBackoff(5*time.Millisecond, 50*time.Millisecond))
	var h *kfake.FaultHandle
	if tc.key == kmsg.FindCoordinator || tc.key == kmsg.InitProducerID {
		h = c.Fault(f)
		err = p.InitTransactions(callCtx)
	} else {
		require.NoError(t, p.InitTransactions(txnCtx(t)))
		require.NoError(t, p.BeginTransaction())
		h = c.Fault(f)
		fut := p.Send(txnCtx(t), &Record{Topic: "ta", Partition: 0, UsePartition: true, Value: []byte("v")})
		switch tc.key {
		case kmsg.AddOffsetsToTxn, kmsg.TxnOffsetCommit:
			_, err = fut.Get(txnCtx(t))
			require.NoError(t, err)
			err = p.SendOffsetsToTransaction(callCtx, map[string][]PartitionOffset{"ta": {{Partition: 0, Offset: 1, LeaderEpoch: -1}}}, GroupMetadata{GroupID: "g"})
		case kmsg.Produce:
			_, recErr := fut.Get(txnCtx(t))
			require.Error(t, recErr)
			assert.ErrorIs(t, recErr, protocol.ErrorForCode(tc.code), "the record's own error")
			err = p.CommitTransaction(callCtx)
		default:
			err = p.CommitTransaction(callCtx)
		}
	}
	t.Logf("%v", err)
	require.Error(t, err)
	assert.Positive(t, h.Hits(), "the fault was met")
	checkClass(t, err, tc.want)
	if !retriable {
		cause := protocol.ErrorForCode(tc.code)
		if tc.code == kerr.InvalidProducerEpoch.Code && tc.key != kmsg.Produce {
			// From a coordinator it means fenced, as in Java's handlers.
			cause = protocol.ErrProducerFenced
		}
		assert.ErrorIs(t, err, cause, "the cause is kept")
	}

	switch {
	case tc.want == ClassRetriable && tc.key == kmsg.EndTxn:
		h.Remove()
		require.NoError(t, p.CommitTransaction(txnCtx(t)), "the same call resumes the commit")
		assert.Equal(t, TxnStateReady, p.TransactionState())
	case errors.Is(err, ErrTransactionAbortable):
		// An abortable transaction, whatever the class says the
		// application must do next: the abort itself works.
		assert.Equal(t, TxnStateAbortableError, p.TransactionState())
		if tc.want != ClassAbortable {
			require.NoError(t, p.AbortTransaction(txnCtx(t)), "the transaction can still be aborted")
			assert.Equal(t, TxnStateReady, p.TransactionState())
		}
	case tc.want == ClassAbortable:
		t.Errorf("an abortable class without an abortable transaction: %v", err)
	case tc.want == ClassApplicationRecoverable || tc.key != kmsg.FindCoordinator && tc.want == ClassInvalidConfiguration ||
		tc.want == ClassFatal && tc.key != kmsg.FindCoordinator:
		assert.Equal(t, TxnStateFatalError, p.TransactionState())
		// Every later call reports the same class.
		checkClass(t, p.BeginTransaction(), tc.want)
	}
}

// checkClass asserts err's class by ClassOf and by sentinels.
func checkClass(t *testing.T, err error, want ErrorClass) {
	t.Helper()
	assert.Equal(t, want.String(), ClassOf(err).String(), "ClassOf(%v)", err)
	for _, c := range []ErrorClass{ClassRetriable, ClassAbortable, ClassApplicationRecoverable, ClassInvalidConfiguration, ClassFatal} {
		if c == want {
			assert.ErrorIs(t, err, c.Sentinel(), "class %s", c)
		} else {
			assert.NotErrorIs(t, err, c.Sentinel(), "class %s", c)
		}
	}
}

// TestClassOf checks ClassOf on the error types and raw causes, and that
// only the outermost classed error answers to a class sentinel.
func TestClassOf(t *testing.T) {
	deadline := &sender.TxnRetriableError{Op: "CommitTransaction", Err: context.DeadlineExceeded, Last: protocol.ErrConcurrentTransactions}
	for _, tc := range []struct {
		name     string
		err      error
		want     ErrorClass
		sentinel bool // errors.Is matches the class sentinel
	}{
		{"nil", nil, ClassNone, false},
		{"retriable call", deadline, ClassRetriable, true},
		{"retriable call wrapped", fmt.Errorf("ctx: %w", deadline), ClassRetriable, true},
		{"abortable", &TxnAbortableError{Err: protocol.ErrInvalidRecord}, ClassAbortable, true},
		{"abortable, topic not authorized", &TxnAbortableError{Err: protocol.ErrTopicAuthorizationFailed}, ClassInvalidConfiguration, true},
		{"abortable, id mapping lost", &TxnAbortableError{Err: protocol.ErrInvalidProducerIDMapping}, ClassApplicationRecoverable, true},
		{"abortable, member fenced", &TxnAbortableError{Err: fmt.Errorf("commit: %w", protocol.ErrFencedInstanceID)}, ClassApplicationRecoverable, true},
		{"abortable over a timeout", &TxnAbortableError{Err: fmt.Errorf("x: %w", context.DeadlineExceeded)}, ClassAbortable, true},
		{"fenced", &TxnFatalError{Err: protocol.ErrProducerFenced}, ClassApplicationRecoverable, true},
		{"fenced explained", &TxnFatalError{Err: fmt.Errorf("open too long: %w", protocol.ErrProducerFenced)}, ClassApplicationRecoverable, true},
		{"unauthorized", &TxnFatalError{Err: protocol.ErrTransactionalIDAuthorizationFailed}, ClassInvalidConfiguration, true},
		{"no common version", &TxnFatalError{Err: &protocol.NoVersionError{Key: protocol.KeyEndTxn}}, ClassInvalidConfiguration, true},
		{"abortable while aborting", &TxnFatalError{Err: protocol.ErrTransactionAbortable}, ClassFatal, true},
		{"invalid state", &TxnFatalError{Err: protocol.ErrInvalidTxnState}, ClassFatal, true},
		{"call out of order", &TxnStateError{Op: "CommitTransaction", State: TxnStateReady}, ClassFatal, true},
		{"not transactional", ErrNotTransactional, ClassInvalidConfiguration, false},
		{"closed", ErrClosed, ClassFatal, false},
		{"no group", ErrTransactionNoGroup, ClassFatal, false},
		{"raw retriable code", protocol.ErrNotEnoughReplicas, ClassRetriable, false},
		{"raw fencing code", protocol.ErrProducerFenced, ClassApplicationRecoverable, false},
		{"raw abortable code", protocol.ErrTransactionAbortable, ClassAbortable, false},
		{"raw epoch from Produce", &sender.BatchError{Topic: "t", Err: protocol.ErrInvalidProducerEpoch}, ClassAbortable, false},
		{"raw authentication", fmt.Errorf("sasl: %w", conn.ErrAuthentication), ClassInvalidConfiguration, false},
		{"raw delivery timeout", &sender.DeliveryTimeoutError{Topic: "t"}, ClassRetriable, false},
		{"raw other code", protocol.ErrInvalidRecord, ClassFatal, false},
		{"raw unknown", errors.New("boom"), ClassFatal, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want.String(), ClassOf(tc.err).String())
			if tc.sentinel {
				checkClass(t, tc.err, tc.want)
			}
		})
	}
}
