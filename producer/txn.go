package producer

// Transactions: the Java producer's transactional API (KIP-98, KIP-447,
// KIP-890). A producer configured with a transactional.id writes to
// several partitions and commits consumer offsets atomically:
//
//	p, _ := producer.New(producer.WithBootstrapServers(addr), producer.WithTransactionalID("orders-1"))
//	if err := p.InitTransactions(ctx); err != nil { ... }
//	if err := p.BeginTransaction(); err != nil { ... }
//	p.Send(ctx, rec1)
//	p.Send(ctx, rec2)
//	err := p.CommitTransaction(ctx)
//	if errors.Is(err, producer.ErrTransactionAbortable) {
//		err = p.AbortTransaction(ctx) // then a new transaction may begin
//	}
//	// errors.Is(err, producer.ErrTransactionFatal): close the producer.
//
// ClassOf (errclass.go) sorts every error of these calls into the KIP-1050
// classes and says what to do with each.
//
// The state machine, the coordinator requests and the error rules live in
// the sender package (sender.TxnManager); this file is the facade and its
// wiring.

import (
	"context"
	"errors"
	"time"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/internal/metrics"
	"github.com/tributary-go/tributary/metadata"
	"github.com/tributary-go/tributary/sender"
)

// ErrNotTransactional is returned by the transactional methods of a
// producer without a transactional.id.
var ErrNotTransactional = errors.New("producer: transactional method called on a producer without transactional.id")

// Transaction errors, matched with errors.Is; the typed errors carry the
// state or the cause.
var (
	// ErrTransactionState is matched by *TxnStateError.
	ErrTransactionState = sender.ErrTxnState
	// ErrTransactionAbortable is matched by *TxnAbortableError: abort the
	// transaction, then begin a new one.
	ErrTransactionAbortable = sender.ErrTxnAbortable
	// ErrTransactionFatal is matched by *TxnFatalError: every later call
	// fails with it; close the producer.
	ErrTransactionFatal = sender.ErrTxnFatal
	// ErrTransactionAborted fails records of an aborted transaction that
	// had not been sent. It also matches accumulator.ErrAborted.
	ErrTransactionAborted = sender.ErrTxnAborted
	// ErrTransactionNoGroup is returned by SendOffsetsToTransaction
	// without a consumer group id.
	ErrTransactionNoGroup = sender.ErrTxnNoGroup
)

// TxnStateError reports a call made in a transaction state that does not
// allow it, e.g. &TxnStateError{Op: "CommitTransaction", State: "READY"},
// or Send outside a transaction.
type TxnStateError = sender.TxnStateError

// TxnAbortableError reports a transaction that cannot commit; it unwraps
// to the cause (a failed record's error, TRANSACTION_ABORTABLE, …).
type TxnAbortableError = sender.TxnAbortableError

// TxnFatalError reports that the transactional producer cannot continue
// (e.g. protocol.ErrProducerFenced: another instance with the same
// transactional.id took over); it unwraps to the cause.
type TxnFatalError = sender.TxnFatalError

// TxnState is a transactional producer's state, named as in the Java
// client ("READY", "IN_TRANSACTION", …).
type TxnState = sender.TxnState

// The transaction states, as TransactionState and TxnStateError report
// them.
const (
	TxnStateUninitialized  = sender.TxnStateUninitialized
	TxnStateInitializing   = sender.TxnStateInitializing
	TxnStateReady          = sender.TxnStateReady
	TxnStateInTransaction  = sender.TxnStateInTransaction
	TxnStateCommitting     = sender.TxnStateCommitting
	TxnStateAborting       = sender.TxnStateAborting
	TxnStateAbortableError = sender.TxnStateAbortableError
	TxnStateFatalError     = sender.TxnStateFatalError
)

// PartitionOffset is a consumed position to commit in a transaction: the
// next offset the group should consume from Partition.
type PartitionOffset struct {
	Partition   int32
	Offset      int64
	LeaderEpoch int32 // leader epoch of the last consumed record; -1 if unknown (0 is a real epoch)
	Metadata    string
}

// GroupMetadata identifies the consumer group whose offsets a transaction
// commits. A consumer group member passes its generation and member id
// (KIP-447) so that a zombie member's commit is fenced. Without a MemberID
// the commit carries no membership (generation -1, as Java's
// ConsumerGroupMetadata(groupId)), whatever GenerationID says.
type GroupMetadata struct {
	GroupID         string
	GenerationID    int32
	MemberID        string
	GroupInstanceID *string
}

// newTxnManager builds the transaction manager for c's transactional.id.
func newTxnManager(c *config, fetcher *metadata.PoolFetcher, conns *conn.Pool, p *Producer, wake func()) *sender.TxnManager {
	return sender.NewTxnManager(sender.TxnConfig{
		TransactionalID: c.transactionalID,
		Timeout:         c.transactionTimeout,
		RequestTimeout:  c.requestTimeout,
		Backoff:         func(attempt int) time.Duration { return conn.Backoff(attempt, c.retryBackoff, c.retryBackoffMax) },
		AnyConn:         fetcher.Conn,
		Pool:            conns,
		Acc:             p.acc,
		Wake:            wake,
		Logger:          c.logger,
	})
}

// InitTransactions prepares a transactional producer; call it once, before
// the first transaction. It finds the transaction coordinator and obtains
// the producer id for transactional.id, which fences any older producer
// with the same id and has the coordinator abort that producer's unfinished
// transaction. Coordinator errors are retried until ctx ends; the call may
// then be repeated. It blocks; it is safe for concurrent use, though only
// one transactional call runs at a time.
func (p *Producer) InitTransactions(ctx context.Context) error {
	defer p.timed(metrics.TxnInitTime)()
	if p.txn == nil {
		return ErrNotTransactional
	}
	if p.closed.Load() {
		return ErrClosed
	}
	return txnErr(p.txn.InitTransactions(ctx))
}

// BeginTransaction starts a transaction; records sent until the commit or
// abort belong to it. It does not block and contacts no broker. It fails
// with a *TxnStateError unless the producer is initialized and no
// transaction is open.
func (p *Producer) BeginTransaction() error {
	defer p.timed(metrics.TxnBeginTime)()
	if p.txn == nil {
		return ErrNotTransactional
	}
	if p.closed.Load() {
		return ErrClosed
	}
	return p.txn.BeginTransaction()
}

// SendOffsetsToTransaction adds a consumer group's offsets to the open
// transaction: the group's committed offsets become offsets if and only if
// the transaction commits (read-process-write with exactly-once results).
// offsets maps topics to positions. It blocks until the group coordinator
// holds the offsets; if ctx ends first the transaction becomes abortable.
// It fails with a *TxnStateError outside a transaction.
func (p *Producer) SendOffsetsToTransaction(ctx context.Context, offsets map[string][]PartitionOffset, group GroupMetadata) error {
	defer p.timed(metrics.TxnSendOffsetsTime)()
	if p.txn == nil {
		return ErrNotTransactional
	}
	if p.closed.Load() {
		return ErrClosed
	}
	var flat []sender.TxnOffset
	for topic, ps := range offsets {
		for _, po := range ps {
			flat = append(flat, sender.TxnOffset{Topic: topic, Partition: po.Partition, Offset: po.Offset, LeaderEpoch: po.LeaderEpoch, Metadata: po.Metadata})
		}
	}
	g := sender.TxnGroup{GroupID: group.GroupID, GenerationID: group.GenerationID, MemberID: group.MemberID, GroupInstanceID: group.GroupInstanceID}
	if g.MemberID == "" {
		g.GenerationID = -1
	}
	return txnErr(p.txn.SendOffsetsToTransaction(ctx, g, flat))
}

// CommitTransaction sends every record of the transaction and waits for
// them (as Flush does); if any failed, it returns a *TxnAbortableError
// wrapping the record's error and commits nothing: call AbortTransaction.
// Otherwise the coordinator commits the transaction: its records become
// visible to read_committed consumers at once, and its offsets are
// committed. It blocks; if ctx ends first it may be called again to finish.
// Do not call it from a record's callback, which it would wait for.
func (p *Producer) CommitTransaction(ctx context.Context) error {
	defer p.timed(metrics.TxnCommitTime)()
	if p.txn == nil {
		return ErrNotTransactional
	}
	return txnErr(p.txn.CommitTransaction(ctx))
}

// AbortTransaction aborts the open (or failed) transaction: records not yet
// sent fail with ErrTransactionAborted, records in flight are waited for,
// and the coordinator marks everything the transaction wrote as aborted,
// so read_committed consumers never see it. A new transaction may then
// begin. It blocks; if ctx ends first it may be called again to finish. Do
// not call it from a record's callback.
func (p *Producer) AbortTransaction(ctx context.Context) error {
	defer p.timed(metrics.TxnAbortTime)()
	if p.txn == nil {
		return ErrNotTransactional
	}
	return txnErr(p.txn.AbortTransaction(ctx))
}

// TransactionState returns the producer's transaction state ("" for a
// producer without transactional.id). It does not block.
func (p *Producer) TransactionState() TxnState {
	if p.txn == nil {
		return ""
	}
	return p.txn.State()
}

// txnErr reports a transactional call that Close cut short as ErrClosed.
func txnErr(err error) error {
	if errors.Is(err, sender.ErrTxnClosed) {
		return ErrClosed
	}
	return err
}

// abortOnClose aborts a transaction left open at Close, best effort within
// ctx: its records would otherwise stay pending until transaction.timeout.ms.
func (p *Producer) abortOnClose(ctx context.Context) {
	if p.txn == nil || !p.txn.NeedsAbort() {
		return
	}
	if err := p.txn.AbortTransaction(ctx); err != nil {
		p.cfg.logger.Warn("producer: aborting the open transaction at close failed", "err", err)
	}
}
