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
//
// The files split by responsibility: this one holds the type and its
// lifetime; txn_state.go the states, their errors and the transitions;
// txn_ops.go the user's calls; txn_adder.go the AddPartitionsToTxn
// goroutine; txn_requests.go the coordinator requests; txn_gate.go the
// sender-side hooks.

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/internal/conn"
)

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
	// endMu is held by the sender while it fails the queued batches of an
	// aborting or abortable transaction (FailQueued), and by finish, which
	// ends the transaction: the sender cannot read ABORTING, see the
	// transaction end and the next one's records queued, and then fail
	// those. Taken before mu.
	endMu sync.Mutex

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
