package producertest_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/producer"
	"github.com/tributary-go/tributary/producer/producertest"
	"github.com/tributary-go/tributary/protocol"
)

var ctx = context.Background()

func TestAutoCompleteAssignsOffsetsPerPartition(t *testing.T) {
	clock := func() time.Time { return time.UnixMilli(1700000000000) }
	m := producertest.New(producertest.WithPartitions("t", 3), producertest.WithClock(clock))
	var mds []producer.RecordMetadata
	for i := range 4 {
		md, err := m.Send(ctx, &producer.Record{Topic: "t", Partition: int32(i % 2), UsePartition: true, Value: []byte("v")}).Get(ctx)
		require.NoError(t, err)
		mds = append(mds, md)
	}
	assert.Equal(t, []int64{0, 0, 1, 1}, []int64{mds[0].Offset, mds[1].Offset, mds[2].Offset, mds[3].Offset})
	assert.Equal(t, []int32{0, 1, 0, 1}, []int32{mds[0].Partition, mds[1].Partition, mds[2].Partition, mds[3].Partition})
	assert.Equal(t, clock(), mds[0].Timestamp)
	assert.Equal(t, -1, mds[0].SerializedKeySize)
	assert.Equal(t, 1, mds[0].SerializedValueSize)

	var cbMD producer.RecordMetadata
	m.SendCallback(ctx, &producer.Record{Topic: "t", Partition: 2, UsePartition: true}, func(md producer.RecordMetadata, err error) {
		require.NoError(t, err)
		cbMD = md
	})
	assert.Equal(t, int32(2), cbMD.Partition, "the callback ran before SendCallback returned")
	assert.Len(t, m.History(), 5)
	assert.Equal(t, 0, m.Pending())
}

// Keys land where Java's murmur2 puts them: checked against the vectors of
// Kafka's UtilsTest.testMurmur2 (clients/src/test/java/org/apache/kafka/
// common/utils/UtilsTest.java), independently of the partitioner package.
func TestKeyedPlacementIsJavaMurmur2(t *testing.T) {
	m := producertest.New(producertest.WithPartitions("k", 7))
	vectors := map[string]int32{"21": -973932308, "foobar": -790332482, "a-little-bit-long-string": -985981536, "abc": 479470107}
	for key, hash := range vectors {
		want := (hash & 0x7fffffff) % 7
		md, err := m.Send(ctx, &producer.Record{Topic: "k", Key: []byte(key)}).Get(ctx)
		require.NoError(t, err)
		assert.Equal(t, want, md.Partition, "key %q", key)
	}
}

// The mock and a real producer place the same keys on the same partitions.
func TestKeyedPlacementMatchesRealProducer(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, "orders"))
	require.NoError(t, err)
	defer c.Close()
	real, err := producer.New(producer.WithBootstrapServers(c.ListenAddrs()...), producer.WithLinger(0))
	require.NoError(t, err)
	defer real.Close(ctx)
	mock := producertest.New(producertest.WithPartitions("orders", 6))
	for i := range 50 {
		rec := &producer.Record{Topic: "orders", Key: []byte("customer-" + strconv.Itoa(i)), Value: []byte("x")}
		want, err := real.Send(ctx, rec).Get(ctx)
		require.NoError(t, err)
		got, err := mock.Send(ctx, rec).Get(ctx)
		require.NoError(t, err)
		assert.Equal(t, want.Partition, got.Partition, "key %s", rec.Key)
	}
}

func TestHistoryIsACopy(t *testing.T) {
	m := producertest.New()
	key, value := []byte("k"), []byte("v")
	hdr := []producer.Header{{Key: "h", Value: []byte("1")}}
	m.Send(ctx, &producer.Record{Topic: "t", Key: key, Value: value, Headers: hdr})
	key[0], value[0], hdr[0].Value[0] = 'X', 'X', 'X'
	h := m.History()
	require.Len(t, h, 1)
	assert.Equal(t, "k", string(h[0].Record.Key))
	assert.Equal(t, "v", string(h[0].Record.Value))
	assert.Equal(t, "1", string(h[0].Record.Headers[0].Value))
	assert.Equal(t, int64(0), h[0].Offset)
	assert.True(t, h[0].Done)
	m.Clear()
	assert.Empty(t, m.History())
}

func TestManualCompletion(t *testing.T) {
	m := producertest.New(producertest.WithAutoComplete(false))
	f1 := m.Send(ctx, &producer.Record{Topic: "t", Value: []byte("1")})
	f2 := m.Send(ctx, &producer.Record{Topic: "t", Value: []byte("2")})
	var order []string
	m.SendCallback(ctx, &producer.Record{Topic: "t", Value: []byte("3")}, func(md producer.RecordMetadata, err error) {
		order = append(order, "cb3:"+strconv.FormatInt(md.Offset, 10))
	})
	assert.Equal(t, 3, m.Pending())
	select {
	case <-f1.Done():
		t.Fatal("completed before CompleteNext")
	default:
	}
	assert.False(t, m.History()[0].Done)

	require.True(t, m.CompleteNext())
	md, err := f1.Get(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(0), md.Offset)

	boom := errors.New("boom")
	require.True(t, m.ErrorNext(boom))
	md, err = f2.Get(ctx)
	require.ErrorIs(t, err, boom)
	assert.Equal(t, int64(-1), md.Offset)

	require.NoError(t, m.Flush(ctx))
	assert.True(t, m.Flushed())
	assert.Equal(t, []string{"cb3:1"}, order, "a failed record takes no offset")
	assert.False(t, m.CompleteNext())
	h := m.History()
	assert.Equal(t, boom, h[1].Err)

	met := m.Metrics()
	assert.EqualValues(t, 3, met.RecordSendTotal)
	assert.EqualValues(t, 1, met.RecordErrorTotal)
	assert.EqualValues(t, 1, met.Topics["t"].RecordErrorTotal)
	assert.EqualValues(t, 3, met.ByteTotal)
}

func TestMisuseFailsLikeTheRealProducer(t *testing.T) {
	m := producertest.New(producertest.WithPartitions("t", 2), producertest.WithMaxRequestSize(100))
	tests := []struct {
		name string
		rec  *producer.Record
		want error
	}{
		{"nil", nil, producer.ErrNilRecord},
		{"no topic", &producer.Record{}, producer.ErrNoTopic},
		{"partition", &producer.Record{Topic: "t", Partition: 2, UsePartition: true}, producer.ErrInvalidPartition},
		{"too large", &producer.Record{Topic: "t", Value: make([]byte, 200)}, accumulator.ErrRecordTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Send(ctx, tc.rec).Get(ctx)
			require.ErrorIs(t, err, tc.want)
			var cbErr error
			m.SendCallback(ctx, tc.rec, func(_ producer.RecordMetadata, err error) { cbErr = err })
			require.ErrorIs(t, cbErr, tc.want)
		})
	}
	var pe *producer.PartitionError
	_, err := m.Send(ctx, &producer.Record{Topic: "t", Partition: 5, UsePartition: true}).Get(ctx)
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 2, pe.NumPartitions)

	injected := errors.New("buffer exhausted")
	m.FailSend(injected)
	_, err = m.Send(ctx, &producer.Record{Topic: "t"}).Get(ctx)
	require.ErrorIs(t, err, injected)
	m.FailSend(nil)

	require.NoError(t, m.Close(ctx))
	assert.True(t, m.Closed())
	_, err = m.Send(ctx, &producer.Record{Topic: "t"}).Get(ctx)
	require.ErrorIs(t, err, producer.ErrClosed)
	_, err = m.PartitionsFor(ctx, "t")
	require.ErrorIs(t, err, producer.ErrClosed)
	assert.Empty(t, m.History(), "failed sends are not history")
}

func TestPartitionsFor(t *testing.T) {
	m := producertest.New(producertest.WithPartitions("a", 3), producertest.WithDefaultPartitions(2))
	ps, err := m.PartitionsFor(ctx, "a")
	require.NoError(t, err)
	assert.Len(t, ps, 3)
	ps, err = m.PartitionsFor(ctx, "other")
	require.NoError(t, err)
	assert.Len(t, ps, 2)
	assert.Equal(t, producer.PartitionInfo{Topic: "other", Partition: 1}, ps[1])
}

func TestNonTransactionalRejectsTransactions(t *testing.T) {
	m := producertest.New()
	require.ErrorIs(t, m.InitTransactions(ctx), producer.ErrNotTransactional)
	require.ErrorIs(t, m.BeginTransaction(), producer.ErrNotTransactional)
	require.ErrorIs(t, m.SendOffsetsToTransaction(ctx, nil, producer.GroupMetadata{GroupID: "g"}), producer.ErrNotTransactional)
	require.ErrorIs(t, m.CommitTransaction(ctx), producer.ErrNotTransactional)
	require.ErrorIs(t, m.AbortTransaction(ctx), producer.ErrNotTransactional)
	assert.Equal(t, producer.TxnState(""), m.TransactionState())
}

func TestTransactionStateChecks(t *testing.T) {
	m := producertest.New(producertest.WithTransactionalID("tx"))
	stateErr := func(err error, op string, state producer.TxnState) {
		t.Helper()
		var se *producer.TxnStateError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, op, se.Op)
		assert.Equal(t, state, se.State)
		assert.ErrorIs(t, err, producer.ErrTransactionState)
	}
	_, err := m.Send(ctx, &producer.Record{Topic: "t"}).Get(ctx)
	stateErr(err, "Send", producer.TxnStateUninitialized)
	stateErr(m.BeginTransaction(), "BeginTransaction", producer.TxnStateUninitialized)
	require.NoError(t, m.InitTransactions(ctx))
	stateErr(m.InitTransactions(ctx), "InitTransactions", producer.TxnStateReady)
	stateErr(m.CommitTransaction(ctx), "CommitTransaction", producer.TxnStateReady)
	stateErr(m.AbortTransaction(ctx), "AbortTransaction", producer.TxnStateReady)
	_, err = m.Send(ctx, &producer.Record{Topic: "t"}).Get(ctx)
	stateErr(err, "Send", producer.TxnStateReady)
	require.NoError(t, m.BeginTransaction())
	stateErr(m.BeginTransaction(), "BeginTransaction", producer.TxnStateInTransaction)
	require.ErrorIs(t, m.SendOffsetsToTransaction(ctx, map[string][]producer.PartitionOffset{"in": {{Partition: 0, Offset: 1}}}, producer.GroupMetadata{}), producer.ErrTransactionNoGroup)
}

func TestTransactionCommitAndAbort(t *testing.T) {
	m := producertest.New(producertest.WithTransactionalID("tx"), producertest.WithAutoComplete(false))
	require.NoError(t, m.InitTransactions(ctx))

	// Committed: records and offsets reach the history.
	require.NoError(t, m.BeginTransaction())
	f := m.Send(ctx, &producer.Record{Topic: "out", Value: []byte("a")})
	offsets := map[string][]producer.PartitionOffset{"in": {{Partition: 0, Offset: 42, LeaderEpoch: -1}}}
	require.NoError(t, m.SendOffsetsToTransaction(ctx, offsets, producer.GroupMetadata{GroupID: "g"}))
	assert.Len(t, m.Uncommitted(), 1)
	assert.Empty(t, m.History())
	require.NoError(t, m.CommitTransaction(ctx))
	_, err := f.Get(ctx)
	require.NoError(t, err, "commit delivers pending records first")
	assert.Len(t, m.History(), 1)
	assert.Empty(t, m.Uncommitted())
	require.Len(t, m.OffsetsHistory(), 1)
	assert.Equal(t, int64(42), m.OffsetsHistory()[0].Offsets["in"][0].Offset)
	assert.Equal(t, 1, m.Commits())
	assert.Equal(t, producer.TxnStateReady, m.TransactionState())

	// Aborted: pending records fail, nothing reaches the history.
	require.NoError(t, m.BeginTransaction())
	f = m.Send(ctx, &producer.Record{Topic: "out", Value: []byte("b")})
	require.NoError(t, m.AbortTransaction(ctx))
	_, err = f.Get(ctx)
	require.ErrorIs(t, err, producer.ErrTransactionAborted)
	assert.Len(t, m.History(), 1)
	assert.Equal(t, 1, m.Aborts())

	// A failed record makes the transaction abortable.
	require.NoError(t, m.BeginTransaction())
	m.Send(ctx, &producer.Record{Topic: "out", Value: []byte("c")})
	cause := protocol.ErrTopicAuthorizationFailed
	require.True(t, m.ErrorNext(cause))
	assert.Equal(t, producer.TxnStateAbortableError, m.TransactionState())
	err = m.CommitTransaction(ctx)
	var ae *producer.TxnAbortableError
	require.ErrorAs(t, err, &ae)
	require.ErrorIs(t, err, cause)
	require.ErrorIs(t, m.BeginTransaction(), producer.ErrTransactionAbortable)
	_, err = m.Send(ctx, &producer.Record{Topic: "out"}).Get(ctx)
	require.ErrorIs(t, err, producer.ErrTransactionAbortable)
	require.NoError(t, m.AbortTransaction(ctx))
	assert.Equal(t, producer.TxnStateReady, m.TransactionState())

	// A failing commit.
	require.NoError(t, m.BeginTransaction())
	m.FailNextCommit(protocol.ErrTransactionAbortable)
	require.ErrorIs(t, m.CommitTransaction(ctx), producer.ErrTransactionAbortable)
	require.NoError(t, m.AbortTransaction(ctx))
	require.NoError(t, m.BeginTransaction())
	require.NoError(t, m.CommitTransaction(ctx))
}

func TestFencedProducer(t *testing.T) {
	m := producertest.New(producertest.WithTransactionalID("tx"))
	require.NoError(t, m.InitTransactions(ctx))
	require.NoError(t, m.BeginTransaction())
	m.FenceProducer()
	for _, err := range []error{
		m.CommitTransaction(ctx), m.AbortTransaction(ctx), m.BeginTransaction(),
		func() error { _, err := m.Send(ctx, &producer.Record{Topic: "t"}).Get(ctx); return err }(),
	} {
		require.ErrorIs(t, err, producer.ErrTransactionFatal)
		require.ErrorIs(t, err, protocol.ErrProducerFenced)
	}
	require.NoError(t, m.Close(ctx))
}

func TestCloseAbortsOpenTransaction(t *testing.T) {
	m := producertest.New(producertest.WithTransactionalID("tx"), producertest.WithAutoComplete(false))
	require.NoError(t, m.InitTransactions(ctx))
	require.NoError(t, m.BeginTransaction())
	f := m.Send(ctx, &producer.Record{Topic: "t"})
	require.NoError(t, m.Close(ctx))
	_, err := f.Get(ctx)
	require.ErrorIs(t, err, producer.ErrTransactionAborted)
	assert.Equal(t, 1, m.Aborts())
	require.ErrorIs(t, m.InitTransactions(ctx), producer.ErrClosed)
}

type event struct {
	ID     string `json:"id"`
	Amount int    `json:"amount"`
}

func TestWorksWithTyped(t *testing.T) {
	m := producertest.New(producertest.WithPartitions("events", 4))
	typed := producer.NewTyped(m, producer.StringSerializer(), producer.JSONSerializer[event]())
	assert.Nil(t, typed.Producer(), "not a *producer.Producer")
	assert.Same(t, m, typed.Sender())
	md, err := typed.Send(ctx, &producer.TypedRecord[string, event]{Topic: "events", Key: "e-1", Value: event{ID: "e-1", Amount: 5}}).Get(ctx)
	require.NoError(t, err)
	h := m.History()
	require.Len(t, h, 1)
	assert.Equal(t, "e-1", string(h[0].Record.Key))
	assert.JSONEq(t, `{"id":"e-1","amount":5}`, string(h[0].Record.Value))
	assert.Equal(t, h[0].Partition, md.Partition)
}

func TestConcurrentSends(t *testing.T) {
	m := producertest.New(producertest.WithPartitions("t", 4))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				m.Send(ctx, &producer.Record{Topic: "t", Key: []byte(strconv.Itoa(g*1000 + i))})
			}
		}()
	}
	wg.Wait()
	h := m.History()
	require.Len(t, h, 800)
	seen := map[[2]int64]bool{}
	for _, s := range h {
		k := [2]int64{int64(s.Partition), s.Offset}
		require.False(t, seen[k], "offset %v assigned twice", k)
		seen[k] = true
	}
}
