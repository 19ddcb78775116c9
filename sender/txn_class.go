package sender

// Error classes of the transactional producer (KIP-1050). The Java 4.x
// client sorts every error a transactional call can raise into five
// classes, by what the application must do next: RetriableException (call
// again), TransactionAbortableException (abort, then run the transaction
// again), ApplicationRecoverableException (the producer is fenced: close it
// and recover at the application level, e.g. rebalance or restore),
// InvalidConfigurationException (fix the configuration, ACLs or broker)
// and everything else, fatal (close the producer). Here the class follows
// from the error types the state machine already uses and from the cause,
// as Java 4.x classes an error by its exception type
// (org.apache.kafka.common.errors: InvalidPidMappingException,
// ProducerFencedException, UnknownMemberIdException, … extend
// ApplicationRecoverableException; every AuthorizationException extends
// InvalidConfigurationException): a *TxnAbortableError is abortable unless
// its cause is application-recoverable or invalid configuration (the
// transaction can still be aborted, but running it again would fail the
// same way: the application must recover, or the ACLs be fixed), a
// *TxnFatalError is classed by its cause (fencing is
// application-recoverable, authorization and version trouble is invalid
// configuration, the rest fatal), and a call that ran out of time on
// retriable answers returns a *TxnRetriableError.
//
// The class sentinels are matched with errors.Is by the typed errors
// themselves, so only the outermost classed error of a chain decides; ClassOf
// also classes raw causes (a record's own error, a bare Kafka error).

import (
	"context"
	"errors"
	"fmt"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/protocol"
)

// ErrorClass is the KIP-1050 class of a transactional producer's error.
type ErrorClass uint8

// The error classes, as KIP-1050 names them. ClassNone is the class of a
// nil error.
const (
	ClassNone ErrorClass = iota
	ClassRetriable
	ClassAbortable
	ClassApplicationRecoverable
	ClassInvalidConfiguration
	ClassFatal
)

// Sentinels matched by errors.Is for each class.
var (
	ErrClassRetriable              = errors.New("producer: retriable transactional error: call again")
	ErrClassAbortable              = errors.New("producer: abortable transactional error: abort the transaction, then retry it")
	ErrClassApplicationRecoverable = errors.New("producer: application-recoverable transactional error: close the producer and recover in the application")
	ErrClassInvalidConfiguration   = errors.New("producer: transactional error from invalid configuration: fix the configuration")
	ErrClassFatal                  = errors.New("producer: fatal transactional error: close the producer")
)

// String returns the class name in KIP-1050 terms.
func (c ErrorClass) String() string {
	switch c {
	case ClassNone:
		return "none"
	case ClassRetriable:
		return "retriable"
	case ClassAbortable:
		return "abortable"
	case ClassApplicationRecoverable:
		return "application-recoverable"
	case ClassInvalidConfiguration:
		return "invalid-configuration"
	case ClassFatal:
		return "fatal"
	}
	return fmt.Sprintf("ErrorClass(%d)", uint8(c))
}

// Sentinel returns the errors.Is sentinel of the class (nil for ClassNone).
func (c ErrorClass) Sentinel() error {
	switch c {
	case ClassRetriable:
		return ErrClassRetriable
	case ClassAbortable:
		return ErrClassAbortable
	case ClassApplicationRecoverable:
		return ErrClassApplicationRecoverable
	case ClassInvalidConfiguration:
		return ErrClassInvalidConfiguration
	case ClassFatal:
		return ErrClassFatal
	}
	return nil
}

// TxnRetriableError reports a transactional call that did not finish
// before its context ended while the coordinator
// kept answering with retriable errors or the records were still in
// flight. Nothing was lost: calling the same method again resumes it (a
// commit or abort in progress finishes; InitTransactions starts again). It
// matches ErrClassRetriable and unwraps to the context's error.
type TxnRetriableError struct {
	Op   string // the call, e.g. "CommitTransaction"
	What string // what it was waiting for, if not a coordinator's answer
	Err  error  // ctx.Err()
	Last error  // the last attempt's error, if any (not unwrapped)

	settled bool // wrapped into a *TxnAbortableError: that class decides
}

func (e *TxnRetriableError) Error() string {
	if e.What != "" {
		return fmt.Sprintf("sender: %s: %s: %v", e.Op, e.What, e.Err)
	}
	return fmt.Sprintf("sender: %s: %v (last error: %v)", e.Op, e.Err, e.Last)
}

// Is matches ErrClassRetriable.
func (e *TxnRetriableError) Is(target error) bool { return !e.settled && target == ErrClassRetriable }

// Unwrap returns the context's error.
func (e *TxnRetriableError) Unwrap() error { return e.Err }

// unclassed returns err with a *TxnRetriableError at its top marked as
// no longer deciding the class, before err is wrapped as abortable.
func unclassed(err error) error {
	if re, ok := err.(*TxnRetriableError); ok {
		c := *re
		c.settled = true
		return &c
	}
	return err
}

// ClassOf returns the KIP-1050 class of err: that of the outermost
// transactional error in its chain, else the class of its cause (a Kafka
// error, a context's error, a connection failure). It does not block.
func ClassOf(err error) ErrorClass {
	if err == nil {
		return ClassNone
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		switch x := e.(type) {
		case *TxnFatalError:
			return fatalClass(x.Err)
		case *TxnAbortableError:
			return abortableClass(x.Err)
		case *TxnRetriableError:
			if !x.settled {
				return ClassRetriable
			}
		case *TxnStateError:
			return ClassFatal
		}
	}
	// A chain that branches (errors.Join) is searched depth first.
	var (
		fe *TxnFatalError
		ae *TxnAbortableError
		se *TxnStateError
	)
	switch {
	case errors.As(err, &fe):
		return fatalClass(fe.Err)
	case errors.As(err, &ae):
		return abortableClass(ae.Err)
	case errors.As(err, &se), errors.Is(err, ErrTxnNoGroup), errors.Is(err, ErrTxnClosed):
		return ClassFatal
	}
	return causeClass(err)
}

// fatalClass classes the cause of a *TxnFatalError: the producer is done
// for, and the cause says why.
func fatalClass(cause error) ErrorClass {
	switch c := causeClass(cause); c {
	case ClassApplicationRecoverable, ClassInvalidConfiguration:
		return c
	}
	return ClassFatal
}

// abortableClass classes the cause of a *TxnAbortableError: abortable,
// unless the cause's own class says that aborting and running the
// transaction again cannot help (Java 4.x throws the cause, whose type
// decides: INVALID_PRODUCER_ID_MAPPING from EndTxn, AddPartitionsToTxn or
// AddOffsetsToTxn is an InvalidPidMappingException, an
// ApplicationRecoverableException; a topic or group authorization failure
// is an InvalidConfigurationException).
func abortableClass(cause error) ErrorClass {
	switch c := causeClass(cause); c {
	case ClassApplicationRecoverable, ClassInvalidConfiguration:
		return c
	}
	return ClassAbortable
}

// causeClass classes a raw cause, after the Java 4.x exception types:
// ProducerFencedException, InvalidPidMappingException and the consumer
// group's UnknownMemberIdException, IllegalGenerationException and
// FencedInstanceIdException are ApplicationRecoverableExceptions;
// authorization, authentication, unsupported versions and invalid
// settings need the configuration fixed; TransactionAbortableException is
// abortable; RetriableException (and a timeout) retriable.
func causeClass(err error) ErrorClass {
	var nv *protocol.NoVersionError
	var ke *protocol.Error
	switch {
	case errors.Is(err, protocol.ErrProducerFenced), errors.Is(err, protocol.ErrInvalidProducerIDMapping),
		errors.Is(err, protocol.ErrUnknownMemberID), errors.Is(err, protocol.ErrIllegalGeneration),
		errors.Is(err, protocol.ErrFencedInstanceID):
		return ClassApplicationRecoverable
	case errors.Is(err, protocol.ErrTransactionalIDAuthorizationFailed), errors.Is(err, protocol.ErrClusterAuthorizationFailed),
		errors.Is(err, protocol.ErrTopicAuthorizationFailed), errors.Is(err, protocol.ErrGroupAuthorizationFailed),
		errors.Is(err, protocol.ErrUnsupportedVersion), errors.Is(err, protocol.ErrUnsupportedForMessageFormat),
		errors.Is(err, protocol.ErrInvalidConfig), errors.Is(err, protocol.ErrInvalidTransactionTimeout),
		errors.Is(err, protocol.ErrSecurityDisabled), errors.Is(err, conn.ErrAuthentication), errors.As(err, &nv):
		return ClassInvalidConfiguration
	case errors.Is(err, protocol.ErrTransactionAbortable), errors.Is(err, protocol.ErrInvalidProducerEpoch):
		// INVALID_PRODUCER_EPOCH reaches a caller raw only from Produce,
		// where it makes the transaction abortable (KIP-588); from a
		// coordinator it is turned into PRODUCER_FENCED.
		return ClassAbortable
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, accumulator.ErrDeliveryTimeout), errors.Is(err, conn.ErrRequestTimeout),
		errors.Is(err, conn.ErrSetupTimeout), errors.Is(err, conn.ErrClosed):
		return ClassRetriable
	case errors.As(err, &ke):
		if ke.Retriable {
			return ClassRetriable
		}
	}
	var ne *NetworkError
	var de *conn.DialError
	var oe *conn.OpError
	if errors.As(err, &ne) || errors.As(err, &de) || errors.As(err, &oe) {
		return ClassRetriable
	}
	return ClassFatal
}
