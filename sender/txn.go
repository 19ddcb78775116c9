package sender

// Transactions (KIP-98; offsets in transactions, KIP-447; the second
// protocol generation, KIP-890 part 2).
//
// A TxnManager is the Java client's TransactionManager in Go: a state
// machine (UNINITIALIZED → INITIALIZING → READY ⇄ IN_TRANSACTION →
// COMMITTING/ABORTING → READY, with ABORTABLE_ERROR and FATAL_ERROR on the
// side) plus the requests to the transaction coordinator. It is two things
// at once, and the split decides who owns what:
//
//   - For the user's goroutines it runs InitTransactions, BeginTransaction,
//     SendOffsetsToTransaction, CommitTransaction and AbortTransaction. Each
//     blocks on the coordinator itself (there is no request queue as in
//     Java), one at a time (the op semaphore), bounded by the caller's ctx.
//   - For the sender goroutine it is the ProducerState hook: it wraps the
//     idempotence bookkeeping (sequences), stamps batches transactional,
//     holds back a partition's batches until the partition is in the
//     transaction, and hears every failed batch, which makes the
//     transaction abortable (or the producer fatal).
//
// Only the state, the partition sets and the coordinator cache are shared;
// mu guards them and is never held across a request.
//
// Partitions join a transaction in one of two ways. With transaction
// version 1 (every broker before Kafka 4.0, and 4.x clusters that did not
// finalize transaction.version 2) Send registers the partition and a
// background adder sends AddPartitionsToTxn (v0–v3, batched) while the
// records linger; the drain gate keeps the partition's batches back until
// the coordinator answers. With transaction.version ≥ 2 Produce v12 adds the
// partition implicitly, AddOffsetsToTxn is skipped (TxnOffsetCommit v5 adds
// the group), and EndTxn v5 bumps the epoch at the end of every
// transaction, so sequences restart at 0 each time.
//
// A batch that fails inside a transaction leaves the transaction unable to
// commit: the state becomes ABORTABLE_ERROR, queued batches fail, and only
// AbortTransaction leads back to READY. If the failed batch carried a
// sequence, the partition's sequence now has a hole; with version 1 the
// abort therefore ends with InitProducerId carrying the current id and
// epoch (KIP-360), which bumps the epoch and restarts sequences. Sends must
// not slip into a transaction that is ending: Send holds sendMu for reading
// while it appends, and leaving IN_TRANSACTION for COMMITTING or ABORTING
// takes it for writing.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/protocol"
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

// Is matches ErrTxnState.
func (e *TxnStateError) Is(target error) bool { return target == ErrTxnState }

// TxnAbortableError reports a transaction that cannot commit (a batch
// failed, the coordinator answered TRANSACTION_ABORTABLE, …). Abort it;
// then a new transaction may begin. It matches ErrTxnAbortable and unwraps
// to the cause.
type TxnAbortableError struct{ Err error }

func (e *TxnAbortableError) Error() string {
	return "sender: transaction must be aborted: " + e.Err.Error()
}

// Is matches ErrTxnAbortable.
func (e *TxnAbortableError) Is(target error) bool { return target == ErrTxnAbortable }

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

// Is matches ErrTxnFatal.
func (e *TxnFatalError) Is(target error) bool { return target == ErrTxnFatal }

// Unwrap returns the cause.
func (e *TxnFatalError) Unwrap() error { return e.Err }

// TxnOffset is one consumed position to commit in a transaction.
type TxnOffset struct {
	Topic       string
	Partition   int32
	Offset      int64 // the next offset to consume
	LeaderEpoch int32 // -1 if unknown
	Metadata    string
}

// TxnGroup identifies the consumer group (and, KIP-447, its member) whose
// offsets a transaction commits.
type TxnGroup struct {
	GroupID         string
	GenerationID    int32   // -1 when not a member
	MemberID        string  // "" when not a member
	GroupInstanceID *string // static membership, or nil
}

// TxnConfig holds a TxnManager's settings and collaborators.
type TxnConfig struct {
	TransactionalID string        // transactional.id
	Timeout         time.Duration // transaction.timeout.ms
	RequestTimeout  time.Duration // bounds each coordinator request
	// Backoff spaces retries of coordinator requests (attempt ≥ 1).
	Backoff func(attempt int) time.Duration
	// AnyConn returns a connection to any broker (for FindCoordinator).
	AnyConn func(ctx context.Context) (*conn.Conn, error)
	// Pool gives connections to coordinators.
	Pool *conn.Pool
	// Acc is the producer's accumulator: commit flushes it and abort
	// waits for it.
	Acc *accumulator.Accumulator
	// Wake nudges the sender goroutine.
	Wake   func()
	Logger *slog.Logger
}

// TxnManager runs a transactional producer's transactions and is its
// ProducerState. Its exported methods are safe for concurrent use; the
// transactional calls run one at a time and block on the coordinator,
// bounded by their ctx. The ProducerState methods are for the sender
// goroutine.
type TxnManager struct {
	cfg  TxnConfig
	idem *Idempotence // sequences; the id and epoch come from here, not from its own InitProducerId
	log  *slog.Logger
	tv2  atomic.Bool // transaction.version ≥ 2; set by InitTransactions, read by the sender goroutine

	op     chan struct{} // one transactional call at a time; a semaphore that honours ctx
	sendMu sync.RWMutex  // read-held by Send while it appends; write-held to leave IN_TRANSACTION

	mu      sync.Mutex
	state   TxnState                // guarded by mu
	lastErr error                   // guarded by mu: the *TxnAbortableError or *TxnFatalError of the error states
	coord   *coordinator            // guarded by mu: the transaction coordinator, nil until found
	added   map[topicPartition]bool // guarded by mu: partitions in the transaction (version 1)
	pending map[topicPartition]bool // guarded by mu: partitions waiting for AddPartitionsToTxn
	adding  chan struct{}           // guarded by mu: non-nil while the adder runs; closed when it stops
	started bool                    // guarded by mu: the coordinator may know the transaction, so it needs EndTxn
	seqGap  bool                    // guarded by mu: a stamped batch failed; bump the epoch after the abort
	closed  bool                    // guarded by mu: Close was called; no new adder
	begun   time.Time               // guarded by mu: when BeginTransaction opened the current transaction

	ctx    context.Context // cancelled by Close: stops the adder
	cancel context.CancelFunc
	wg     sync.WaitGroup // the adder goroutine
}

// NewTxnManager returns a transaction manager in state UNINITIALIZED. It
// starts no goroutine and does not contact the cluster.
func NewTxnManager(cfg TxnConfig) *TxnManager {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Backoff == nil {
		cfg.Backoff = func(int) time.Duration { return 100 * time.Millisecond }
	}
	if cfg.Wake == nil {
		cfg.Wake = func() {}
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	idem := NewIdempotence(nil, cfg.Wake, cfg.Backoff)
	idem.external = true
	ctx, cancel := context.WithCancel(context.Background())
	return &TxnManager{
		cfg: cfg, idem: idem, log: log,
		op:    make(chan struct{}, 1),
		state: TxnStateUninitialized,
		added: map[topicPartition]bool{}, pending: map[topicPartition]bool{},
		ctx: ctx, cancel: cancel,
	}
}

// State returns the current state. It does not block.
func (t *TxnManager) State() TxnState {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state
}

// ProducerID returns the current producer id and epoch (-1, -1 before
// InitTransactions).
func (t *TxnManager) ProducerID() (int64, int16) { return t.idem.ProducerID() }

// TransactionV2 reports whether transactions use the KIP-890 part 2
// protocol (the cluster finalized transaction.version ≥ 2 when
// InitTransactions ran).
func (t *TxnManager) TransactionV2() bool { return t.tv2.Load() }

// NeedsAbort reports whether a transaction is open (or failing) and should
// be aborted before the producer closes.
func (t *TxnManager) NeedsAbort() bool {
	switch t.State() {
	case TxnStateInTransaction, TxnStateAbortableError, TxnStateAborting:
		return true
	}
	return false
}

// Close stops the background AddPartitionsToTxn goroutine and waits for
// it; a transactional call still retrying gives up with ErrTxnClosed. It
// does not end the transaction; see AbortTransaction.
func (t *TxnManager) Close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.cancel()
	t.wg.Wait()
	t.idem.Close()
}

// InitTransactions finds the transaction coordinator and gets the producer
// id and epoch for the transactional id with InitProducerId, which fences
// any older producer using the same id and has the coordinator abort its
// unfinished transaction. Coordinator errors are retried with backoff until
// ctx ends; then the state returns to UNINITIALIZED and the call may be
// repeated. It blocks; it is valid only in state UNINITIALIZED.
func (t *TxnManager) InitTransactions(ctx context.Context) error {
	const op = "InitTransactions"
	if err := t.acquire(ctx); err != nil {
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

// AddPartition registers a partition the open transaction writes to, so
// that AddPartitionsToTxn runs while the record lingers (transaction
// version 1; with version 2 Produce adds it). Call it between AcquireSend
// and ReleaseSend. It does not block.
func (t *TxnManager) AddPartition(topic string, partition int32) {
	if t.tv2.Load() {
		return
	}
	t.mu.Lock()
	t.addLocked(topicPartition{topic, partition})
	t.mu.Unlock()
}

// SendOffsetsToTransaction makes the group's offsets part of the open
// transaction: they are committed for the group if and only if the
// transaction commits. With transaction version 1 it first adds the group
// with AddOffsetsToTxn; then it sends TxnOffsetCommit to the group's
// coordinator. It blocks until the offsets are stored or an error, and is
// valid only in state IN_TRANSACTION. If ctx ends first, the offsets may or
// may not be part of the transaction, which therefore becomes abortable.
func (t *TxnManager) SendOffsetsToTransaction(ctx context.Context, group TxnGroup, offsets []TxnOffset) error {
	const op = "SendOffsetsToTransaction"
	if err := t.acquire(ctx); err != nil {
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
	if err := t.acquire(ctx); err != nil {
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
		return fmt.Errorf("sender: %s: waiting for the transaction's records: %w", op, err)
	}
	if err := t.awaitAdder(ctx); err != nil {
		return fmt.Errorf("sender: %s: waiting for AddPartitionsToTxn: %w", op, err)
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
	if err := t.acquire(ctx); err != nil {
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
		return fmt.Errorf("sender: %s: waiting for records in flight: %w", op, err)
	}
	if err := t.awaitAdder(ctx); err != nil {
		return fmt.Errorf("sender: %s: waiting for AddPartitionsToTxn: %w", op, err)
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
	ae := &TxnAbortableError{Err: err}
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

func (t *TxnManager) acquire(ctx context.Context) error {
	select {
	case t.op <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (t *TxnManager) release() { <-t.op }

// awaitBatches waits until every batch the accumulator holds has completed
// (and its callbacks ran), or ctx ends.
func (t *TxnManager) awaitBatches(ctx context.Context) error {
	for _, released := range t.cfg.Acc.Incomplete() {
		select {
		case <-released:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// awaitAdder waits until no AddPartitionsToTxn is running, so that EndTxn
// cannot overtake it.
func (t *TxnManager) awaitAdder(ctx context.Context) error {
	for {
		t.mu.Lock()
		ch := t.adding
		t.mu.Unlock()
		if ch == nil {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// addLocked queues tp for AddPartitionsToTxn and starts the adder if it
// is not running. t.mu is held.
func (t *TxnManager) addLocked(tp topicPartition) {
	if t.added[tp] || t.pending[tp] || t.closed {
		return
	}
	if t.state != TxnStateInTransaction && t.state != TxnStateCommitting {
		return
	}
	t.pending[tp] = true
	if t.adding == nil {
		t.adding = make(chan struct{})
		t.wg.Add(1)
		go t.runAdder(t.adding)
	}
}

// runAdder is the adder goroutine, owned by the TxnManager: it adds the
// pending partitions with AddPartitionsToTxn, batching whatever queued up
// meanwhile into the next request, and stops when none is pending, the
// transaction is no longer open, or Close cancels t.ctx. done is closed on
// exit, under mu, as adding is reset.
func (t *TxnManager) runAdder(done chan struct{}) {
	defer t.wg.Done()
	attempt := 0
	for {
		t.mu.Lock()
		open := t.state == TxnStateInTransaction || t.state == TxnStateCommitting
		if len(t.pending) == 0 || !open || t.ctx.Err() != nil {
			t.adding = nil
			close(done)
			t.mu.Unlock()
			return
		}
		tps := make([]topicPartition, 0, len(t.pending))
		for tp := range t.pending {
			tps = append(tps, tp)
		}
		t.mu.Unlock()

		id, epoch := t.idem.ProducerID()
		added, st, err := t.addPartitionsOnce(t.ctx, tps, id, epoch)
		if len(added) > 0 {
			t.mu.Lock()
			for _, tp := range added {
				delete(t.pending, tp)
				t.added[tp] = true
			}
			t.started = true
			t.mu.Unlock()
			t.cfg.Wake()
		}
		switch st {
		case stepDone:
			attempt = 0
			if err != nil {
				_ = t.settle(err)
				t.cfg.Wake()
			}
			continue
		case stepRefind:
			t.forgetCoordinator()
		}
		attempt++
		t.log.Debug("retrying AddPartitionsToTxn", "err", err, "attempt", attempt)
		timer := time.NewTimer(t.cfg.Backoff(attempt))
		select {
		case <-timer.C:
		case <-t.ctx.Done():
			timer.Stop()
		}
	}
}
