package producer

// KIP-1050 error classes for the transactional producer. Every error that
// InitTransactions, BeginTransaction, Send inside a transaction,
// SendOffsetsToTransaction, CommitTransaction and AbortTransaction return
// falls in one of five classes, named as in the Java 4.x client, each with
// one thing to do:
//
//	for {
//		err := process(p) // BeginTransaction, Send…, SendOffsetsToTransaction, CommitTransaction
//		switch producer.ClassOf(err) {
//		case producer.ClassNone:
//			continue
//		case producer.ClassRetriable:
//			err = p.CommitTransaction(ctx) // the same call again resumes it
//		case producer.ClassAbortable:
//			err = p.AbortTransaction(ctx) // then run the transaction again
//		case producer.ClassApplicationRecoverable:
//			// fenced: close p, rejoin the group / restore, create a new producer
//		case producer.ClassInvalidConfiguration, producer.ClassFatal:
//			// fix what the error says; close p
//		}
//	}

import (
	"errors"

	"github.com/tributary-go/tributary/sender"
)

// ErrorClass is the KIP-1050 class of a transactional producer's error: it
// tells the application what to do next. See the constants.
type ErrorClass = sender.ErrorClass

// The error classes. Their errors.Is sentinels are below.
const (
	// ClassNone is the class of a nil error.
	ClassNone = sender.ClassNone
	// ClassRetriable (Java's RetriableException): the call did not finish
	// in time, because the coordinator kept answering with retriable
	// errors (COORDINATOR_LOAD_IN_PROGRESS, CONCURRENT_TRANSACTIONS, …) or
	// records were still in flight when ctx ended. Nothing is lost: call
	// the same method again (a commit or abort resumes where it stopped;
	// InitTransactions starts over). A record's own retriable error, such
	// as a delivery timeout, also falls here; inside a transaction it
	// makes the transaction abortable, which CommitTransaction reports.
	ClassRetriable = sender.ClassRetriable
	// ClassAbortable (TransactionAbortableException): the transaction
	// cannot commit (a record failed, the coordinator answered
	// TRANSACTION_ABORTABLE or UNKNOWN_PRODUCER_ID, offsets could not be
	// added, …). Call AbortTransaction, then begin a new transaction and
	// redo its work; the producer stays usable. An abortable transaction
	// whose cause is application-recoverable or invalid configuration is
	// classed by its cause (as Java 4.x classes by the exception's type):
	// AbortTransaction still works, but redoing the transaction would fail
	// the same way.
	ClassAbortable = sender.ClassAbortable
	// ClassApplicationRecoverable (ApplicationRecoverableException):
	// another producer with the same transactional.id took over
	// (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH from a coordinator), the
	// coordinator lost the producer id (INVALID_PRODUCER_ID_MAPPING), or
	// the consumer group moved on without this member (UNKNOWN_MEMBER_ID,
	// ILLEGAL_GENERATION, FENCED_INSTANCE_ID from TxnOffsetCommit). Close
	// the producer and let the application recover (give up the
	// partitions, rejoin the group, restore from the last committed
	// state) before it creates a new producer.
	ClassApplicationRecoverable = sender.ClassApplicationRecoverable
	// ClassInvalidConfiguration (InvalidConfigurationException): the
	// producer is set up wrongly for this cluster: a transactional.id,
	// cluster, topic or group the principal may not use, failed
	// authentication, a broker without the needed API version,
	// transaction.timeout.ms above the broker's maximum, or no
	// transactional.id at all (ErrNotTransactional). Fix the configuration
	// or ACLs; a producer that reached FATAL_ERROR must be closed.
	ClassInvalidConfiguration = sender.ClassInvalidConfiguration
	// ClassFatal (any other KafkaException): the producer cannot go on
	// (INVALID_TXN_STATE, an unexpected coordinator error, an abort that
	// itself failed, a closed producer). Close it. A *TxnStateError (a
	// call out of order, such as CommitTransaction without
	// BeginTransaction) is fatal too, though it changes nothing: the
	// program is wrong.
	ClassFatal = sender.ClassFatal
)

// Class sentinels, matched with errors.Is by the errors the transactional
// calls return (*TxnRetriableError, *TxnAbortableError, *TxnFatalError,
// *TxnStateError); only the outermost of them in a chain matches. ClassOf
// classes any error, including a record's own error from its Future.
var (
	ErrClassRetriable              = sender.ErrClassRetriable
	ErrClassAbortable              = sender.ErrClassAbortable
	ErrClassApplicationRecoverable = sender.ErrClassApplicationRecoverable
	ErrClassInvalidConfiguration   = sender.ErrClassInvalidConfiguration
	ErrClassFatal                  = sender.ErrClassFatal
)

// TxnRetriableError reports a transactional call that ran out of time
// (its ctx ended) before it could finish; call it again. It matches
// ErrClassRetriable and unwraps to the context's error.
type TxnRetriableError = sender.TxnRetriableError

// ClassOf returns the KIP-1050 class of err (ClassNone for nil): that of
// the outermost transactional error in its chain, else that of its cause
// (a Kafka error, a context's error, a connection failure). It is safe for
// concurrent use and does not block.
func ClassOf(err error) ErrorClass {
	if errors.Is(err, ErrNotTransactional) {
		return ClassInvalidConfiguration
	}
	return sender.ClassOf(err) // ErrClosed falls through to ClassFatal
}
