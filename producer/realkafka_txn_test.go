package producer_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-go/tributary/internal/kafkatest"
	"github.com/tributary-go/tributary/producer"
	"github.com/tributary-go/tributary/protocol"
)

// Transactions on Apache Kafka's own transaction coordinator: KIP-890's
// implicit AddPartitionsToTxn and EndTxn v5 on a 4.x cluster
// (transaction.version=2), AddPartitionsToTxn and EndTxn ≤ v4 on 3.9.
// Verdicts come from Kafka's ConsoleConsumer with
// --isolation-level read_committed, kadm (group offsets, the
// coordinator's view of a transaction) and franz-go read_uncommitted.

// txnID returns a transactional.id unique to this test and run: the shared
// cluster outlives a go test run and keeps its transaction state.
func txnID(t testing.TB) string {
	return fmt.Sprintf("%s-%d-%d", t.Name(), time.Now().UnixNano()%1e9, topicSeq.Add(1))
}

// txnProducer returns an initialized transactional producer with id and
// opts, closed when the test ends.
func txnProducer(t testing.TB, c *kafkatest.Cluster, id string, opts ...producer.Option) *producer.Producer {
	t.Helper()
	p := realProducer(t, c, append([]producer.Option{producer.WithTransactionalID(id), producer.WithLinger(5 * time.Millisecond)}, opts...)...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, p.InitTransactions(ctx), "InitTransactions")
	return p
}

// readUncommitted reads every record of topic with franz-go at
// read_uncommitted up to the partitions' high watermarks and returns the
// values. It shows what reached the log, aborted or not.
func readUncommitted(t testing.TB, c *kafkatest.Cluster, topic string, want int) []string {
	t.Helper()
	cl, err := c.Client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadUncommitted()))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var got []string
	for len(got) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("franz-go read %d records of %s at read_uncommitted, want %d: %v", len(got), topic, want, ctx.Err())
		}
		require.NoError(t, fs.Err0())
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}

// TestKafkaTxnCommitAbort: transactions alternately committed and aborted,
// each writing to every partition, leave exactly the committed records
// visible to a read_committed consumer (Kafka's ConsoleConsumer), in
// their partitions and at the offsets the futures reported; the aborted
// records did reach the log (franz-go at read_uncommitted sees them), so
// the abort markers are what hides them.
func TestKafkaTxnCommitAbort(t *testing.T) {
	c := kafkatest.Shared(t)
	topic := realTopic(t, c, 3)
	p := txnProducer(t, c, txnID(t))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	const txns, perPartition = 7, 20
	type where struct {
		partition int32
		offset    int64
	}
	committed := map[string]where{}
	aborted := map[string]bool{}
	for n := 0; n < txns; n++ {
		commit := n%2 == 0
		require.NoError(t, p.BeginTransaction())
		var recs []*producer.Record
		for part := int32(0); part < 3; part++ {
			for i := 0; i < perPartition; i++ {
				v := fmt.Sprintf("txn%d-p%d-%d", n, part, i)
				recs = append(recs, &producer.Record{Topic: topic, Partition: part, UsePartition: true, Key: []byte(v), Value: []byte(v)})
			}
		}
		futures := make([]*producer.Future, len(recs))
		for i, r := range recs {
			futures[i] = p.Send(ctx, r)
		}
		if commit {
			require.NoError(t, p.CommitTransaction(ctx), "commit of transaction %d", n)
			for i, f := range futures {
				md, err := f.Get(ctx)
				require.NoError(t, err, "record %s of a committed transaction", recs[i].Value)
				committed[string(recs[i].Value)] = where{md.Partition, md.Offset}
			}
			continue
		}
		// Flush first so the records are on the brokers' logs: the abort
		// markers, not the producer, must hide them.
		require.NoError(t, p.Flush(ctx), "flush of transaction %d", n)
		for i, f := range futures {
			_, err := f.Get(ctx)
			require.NoError(t, err, "record %s, flushed before the abort", recs[i].Value)
			aborted[string(recs[i].Value)] = true
		}
		require.NoError(t, p.AbortTransaction(ctx), "abort of transaction %d", n)
	}
	assert.Equal(t, producer.TxnStateReady, p.TransactionState())

	// The last transaction commits, so in every partition the aborted
	// records lie before committed ones: reading exactly the committed set
	// means passing every aborted record without seeing it.
	got := consume(t, c, topic, len(committed), true)
	t.Logf("Kafka %s: %d transactions; read_committed ConsoleConsumer read %d records (committed %d, aborted %d)",
		c.Version, txns, len(got), len(committed), len(aborted))
	seen := map[string]bool{}
	for _, r := range got {
		v := string(r.Value)
		require.False(t, aborted[v], "aborted record %s visible to read_committed", v)
		w, ok := committed[v]
		require.True(t, ok, "unexpected record %q", v)
		require.False(t, seen[v], "record %s read twice", v)
		seen[v] = true
		assert.Equal(t, w, where{r.Partition, r.Offset}, "record %s: partition and offset", v)
		assert.Equal(t, v, string(r.Key), "key of %s", v)
	}
	require.Len(t, seen, len(committed), "committed records read by read_committed")

	// The aborted records are in the log: each partition holds the
	// committed and the aborted data records (the control markers are not
	// records to a consumer).
	all := readUncommitted(t, c, topic, len(committed)+len(aborted))
	inLog := map[string]bool{}
	for _, v := range all {
		_, ok := committed[v]
		require.True(t, ok || aborted[v], "record %q neither committed nor aborted", v)
		require.False(t, inLog[v], "record %s twice in the log", v)
		inLog[v] = true
	}
	assert.Len(t, inLog, len(committed)+len(aborted), "records in the log")
}

// TestKafkaTxnFenced: a second producer with the same transactional.id
// fences the first. The broker aborts the first one's open transaction;
// the first one's commit fails with a typed fatal error that matches
// protocol.ErrProducerFenced (whatever code the coordinator used on this
// Kafka version), and every later call fails the same way at once. The
// second producer carries on, and read_committed sees the first
// producer's committed transaction and the second's, not the fenced one.
func TestKafkaTxnFenced(t *testing.T) {
	c := kafkatest.Shared(t)
	topic := realTopic(t, c, 2)
	id := txnID(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	send := func(p *producer.Producer, values ...string) []*producer.Future {
		var fs []*producer.Future
		for i, v := range values {
			fs = append(fs, p.Send(ctx, &producer.Record{Topic: topic, Partition: int32(i % 2), UsePartition: true, Value: []byte(v)}))
		}
		return fs
	}
	p1 := txnProducer(t, c, id)
	require.NoError(t, p1.BeginTransaction())
	send(p1, "p1-committed-0", "p1-committed-1")
	require.NoError(t, p1.CommitTransaction(ctx))

	require.NoError(t, p1.BeginTransaction())
	pending := send(p1, "p1-fenced-0", "p1-fenced-1")
	require.NoError(t, p1.Flush(ctx))
	for _, f := range pending {
		_, err := f.Get(ctx)
		require.NoError(t, err, "a record of the transaction about to be fenced")
	}

	p2 := txnProducer(t, c, id) // fences p1 and aborts its open transaction

	err := p1.CommitTransaction(ctx)
	t.Logf("Kafka %s: the fenced producer's CommitTransaction: %v", c.Version, err)
	require.Error(t, err)
	assert.ErrorIs(t, err, producer.ErrTransactionFatal)
	assert.ErrorIs(t, err, protocol.ErrProducerFenced)
	var fe *producer.TxnFatalError
	assert.ErrorAs(t, err, &fe)
	assert.Equal(t, producer.TxnStateFatalError, p1.TransactionState())
	// KIP-1050: fencing is ApplicationRecoverableException in Java 4.x.
	assert.Equal(t, producer.ClassApplicationRecoverable, producer.ClassOf(err), "class of %v", err)
	assert.ErrorIs(t, err, producer.ErrClassApplicationRecoverable)
	assert.NotErrorIs(t, err, producer.ErrClassFatal)

	// Every later call fails at once with the same error.
	assert.ErrorIs(t, p1.BeginTransaction(), protocol.ErrProducerFenced, "BeginTransaction after fencing")
	assert.ErrorIs(t, p1.BeginTransaction(), producer.ErrClassApplicationRecoverable, "BeginTransaction after fencing")
	_, err = p1.Send(ctx, &producer.Record{Topic: topic, Value: []byte("p1-after-fencing")}).Get(ctx)
	assert.ErrorIs(t, err, protocol.ErrProducerFenced, "Send after fencing")
	assert.ErrorIs(t, p1.AbortTransaction(ctx), producer.ErrTransactionFatal, "AbortTransaction after fencing")

	require.NoError(t, p2.BeginTransaction())
	send(p2, "p2-committed-0", "p2-committed-1")
	require.NoError(t, p2.CommitTransaction(ctx))

	got := consume(t, c, topic, 4, true)
	var values []string
	for _, r := range got {
		values = append(values, string(r.Value))
	}
	sort.Strings(values)
	assert.Equal(t, []string{"p1-committed-0", "p1-committed-1", "p2-committed-0", "p2-committed-1"}, values)
}

// TestKafkaTxnTimedOut: a transaction left open past
// transaction.timeout.ms is aborted by the coordinator (kadm sees it
// complete the abort), the producer's CommitTransaction then fails with a
// typed fatal error that says the transaction outlived
// transaction.timeout.ms, and none of its records is visible to read_committed; the
// producer is not usable afterwards (as in the Java client, the bumped
// epoch fences it), and a new producer with the same id works.
func TestKafkaTxnTimedOut(t *testing.T) {
	c := kafkatest.Shared(t)
	topic := realTopic(t, c, 1)
	id := txnID(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	p := txnProducer(t, c, id, producer.WithTransactionTimeout(3*time.Second))
	require.NoError(t, p.BeginTransaction())
	_, err := p.Send(ctx, &producer.Record{Topic: topic, Value: []byte("timed-out")}).Get(ctx)
	require.NoError(t, err)

	adm, err := c.Admin()
	require.NoError(t, err)
	defer adm.Close()
	var states []string
	waitFor(t, 2*time.Minute, "the coordinator to abort the timed-out transaction", func() bool {
		ds, err := adm.DescribeTransactions(ctx, id)
		if err != nil {
			return false
		}
		d, err := ds.On(id, nil)
		if err != nil || d.Err != nil {
			return false
		}
		if len(states) == 0 || states[len(states)-1] != d.State {
			states = append(states, d.State)
		}
		return d.State == "CompleteAbort"
	})
	t.Logf("Kafka %s: coordinator states of %s: %s", c.Version, id, strings.Join(states, " → "))

	err = p.CommitTransaction(ctx)
	t.Logf("Kafka %s: CommitTransaction after the coordinator's abort: %v", c.Version, err)
	require.Error(t, err)
	assert.ErrorIs(t, err, producer.ErrTransactionFatal)
	assert.NotErrorIs(t, err, producer.ErrTransactionState)
	// Kafka 3.9 answers PRODUCER_FENCED (the timeout abort bumped the
	// epoch), 4.x INVALID_TXN_STATE; either way the error says why.
	assert.True(t, errors.Is(err, protocol.ErrProducerFenced) || errors.Is(err, protocol.ErrInvalidTxnState), "cause: %v", err)
	assert.Contains(t, err.Error(), "longer than transaction.timeout.ms=3s, so the coordinator has aborted it")
	assert.Equal(t, producer.TxnStateFatalError, p.TransactionState())
	// KIP-1050 as Java 4.x's EndTxn handler has it: PRODUCER_FENCED is
	// application-recoverable, INVALID_TXN_STATE fatal.
	wantClass := producer.ClassFatal
	if errors.Is(err, protocol.ErrProducerFenced) {
		wantClass = producer.ClassApplicationRecoverable
	}
	assert.Equal(t, wantClass, producer.ClassOf(err), "class of %v", err)
	assert.ErrorIs(t, err, wantClass.Sentinel())

	q := txnProducer(t, c, id)
	require.NoError(t, q.BeginTransaction())
	_, err = q.Send(ctx, &producer.Record{Topic: topic, Value: []byte("committed")}).Get(ctx)
	require.NoError(t, err)
	require.NoError(t, q.CommitTransaction(ctx))

	// One partition: the timed-out record (offset 0) comes before the
	// committed one, so reading one record shows which is visible.
	got := consume(t, c, topic, 1, true)
	assert.Equal(t, "committed", string(got[0].Value))
}

// waitFor polls cond every 100 ms until it holds, failing t after d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestKafkaTxnSendOffsets: SendOffsetsToTransaction with a real consumer
// group member (franz-go in a classic group, its member id and
// generation, KIP-447) commits the group's offsets only when the
// transaction commits: after a committed transaction the group's offsets
// are what was sent, an aborted transaction leaves them as they were, and
// the next committed one moves them again. Read back with kadm
// (OffsetFetch with require_stable, so pending transactional offsets
// cannot pass for committed ones) and finally with Kafka's own
// ConsumerGroupCommand --describe.
func TestKafkaTxnSendOffsets(t *testing.T) {
	c := kafkatest.Shared(t)
	in, out := realTopic(t, c, 2), realTopic(t, c, 1)
	group := "g-" + txnID(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	const perPartition = 10
	var inputs []*producer.Record
	for part := int32(0); part < 2; part++ {
		for i := 0; i < perPartition; i++ {
			inputs = append(inputs, &producer.Record{Topic: in, Partition: part, UsePartition: true, Value: []byte(fmt.Sprintf("in-%d-%d", part, i))})
		}
	}
	sendAll(t, realProducer(t, c), inputs)

	consumer, err := c.Client(kgo.ConsumerGroup(group), kgo.ConsumeTopics(in), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	require.NoError(t, err)
	defer consumer.Close()
	consumed := 0
	for consumed < len(inputs) {
		fs := consumer.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "consumed %d of %d input records", consumed, len(inputs))
		require.NoError(t, fs.Err0())
		consumed += fs.NumRecords()
	}
	member, generation := consumer.GroupMetadata()
	require.NotEmpty(t, member, "the consumer's member id")
	require.Positive(t, generation, "the consumer's generation")
	t.Logf("Kafka %s: group %s member %s generation %d", c.Version, group, member, generation)
	meta := producer.GroupMetadata{GroupID: group, GenerationID: generation, MemberID: member}

	adm, err := c.Admin()
	require.NoError(t, err)
	defer adm.Close()
	// EndTxn returns once the coordinator decided; it writes the markers
	// to __consumer_offsets afterwards, and until the group coordinator
	// has applied them an OffsetFetch with require_stable answers
	// UNSTABLE_OFFSET_COMMIT for partitions with pending offsets (and
	// omits partitions that have only pending ones).
	fetchOffsets := func() (map[int32]int64, error) {
		resp, err := adm.FetchOffsets(kadm.RequireStable(ctx), group)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return nil, err
		}
		got := map[int32]int64{}
		resp.Each(func(o kadm.OffsetResponse) {
			if o.Topic == in {
				got[o.Partition] = o.At
			}
		})
		return got, nil
	}
	committedOffsets := func() map[int32]int64 {
		t.Helper()
		var got map[int32]int64
		waitFor(t, time.Minute, "stable group offsets", func() bool {
			var err error
			got, err = fetchOffsets()
			require.True(t, err == nil || errors.Is(err, kerr.UnstableOffsetCommit), "OffsetFetch: %v", err)
			return err == nil
		})
		return got
	}
	waitOffsets := func(want map[int32]int64, after string) {
		t.Helper()
		var got map[int32]int64
		deadline := time.Now().Add(time.Minute)
		for {
			if got = committedOffsets(); assert.ObjectsAreEqual(want, got) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("group offsets after %s: %v, want %v", after, got, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	p := txnProducer(t, c, txnID(t))
	txn := func(value string, offsets map[int32]int64, commit bool) {
		t.Helper()
		require.NoError(t, p.BeginTransaction())
		f := p.Send(ctx, &producer.Record{Topic: out, Value: []byte(value)})
		var pos []producer.PartitionOffset
		for part, o := range offsets {
			pos = append(pos, producer.PartitionOffset{Partition: part, Offset: o, LeaderEpoch: -1, Metadata: value})
		}
		require.NoError(t, p.SendOffsetsToTransaction(ctx, map[string][]producer.PartitionOffset{in: pos}, meta))
		if commit {
			require.NoError(t, p.CommitTransaction(ctx))
			_, err := f.Get(ctx)
			require.NoError(t, err)
			return
		}
		require.NoError(t, p.AbortTransaction(ctx))
	}

	require.Empty(t, committedOffsets(), "offsets before any transaction")
	first := map[int32]int64{0: 3, 1: 4}
	txn("committed-1", first, true)
	waitOffsets(first, "the first committed transaction")
	txn("aborted", map[int32]int64{0: 8, 1: 9}, false)
	// Once the group has no pending transactional offsets (require_stable
	// answers), the abort marker is applied: the offsets must be unchanged.
	require.Equal(t, first, committedOffsets(), "offsets after an aborted transaction")
	last := map[int32]int64{0: perPartition, 1: perPartition}
	txn("committed-2", last, true)
	waitOffsets(last, "the second committed transaction")

	// Kafka's own tool agrees.
	desc, err := c.RunTool(ctx, "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
		"--bootstrap-server", strings.Join(c.Bootstrap(), ","), "--describe", "--group", group, "--timeout", "60000")
	require.NoError(t, err)
	row := regexp.MustCompile(`(?m)^\S+\s+` + regexp.QuoteMeta(in) + `\s+(\d+)\s+(\d+)\s`)
	described := map[int32]int64{}
	for _, m := range row.FindAllStringSubmatch(string(desc), -1) {
		part, _ := strconv.Atoi(m[1])
		o, _ := strconv.ParseInt(m[2], 10, 64)
		described[int32(part)] = o
	}
	require.Equal(t, last, described, "ConsumerGroupCommand --describe:\n%s", desc)

	got := consume(t, c, out, 2, true)
	assert.Equal(t, []string{"committed-1", "committed-2"}, []string{string(got[0].Value), string(got[1].Value)})
}

// TestKafkaTxnTimedOutThenSend: a record sent after the coordinator
// aborted a transaction for outliving transaction.timeout.ms is refused
// (the abort bumped the epoch); KIP-1050 classes that as abortable, as
// the Java 4.x client does (an InvalidProducerEpochException from Produce
// makes the transaction abortable), and on a cluster with transaction
// version 2 the abort then succeeds and the same producer carries on.
func TestKafkaTxnTimedOutThenSend(t *testing.T) {
	c := kafkatest.Shared(t)
	topic := realTopic(t, c, 1)
	id := txnID(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	p := txnProducer(t, c, id, producer.WithTransactionTimeout(3*time.Second))
	require.NoError(t, p.BeginTransaction())
	_, err := p.Send(ctx, &producer.Record{Topic: topic, Value: []byte("timed-out-0")}).Get(ctx)
	require.NoError(t, err)
	adm, err := c.Admin()
	require.NoError(t, err)
	defer adm.Close()
	waitFor(t, 2*time.Minute, "the coordinator to abort the timed-out transaction", func() bool {
		ds, err := adm.DescribeTransactions(ctx, id)
		if err != nil {
			return false
		}
		d, err := ds.On(id, nil)
		return err == nil && d.Err == nil && d.State == "CompleteAbort"
	})

	_, recErr := p.Send(ctx, &producer.Record{Topic: topic, Value: []byte("timed-out-1")}).Get(ctx)
	t.Logf("Kafka %s: a record after the coordinator's abort: %v (class %s)", c.Version, recErr, producer.ClassOf(recErr))
	require.Error(t, recErr)
	assert.Equal(t, producer.ClassAbortable, producer.ClassOf(recErr), "the record's own error")
	err = p.CommitTransaction(ctx)
	t.Logf("Kafka %s: CommitTransaction: %v (class %s)", c.Version, err, producer.ClassOf(err))
	require.Error(t, err)
	assert.Equal(t, producer.ClassAbortable, producer.ClassOf(err), "class of %v", err)
	assert.ErrorIs(t, err, producer.ErrClassAbortable)
	assert.ErrorIs(t, err, producer.ErrTransactionAbortable)

	err = p.AbortTransaction(ctx)
	t.Logf("Kafka %s: AbortTransaction: %v (class %s)", c.Version, err, producer.ClassOf(err))
	if p.TransactionState() == producer.TxnStateReady {
		require.NoError(t, p.BeginTransaction())
		_, err = p.Send(ctx, &producer.Record{Topic: topic, Value: []byte("committed")}).Get(ctx)
		require.NoError(t, err)
		require.NoError(t, p.CommitTransaction(ctx))
		// One partition: the committed record is the only visible one.
		got := consume(t, c, topic, 1, true)
		assert.Equal(t, "committed", string(got[0].Value))
	} else {
		// The abort itself could not finish (Kafka 3.x answers
		// PRODUCER_FENCED for the old epoch): a class that says so.
		assert.Error(t, err)
		assert.NotEqual(t, producer.ClassAbortable, producer.ClassOf(err))
	}
}
