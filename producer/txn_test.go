package producer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/tributary-go/tributary/protocol"
)

// Transactions are tested against kfake in both protocol generations and
// verified with franz-go consumers in read_committed and read_uncommitted
// modes. Every test ends by sealing the partitions it wrote: a committed
// marker record per partition, written by another transactional producer.
// A consumer that has read every marker has read every earlier record, so
// "absent" is an honest assertion, not a timed one.

// txnWait bounds every wait in these tests; it guards against hangs and is
// never an assertion about speed.
const txnWait = 15 * time.Second

// txnGeneration is a broker generation the transaction tests run against.
type txnGeneration struct {
	name string
	opts []kfake.Opt
	v2   bool // transaction.version 2: Produce v12, EndTxn v5, no AddPartitionsToTxn
}

var txnGenerations = []txnGeneration{
	{name: "kafka-3.9", opts: []kfake.Opt{kfake.MaxVersions(kversion.V3_9_0())}},
	{name: "kafka-4.x-tv2", v2: true},
}

func eachTxnGeneration(t *testing.T, fn func(t *testing.T, g txnGeneration)) {
	for _, g := range txnGenerations {
		t.Run(g.name, func(t *testing.T) { fn(t, g) })
	}
}

// txnTopics are the topics every transaction test cluster has.
var txnTopics = map[string]int32{"ta": 3, "tb": 2}

func newTxnCluster(t *testing.T, g txnGeneration) *kfake.Cluster {
	t.Helper()
	opts := append([]kfake.Opt{kfake.NumBrokers(3), kfake.SeedTopics(3, "ta"), kfake.SeedTopics(2, "tb")}, g.opts...)
	c, err := kfake.NewCluster(opts...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func txnCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), txnWait)
	t.Cleanup(cancel)
	return ctx
}

// newTxnProducer returns an initialized transactional producer.
func newTxnProducer(t *testing.T, c *kfake.Cluster, id string, opts ...Option) *Producer {
	t.Helper()
	all := append([]Option{WithTransactionalID(id), WithLinger(2 * time.Millisecond), WithRetryBackoff(5*time.Millisecond, 50*time.Millisecond)}, opts...)
	p := startProducer(t, c, all...)
	require.NoError(t, p.InitTransactions(txnCtx(t)))
	return p
}

// sendTo sends one record per listed partition of topic, valued
// prefix-topic-partition, and returns the futures and values.
func sendTo(t *testing.T, p *Producer, prefix, topic string, partitions ...int32) ([]*Future, []string) {
	t.Helper()
	var fs []*Future
	var vals []string
	for _, part := range partitions {
		v := fmt.Sprintf("%s-%s-%d", prefix, topic, part)
		fs = append(fs, p.Send(txnCtx(t), &Record{Topic: topic, Partition: part, UsePartition: true, Value: []byte(v)}))
		vals = append(vals, v)
	}
	return fs, vals
}

// sendAll sends prefix records to every partition of every test topic and
// waits for their acknowledgements.
func sendAll(t *testing.T, p *Producer, prefix string) []string {
	t.Helper()
	var vals []string
	for topic, n := range txnTopics {
		parts := make([]int32, n)
		for i := range parts {
			parts[i] = int32(i)
		}
		fs, vs := sendTo(t, p, prefix, topic, parts...)
		require.NoError(t, p.Flush(txnCtx(t)))
		for _, f := range fs {
			_, err := f.Get(txnCtx(t))
			require.NoError(t, err)
		}
		vals = append(vals, vs...)
	}
	return vals
}

// seal commits a marker record to every partition with a producer of its
// own transactional id.
func seal(t *testing.T, c *kfake.Cluster) {
	t.Helper()
	p := newTxnProducer(t, c, "sealer")
	require.NoError(t, p.BeginTransaction())
	for topic, n := range txnTopics {
		for part := range n {
			p.Send(txnCtx(t), &Record{Topic: topic, Partition: part, UsePartition: true, Key: []byte("marker")})
		}
	}
	require.NoError(t, p.CommitTransaction(txnCtx(t)))
}

// consumeSealed reads every test partition up to its marker with franz-go
// at the given isolation level and returns the other records' values,
// sorted.
func consumeSealed(t *testing.T, c *kfake.Cluster, committed bool) []string {
	t.Helper()
	level := kgo.ReadUncommitted()
	if committed {
		level = kgo.ReadCommitted()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("ta", "tb"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(level), kgo.FetchMaxWait(100*time.Millisecond))
	require.NoError(t, err)
	defer cl.Close()
	want := 0
	for _, n := range txnTopics {
		want += int(n)
	}
	sealed := map[string]bool{}
	var vals []string
	ctx := txnCtx(t)
	for len(sealed) < want {
		fs := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "saw %d of %d markers", len(sealed), want)
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Key) == "marker" {
				sealed[fmt.Sprintf("%s-%d", r.Topic, r.Partition)] = true
				return
			}
			vals = append(vals, string(r.Value))
		})
	}
	slices.Sort(vals)
	return vals
}

func sorted(groups ...[]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	slices.Sort(out)
	return out
}

// txnObserver records the transactional requests a cluster receives.
type txnObserver struct {
	mu       sync.Mutex
	versions map[int16][]int16 // api key → versions seen
	produce  []*kmsg.ProduceRequest
}

func observeTxn(c *kfake.Cluster) *txnObserver {
	o := &txnObserver{versions: map[int16][]int16{}}
	for _, k := range []kmsg.Key{kmsg.Produce, kmsg.InitProducerID, kmsg.AddPartitionsToTxn, kmsg.AddOffsetsToTxn, kmsg.EndTxn, kmsg.TxnOffsetCommit} {
		c.ControlKey(int16(k), func(r kmsg.Request) (kmsg.Response, error, bool) {
			c.KeepControl()
			o.mu.Lock()
			defer o.mu.Unlock()
			o.versions[r.Key()] = append(o.versions[r.Key()], r.GetVersion())
			if pr, ok := r.(*kmsg.ProduceRequest); ok {
				o.produce = append(o.produce, pr)
			}
			return nil, nil, false
		})
	}
	return o
}

func (o *txnObserver) seen(k kmsg.Key) []int16 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.versions[int16(k)])
}

// checkGeneration asserts that the producer spoke g's transaction protocol
// and stamped every batch transactional.
func (o *txnObserver) checkGeneration(t *testing.T, g txnGeneration) {
	t.Helper()
	require.NotEmpty(t, o.seen(kmsg.EndTxn))
	if g.v2 {
		assert.Empty(t, o.seen(kmsg.AddPartitionsToTxn), "Produce v12 adds partitions implicitly")
		for _, v := range o.seen(kmsg.Produce) {
			assert.Equal(t, int16(12), v)
		}
		for _, v := range o.seen(kmsg.EndTxn) {
			assert.Equal(t, int16(5), v)
		}
	} else {
		assert.NotEmpty(t, o.seen(kmsg.AddPartitionsToTxn))
		for _, v := range o.seen(kmsg.AddPartitionsToTxn) {
			assert.LessOrEqual(t, v, int16(3), "the client form of AddPartitionsToTxn")
		}
		for _, v := range o.seen(kmsg.Produce) {
			assert.LessOrEqual(t, v, int16(11))
		}
		for _, v := range o.seen(kmsg.EndTxn) {
			assert.LessOrEqual(t, v, int16(4))
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range o.produce {
		require.NotNil(t, r.TransactionID)
		for _, tp := range r.Topics {
			for _, pp := range tp.Partitions {
				var b kmsg.RecordBatch
				require.NoError(t, b.ReadFrom(pp.Records))
				assert.NotZero(t, b.Attributes&0x10, "transactional batch")
				assert.GreaterOrEqual(t, b.ProducerID, int64(0))
			}
		}
	}
}

// TestTxnCommitAndAbortVisibility: committed transactions are visible
// whole, across two topics and every partition; aborted ones (whether
// their records were acknowledged before the abort or still queued) never
// reach a read_committed consumer, while read_uncommitted sees what was
// written.
func TestTxnCommitAndAbortVisibility(t *testing.T) {
	eachTxnGeneration(t, func(t *testing.T, g txnGeneration) {
		c := newTxnCluster(t, g)
		obs := observeTxn(c)
		p := newTxnProducer(t, c, "vis", WithLinger(time.Hour)) // nothing leaves before a flush or commit
		ctx := txnCtx(t)

		require.NoError(t, p.BeginTransaction())
		c1 := sendAll(t, p, "c1")
		require.NoError(t, p.CommitTransaction(ctx))
		_, epoch1 := p.txn.ProducerID()

		require.NoError(t, p.BeginTransaction())
		a1 := sendAll(t, p, "a1") // acknowledged, then aborted
		require.NoError(t, p.AbortTransaction(ctx))

		require.NoError(t, p.BeginTransaction())
		fs, _ := sendTo(t, p, "a2", "ta", 0, 1, 2) // aborted while lingering
		require.NoError(t, p.AbortTransaction(ctx))
		for _, f := range fs {
			_, err := f.Get(ctx)
			require.ErrorIs(t, err, ErrTransactionAborted, "unsent records fail with the abort")
		}

		require.NoError(t, p.BeginTransaction())
		fs, c2 := sendTo(t, p, "c2", "tb", 0, 1)
		require.NoError(t, p.CommitTransaction(ctx)) // flushes the lingering records
		for _, f := range fs {
			_, err := f.Get(ctx)
			require.NoError(t, err)
		}
		_, epoch2 := p.txn.ProducerID()
		if g.v2 {
			assert.Greater(t, epoch2, epoch1, "EndTxn v5 bumps the epoch every transaction")
		}
		assert.Equal(t, TxnState("READY"), p.TransactionState())
		assert.Equal(t, g.v2, p.txn.TransactionV2())
		obs.checkGeneration(t, g)

		seal(t, c)
		assert.Equal(t, sorted(c1, c2), consumeSealed(t, c, true))
		assert.Equal(t, sorted(c1, a1, c2), consumeSealed(t, c, false))
	})
}

// fetchOffsets returns the group's committed offsets for topic ta.
func fetchOffsets(t *testing.T, c *kfake.Cluster, group string) map[int32]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	require.NoError(t, err)
	defer cl.Close()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic, rt.Partitions = "ta", []int32{0, 1, 2}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(txnCtx(t), cl)
	require.NoError(t, err)
	out := map[int32]int64{}
	if resp.ErrorCode == kerr.GroupIDNotFound.Code {
		return out // nothing committed yet
	}
	require.NoError(t, kerr.ErrorForCode(resp.ErrorCode))
	for _, tp := range resp.Topics {
		for _, pp := range tp.Partitions {
			require.NoError(t, kerr.ErrorForCode(pp.ErrorCode))
			if pp.Offset >= 0 {
				out[pp.Partition] = pp.Offset
			}
		}
	}
	return out
}

// TestTxnSendOffsetsCommitOnlyWithTransaction: offsets sent with
// SendOffsetsToTransaction become the group's committed offsets when the
// transaction commits, and not when it aborts.
func TestTxnSendOffsetsCommitOnlyWithTransaction(t *testing.T) {
	eachTxnGeneration(t, func(t *testing.T, g txnGeneration) {
		c := newTxnCluster(t, g)
		obs := observeTxn(c)
		p := newTxnProducer(t, c, "offsets")
		ctx := txnCtx(t)
		group := GroupMetadata{GroupID: "g1"}

		require.NoError(t, p.BeginTransaction())
		sendAll(t, p, "x")
		require.NoError(t, p.SendOffsetsToTransaction(ctx, map[string][]PartitionOffset{"ta": {{Partition: 0, Offset: 10, LeaderEpoch: -1}, {Partition: 1, Offset: 20, LeaderEpoch: -1}}}, group))
		assert.Empty(t, fetchOffsets(t, c, "g1"), "nothing is committed before the transaction")
		require.NoError(t, p.CommitTransaction(ctx))
		assert.Equal(t, map[int32]int64{0: 10, 1: 20}, fetchOffsets(t, c, "g1"))

		require.NoError(t, p.BeginTransaction())
		sendAll(t, p, "y")
		require.NoError(t, p.SendOffsetsToTransaction(ctx, map[string][]PartitionOffset{"ta": {{Partition: 0, Offset: 99, LeaderEpoch: -1}}}, group))
		require.NoError(t, p.AbortTransaction(ctx))
		assert.Equal(t, map[int32]int64{0: 10, 1: 20}, fetchOffsets(t, c, "g1"), "an aborted transaction commits no offsets")

		// A transaction of offsets alone.
		require.NoError(t, p.BeginTransaction())
		require.NoError(t, p.SendOffsetsToTransaction(ctx, map[string][]PartitionOffset{"ta": {{Partition: 2, Offset: 7, LeaderEpoch: -1}}}, group))
		require.NoError(t, p.CommitTransaction(ctx))
		assert.Equal(t, map[int32]int64{0: 10, 1: 20, 2: 7}, fetchOffsets(t, c, "g1"))

		if g.v2 {
			assert.Empty(t, obs.seen(kmsg.AddOffsetsToTxn), "TxnOffsetCommit v5 adds the group")
			assert.Contains(t, obs.seen(kmsg.TxnOffsetCommit), int16(5))
		} else {
			assert.Len(t, obs.seen(kmsg.AddOffsetsToTxn), 3)
			for _, v := range obs.seen(kmsg.TxnOffsetCommit) {
				assert.LessOrEqual(t, v, int16(4))
			}
		}
	})
}

// TestTxnFencing: a second producer with the same transactional.id fences
// the first; the first's next call fails with PRODUCER_FENCED (at once,
// or, for a record written under the stale epoch, at the abort that its
// abortable error calls for), every later call fails the same way, and
// nothing of its open transaction becomes visible.
func TestTxnFencing(t *testing.T) {
	eachTxnGeneration(t, func(t *testing.T, g txnGeneration) {
		for _, next := range []string{"commit", "send"} {
			t.Run(next, func(t *testing.T) {
				c := newTxnCluster(t, g)
				ctx := txnCtx(t)
				p1 := newTxnProducer(t, c, "fenced")
				require.NoError(t, p1.BeginTransaction())
				fs, _ := sendTo(t, p1, "p1", "ta", 0)
				_, err := fs[0].Get(ctx)
				require.NoError(t, err)

				p2 := newTxnProducer(t, c, "fenced")
				require.NoError(t, p2.BeginTransaction())
				p2vals := sendAll(t, p2, "p2")
				require.NoError(t, p2.CommitTransaction(ctx))

				switch next {
				case "commit":
					err = p1.CommitTransaction(ctx)
				case "send":
					fs, _ = sendTo(t, p1, "p1late", "tb", 1)
					_, serr := fs[0].Get(ctx)
					require.Error(t, serr)
					err = p1.CommitTransaction(ctx)
					if errors.Is(err, ErrTransactionAbortable) {
						assert.ErrorIs(t, err, protocol.ErrInvalidProducerEpoch)
						err = p1.AbortTransaction(ctx)
					}
				}
				require.ErrorIs(t, err, ErrTransactionFatal)
				require.ErrorIs(t, err, protocol.ErrProducerFenced)
				var fe *TxnFatalError
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, TxnState("FATAL_ERROR"), p1.TransactionState())
				assert.ErrorIs(t, p1.BeginTransaction(), protocol.ErrProducerFenced)
				assert.ErrorIs(t, p1.AbortTransaction(ctx), protocol.ErrProducerFenced)
				_, err = p1.Send(ctx, &Record{Topic: "ta", Value: []byte("never")}).Get(ctx)
				assert.ErrorIs(t, err, protocol.ErrProducerFenced)

				seal(t, c)
				assert.Equal(t, sorted(p2vals), consumeSealed(t, c, true))
			})
		}
	})
}

// describeTxn returns the coordinator's state for a transactional id.
func describeTxn(t *testing.T, c *kfake.Cluster, id string) string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	require.NoError(t, err)
	defer cl.Close()
	req := kmsg.NewPtrDescribeTransactionsRequest()
	req.TransactionalIDs = []string{id}
	resp, err := req.RequestWith(txnCtx(t), cl)
	require.NoError(t, err)
	require.Len(t, resp.TransactionStates, 1)
	require.NoError(t, kerr.ErrorForCode(resp.TransactionStates[0].ErrorCode))
	return resp.TransactionStates[0].State
}

// TestTxnTimeoutAbortedByCoordinator: a transaction open longer than
// transaction.timeout.ms is aborted by the coordinator (which bumps the
// epoch); the producer learns it at the commit, which fails fatally, and
// none of the transaction's records become visible.
func TestTxnTimeoutAbortedByCoordinator(t *testing.T) {
	eachTxnGeneration(t, func(t *testing.T, g txnGeneration) {
		c := newTxnCluster(t, g)
		ctx := txnCtx(t)
		p := newTxnProducer(t, c, "slow", WithTransactionTimeout(200*time.Millisecond))
		require.NoError(t, p.BeginTransaction())
		vals := sendAll(t, p, "late")
		require.Eventually(t, func() bool { return describeTxn(t, c, "slow") != "Ongoing" }, txnWait, 20*time.Millisecond,
			"the coordinator aborts the transaction after its timeout")

		err := p.CommitTransaction(ctx)
		require.ErrorIs(t, err, ErrTransactionFatal)
		t.Logf("commit after the timeout: %v", err)
		assert.Equal(t, TxnState("FATAL_ERROR"), p.TransactionState())

		seal(t, c)
		assert.Empty(t, consumeSealed(t, c, true))
		assert.Equal(t, sorted(vals), consumeSealed(t, c, false))
	})
}

// TestTxnCoordinatorErrorsRetried: COORDINATOR_NOT_AVAILABLE,
// NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS and CONCURRENT_TRANSACTIONS
// from InitProducerId, AddPartitionsToTxn and EndTxn are retried (finding
// the coordinator again where that is the remedy) and the transaction
// commits.
func TestTxnCoordinatorErrorsRetried(t *testing.T) {
	eachTxnGeneration(t, func(t *testing.T, g txnGeneration) {
		c := newTxnCluster(t, g)
		var mu sync.Mutex
		finds := map[string]int{} // FindCoordinator requests per transactional id
		c.ControlKey(int16(kmsg.FindCoordinator), func(r kmsg.Request) (kmsg.Response, error, bool) {
			c.KeepControl()
			req := r.(*kmsg.FindCoordinatorRequest)
			if req.CoordinatorType == 1 {
				mu.Lock()
				for _, k := range append(req.CoordinatorKeys, req.CoordinatorKey) {
					finds[k]++
				}
				mu.Unlock()
			}
			return nil, nil, false
		})
		var committed []string
		for _, kerrr := range []*kerr.Error{kerr.CoordinatorNotAvailable, kerr.NotCoordinator, kerr.CoordinatorLoadInProgress, kerr.ConcurrentTransactions} {
			id := "retry-" + kerrr.Message
			keys := []kmsg.Key{kmsg.InitProducerID, kmsg.EndTxn}
			if !g.v2 {
				keys = append(keys, kmsg.AddPartitionsToTxn)
			}
			var handles []*kfake.FaultHandle
			for _, k := range keys {
				handles = append(handles, c.Fault(kfake.Fault{Keys: []kmsg.Key{k}, TxnID: id, Err: kerrr, Count: 2}))
			}
			p := newTxnProducer(t, c, id)
			require.NoError(t, p.BeginTransaction())
			committed = append(committed, sendAll(t, p, id)...)
			require.NoError(t, p.CommitTransaction(txnCtx(t)), "%s", kerrr.Message)
			for i, h := range handles {
				assert.Equal(t, 2, h.Hits(), "%s on %s", kerrr.Message, kmsg.NameForKey(int16(keys[i])))
			}
			mu.Lock()
			if kerrr == kerr.NotCoordinator || kerrr == kerr.CoordinatorNotAvailable {
				assert.Greater(t, finds[id], 2*len(keys), "the coordinator is found again after each %s", kerrr.Message)
			} else {
				assert.Equal(t, 1, finds[id], "%s is retried on the same coordinator", kerrr.Message)
			}
			mu.Unlock()
		}
		seal(t, c)
		assert.Equal(t, sorted(committed), consumeSealed(t, c, true))
	})
}

// TestTxnFailedRecordMakesCommitAbortable: a record the broker rejects
// inside a transaction makes the commit fail with an abortable error that
// wraps the record's error; sends fail the same way until the abort, after
// which a new transaction commits. INVALID_PRODUCER_EPOCH from Produce is
// abortable too (KIP-588), and the abort of a transaction with a rejected
// sequence bumps the epoch.
func TestTxnFailedRecordMakesCommitAbortable(t *testing.T) {
	eachTxnGeneration(t, func(t *testing.T, g txnGeneration) {
		for _, kerrr := range []*kerr.Error{kerr.TopicAuthorizationFailed, kerr.InvalidProducerEpoch} {
			t.Run(kerrr.Message, func(t *testing.T) {
				c := newTxnCluster(t, g)
				ctx := txnCtx(t)
				p := newTxnProducer(t, c, "abortable")
				h := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "ta", Partitions: []int32{0}, Err: kerrr, Count: 1})

				require.NoError(t, p.BeginTransaction())
				fs, _ := sendTo(t, p, "bad", "ta", 0, 1)
				_, err := fs[0].Get(ctx)
				require.ErrorIs(t, err, protocol.ErrorForCode(kerrr.Code))
				err = p.CommitTransaction(ctx)
				require.ErrorIs(t, err, ErrTransactionAbortable)
				require.ErrorIs(t, err, protocol.ErrorForCode(kerrr.Code))
				var ae *TxnAbortableError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, TxnState("ABORTABLE_ERROR"), p.TransactionState())
				_, err = p.Send(ctx, &Record{Topic: "tb", Value: []byte("refused")}).Get(ctx)
				assert.ErrorIs(t, err, ErrTransactionAbortable)
				assert.ErrorIs(t, p.BeginTransaction(), ErrTransactionAbortable)

				_, epoch := p.txn.ProducerID()
				require.NoError(t, p.AbortTransaction(ctx))
				_, bumped := p.txn.ProducerID()
				assert.Greater(t, bumped, epoch, "the abort restarts sequences under a new epoch")
				assert.Equal(t, 1, h.Hits())

				require.NoError(t, p.BeginTransaction())
				good := sendAll(t, p, "good")
				require.NoError(t, p.CommitTransaction(ctx))

				seal(t, c)
				assert.Equal(t, sorted(good), consumeSealed(t, c, true))
			})
		}
	})
}

// TestTxnStateErrors: calls in the wrong state fail at once with a
// *TxnStateError naming the call and the state; Send outside a transaction
// is refused; a producer without transactional.id refuses the
// transactional calls.
func TestTxnStateErrors(t *testing.T) {
	c := newTxnCluster(t, txnGenerations[1])
	ctx := txnCtx(t)

	plain := startProducer(t, c)
	assert.ErrorIs(t, plain.InitTransactions(ctx), ErrNotTransactional)
	assert.ErrorIs(t, plain.BeginTransaction(), ErrNotTransactional)
	assert.Equal(t, TxnState(""), plain.TransactionState())

	p := startProducer(t, c, WithTransactionalID("states"))
	state := func(op, st string) error { return &TxnStateError{Op: op, State: TxnState(st)} }
	_, err := p.Send(ctx, &Record{Topic: "ta", Value: []byte("v")}).Get(ctx)
	assert.Equal(t, state("Send", "UNINITIALIZED"), err)
	assert.Equal(t, state("BeginTransaction", "UNINITIALIZED"), p.BeginTransaction())
	assert.Equal(t, state("CommitTransaction", "UNINITIALIZED"), p.CommitTransaction(ctx))

	require.NoError(t, p.InitTransactions(ctx))
	assert.Equal(t, state("InitTransactions", "READY"), p.InitTransactions(ctx))
	assert.Equal(t, state("CommitTransaction", "READY"), p.CommitTransaction(ctx))
	assert.Equal(t, state("AbortTransaction", "READY"), p.AbortTransaction(ctx))
	assert.Equal(t, state("SendOffsetsToTransaction", "READY"),
		p.SendOffsetsToTransaction(ctx, map[string][]PartitionOffset{"ta": {{Offset: 1}}}, GroupMetadata{GroupID: "g"}))
	_, err = p.Send(ctx, &Record{Topic: "ta", Value: []byte("v")}).Get(ctx)
	assert.Equal(t, state("Send", "READY"), err)
	assert.ErrorIs(t, err, ErrTransactionState)
	var se *TxnStateError
	assert.ErrorAs(t, err, &se)

	require.NoError(t, p.BeginTransaction())
	assert.Equal(t, state("BeginTransaction", "IN_TRANSACTION"), p.BeginTransaction())
	require.NoError(t, p.CommitTransaction(ctx), "an empty transaction commits")
	assert.Equal(t, TxnState("READY"), p.TransactionState())
}

// TestTxnCloseAbortsOpenTransaction: Close aborts a transaction left open,
// so its records never become visible and the coordinator does not wait
// for the timeout; no goroutine outlives Close.
func TestTxnCloseAbortsOpenTransaction(t *testing.T) {
	eachTxnGeneration(t, func(t *testing.T, g txnGeneration) {
		checkNoLeaks(t)
		c := newTxnCluster(t, g)
		ctx := txnCtx(t)
		p, err := New(WithBootstrapServers(c.ListenAddrs()...), WithTransactionalID("closing"), WithLinger(time.Millisecond), WithLogger(testLogger(t)))
		require.NoError(t, err)
		require.NoError(t, p.InitTransactions(ctx))
		require.NoError(t, p.BeginTransaction())
		vals := sendAll(t, p, "open")
		sendTo(t, p, "queued", "ta", 0, 1, 2)
		require.NoError(t, p.Close(ctx))
		assert.NotEqual(t, "Ongoing", describeTxn(t, c, "closing"))
		assert.ErrorIs(t, p.BeginTransaction(), ErrClosed)

		seal(t, c)
		assert.Empty(t, consumeSealed(t, c, true))
		uncommitted := consumeSealed(t, c, false)
		for _, v := range vals {
			assert.Contains(t, uncommitted, v)
		}
	})
}
