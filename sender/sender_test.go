package sender_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/internal/fakebroker"
	"github.com/tributary-go/tributary/protocol"
	"github.com/tributary-go/tributary/sender"
)

// These tests run the real accumulator, metadata, connection pool and
// sender against internal/fakebroker, which scripts the broker's answers.
// They assert on what the broker received and stored, never only on what
// the sender reports.

// TestOneRequestPerBroker: every ready batch is drained into one Produce
// request per broker, holding one batch for each partition the broker leads.
func TestOneRequestPerBroker(t *testing.T) {
	var log produceLog
	e := newEnv(t, options{broker: fakebroker.Config{Brokers: 3, Topics: map[string]int32{"a": 6, "b": 3}, Store: true, Handler: log.handler}})
	want := map[string][]*record{}
	for p := range int32(6) {
		want[fmt.Sprint("a", p)] = e.sendN("a", p, fmt.Sprint("a", p), 3)
	}
	for p := range int32(3) {
		want[fmt.Sprint("b", p)] = e.sendN("b", p, fmt.Sprint("b", p), 2)
	}
	e.flush()
	for tp, recs := range want {
		for i, r := range recs {
			off, err := r.wait(t)
			require.NoError(t, err, tp)
			assert.Equal(t, int64(i), off, tp)
		}
	}

	reqs := log.requests()
	require.Len(t, reqs, 3, "one request per broker")
	seenNodes := map[int32]bool{}
	for _, r := range reqs {
		assert.False(t, seenNodes[r.node], "a second request to node %d", r.node)
		seenNodes[r.node] = true
		assert.Len(t, r.partitions, 3, "node %d leads a-%d, a-%d and b-%d", r.node, r.node, r.node+3, r.node)
		for _, p := range r.partitions {
			assert.Equal(t, 1, p.batches, "%s-%d: one batch", p.topic, p.partition)
			leader, _ := e.fb.Leader(p.topic, p.partition)
			assert.Equal(t, r.node, leader, "%s-%d went to its leader", p.topic, p.partition)
		}
	}
	for tp, recs := range want {
		topic, p := tp[:1], int32(tp[1]-'0')
		assert.Equal(t, names(recs), values(e.fb, topic, p), tp)
	}
}

// TestMaxRequestSize: a broker's request holds batches only up to
// max.request.size; the rest follow in further requests.
func TestMaxRequestSize(t *testing.T) {
	var log produceLog
	const limit = 2500
	e := newEnv(t, options{
		broker: fakebroker.Config{Topics: map[string]int32{"t": 6}, Store: true, Handler: log.handler},
		sender: sender.Config{MaxRequestSize: limit},
	})
	var recs []*record
	for p := range int32(6) {
		recs = append(recs, e.send("t", p, strings.Repeat(fmt.Sprint(p), 1000)))
	}
	e.flush()
	for _, r := range recs {
		_, err := r.wait(t)
		require.NoError(t, err)
	}
	reqs := log.requests()
	assert.Greater(t, len(reqs), 1)
	batches := 0
	for _, r := range reqs {
		assert.LessOrEqual(t, r.bytes, limit, "records bytes in one request")
		for _, p := range r.partitions {
			batches += p.batches
		}
	}
	assert.Equal(t, 6, batches, "every batch sent once")
	for p := range int32(6) {
		assert.Equal(t, int64(1), e.fb.Records("t", p))
	}
}

// TestInFlightWindow: never more than max.in.flight.requests.per.connection
// requests outstanding on a connection. The broker holds every answer; the
// sender must stop at the window, and go on once answers arrive.
func TestInFlightWindow(t *testing.T) {
	for _, window := range []int{1, 2, 5} {
		t.Run(fmt.Sprint(window), func(t *testing.T) {
			release := make(chan struct{})
			log := produceLog{answer: func(int, int32, *protocol.ProduceRequest) fakebroker.Action {
				return fakebroker.Action{Hold: release}
			}}
			e := newEnv(t, options{
				broker:    fakebroker.Config{Topics: map[string]int32{"t": 1}, Store: true, Handler: log.handler},
				sender:    sender.Config{MaxInFlight: window},
				batchSize: soloBatchSize, // one record per batch, so one batch per request
			})
			recs := e.sendSolo("t", 0, "r", 12)
			e.flush()
			waitFor(t, "a full window", func() bool { return log.count() >= window })
			// Give a sender that ignores the window the chance to send
			// more. A correct one never does, however long this is.
			time.Sleep(50 * time.Millisecond)
			assert.Equal(t, window, log.count(), "requests sent while every answer is held")
			assert.Equal(t, window, e.fb.MaxInFlight(0))
			close(release)
			for i, r := range recs {
				off, err := r.wait(t)
				require.NoError(t, err)
				assert.Equal(t, int64(i), off)
			}
			assert.LessOrEqual(t, e.fb.MaxInFlight(0), window)
			assert.Equal(t, names(recs), values(e.fb, "t", 0))
		})
	}
}

// TestAcks: acks=0 completes with offset -1 without any answer; acks=1 and
// acks=all complete with the offsets the broker assigned.
func TestAcks(t *testing.T) {
	for _, acks := range []string{"0", "1", "all"} {
		t.Run(acks, func(t *testing.T) {
			var log produceLog
			e := newEnv(t, options{acks: acks, broker: fakebroker.Config{Brokers: 2, Topics: map[string]int32{"t": 2}, Store: true, Handler: log.handler}})
			recs := [][]*record{e.sendN("t", 0, "x", 3), e.sendN("t", 1, "y", 2)}
			e.flush()
			for p, rs := range recs {
				for i, r := range rs {
					off, err := r.wait(t)
					require.NoError(t, err)
					if acks == "0" {
						assert.Equal(t, int64(-1), off)
					} else {
						assert.Equal(t, int64(i), off)
					}
				}
				waitFor(t, "the broker to store the records", func() bool { return e.fb.Records("t", int32(p)) == int64(len(rs)) })
				assert.Equal(t, names(rs), values(e.fb, "t", int32(p)))
			}
			wantAcks := map[string]int16{"0": 0, "1": 1, "all": -1}[acks]
			for _, r := range log.requests() {
				assert.Equal(t, wantAcks, r.acks)
			}
		})
	}
}

// TestRetriableErrorRetriedWithBackoff: NOT_ENOUGH_REPLICAS is retried, each
// attempt after an exponentially growing backoff, until it succeeds.
func TestRetriableErrorRetriedWithBackoff(t *testing.T) {
	log := produceLog{answer: func(n int, _ int32, _ *protocol.ProduceRequest) fakebroker.Action {
		if n <= 2 {
			return fakebroker.Action{ErrorCode: protocol.ErrNotEnoughReplicas.Code}
		}
		return fakebroker.Action{}
	}}
	const backoff = 50 * time.Millisecond
	e := newEnv(t, options{
		broker: fakebroker.Config{Topics: map[string]int32{"t": 1}, Store: true, Handler: log.handler},
		sender: sender.Config{RetryBackoff: backoff, RetryBackoffMax: 4 * backoff},
	})
	r := e.send("t", 0, "v")
	e.flush()
	off, err := r.wait(t)
	require.NoError(t, err)
	assert.Equal(t, int64(0), off)
	reqs := log.requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, []string{"v"}, values(e.fb, "t", 0))
	// Lower bounds only: retry.backoff.ms, then twice that, less 20% jitter.
	assert.GreaterOrEqual(t, reqs[1].at.Sub(reqs[0].at), backoff*8/10)
	assert.GreaterOrEqual(t, reqs[2].at.Sub(reqs[1].at), 2*backoff*8/10)
}

// TestRetriesExhausted: with retries=2 a batch the broker keeps refusing
// with a retriable error is sent three times, then fails with a BatchError
// wrapping the Kafka error.
func TestRetriesExhausted(t *testing.T) {
	log := produceLog{answer: func(int, int32, *protocol.ProduceRequest) fakebroker.Action {
		return fakebroker.Action{ErrorCode: protocol.ErrNotEnoughReplicas.Code}
	}}
	e := newEnv(t, options{
		broker: fakebroker.Config{Topics: map[string]int32{"t": 1}, Handler: log.handler},
		sender: sender.Config{Retries: 2},
	})
	r := e.send("t", 0, "v")
	e.flush()
	_, err := r.wait(t)
	require.Error(t, err)
	assert.Equal(t, 3, log.count(), "one attempt and two retries")
	assert.ErrorIs(t, err, protocol.ErrNotEnoughReplicas)
	var be *sender.BatchError
	if assert.ErrorAs(t, err, &be, "got %T: %v", err, err) {
		assert.Equal(t, "t", be.Topic)
		assert.Equal(t, 1, be.Records)
	}
}

// TestNonRetriableFailsAtOnce: TOPIC_AUTHORIZATION_FAILED fails the batch on
// the first answer.
func TestNonRetriableFailsAtOnce(t *testing.T) {
	log := produceLog{answer: func(int, int32, *protocol.ProduceRequest) fakebroker.Action {
		return fakebroker.Action{ErrorCode: protocol.ErrTopicAuthorizationFailed.Code}
	}}
	e := newEnv(t, options{broker: fakebroker.Config{Topics: map[string]int32{"t": 1}, Handler: log.handler}})
	recs := e.sendN("t", 0, "v", 2)
	e.flush()
	for _, r := range recs {
		_, err := r.wait(t)
		var be *sender.BatchError
		require.ErrorAs(t, err, &be)
		assert.ErrorIs(t, err, protocol.ErrTopicAuthorizationFailed)
		assert.Equal(t, 2, be.Records)
	}
	assert.Equal(t, 1, log.count(), "no retry")
	assert.Zero(t, e.fb.Records("t", 0))
}

// TestLeaderHintMovesPartition: NOT_LEADER_OR_FOLLOWER with a KIP-951 hint
// moves the partition to the new leader at once, without a Metadata round
// trip, and the batch succeeds there. The leader moves while the first
// request is on its way, and Metadata answers are held from then on, so the
// hint is the only way the client can learn of the move.
func TestLeaderHintMovesPartition(t *testing.T) {
	never := make(chan struct{})
	defer close(never)
	var fb atomic.Pointer[fakebroker.Broker]
	var moved atomic.Bool
	log := produceLog{answer: func(n int, _ int32, _ *protocol.ProduceRequest) fakebroker.Action {
		if n == 1 {
			fb.Load().SetLeader("t", 0, 1) // the old leader now answers with a hint
			moved.Store(true)
		}
		return fakebroker.Action{}
	}}
	handler := func(node int32, key protocol.Key, v int16, req protocol.Request) fakebroker.Action {
		if key == protocol.KeyMetadata && moved.Load() {
			return fakebroker.Action{Hold: never}
		}
		return log.handler(node, key, v, req)
	}
	e := newEnv(t, options{broker: fakebroker.Config{Brokers: 2, Topics: map[string]int32{"t": 1}, Store: true, Handler: handler}})
	fb.Store(e.fb)

	r := e.send("t", 0, "v")
	e.flush()
	off, err := r.wait(t)
	require.NoError(t, err)
	assert.Equal(t, int64(0), off)
	var nodes []int32
	for _, req := range log.requests() {
		nodes = append(nodes, req.node)
	}
	assert.Equal(t, []int32{0, 1}, nodes, "old leader, then the hinted one")
	leader, ok := e.meta.Snapshot().Leader("t", 0)
	require.True(t, ok)
	assert.Equal(t, int32(1), leader.NodeID)
	assert.Equal(t, []string{"v"}, values(e.fb, "t", 0))
}

// TestStaleLeaderHintRefreshesMetadata: a leader hint the metadata rejects
// (its epoch is not newer than the known one) must not leave the sender
// retrying the old leader at once, over and over: it should refresh
// metadata, back off, and find the real leader (as Java does for every
// InvalidMetadataException).
func TestStaleLeaderHintRefreshesMetadata(t *testing.T) {
	var fb atomic.Pointer[fakebroker.Broker]
	var moveOnce sync.Once
	log := produceLog{answer: func(_ int, node int32, _ *protocol.ProduceRequest) fakebroker.Action {
		if node != 0 {
			return fakebroker.Action{}
		}
		// Metadata says node 1, epoch 1, from now on; node 0 keeps
		// answering with a hint at the epoch the client already has.
		moveOnce.Do(func() { fb.Load().SetLeader("t", 0, 1) })
		return fakebroker.Action{ErrorCode: protocol.ErrNotLeaderOrFollower.Code, Leader: &protocol.LeaderIDAndEpoch{LeaderID: 1, LeaderEpoch: 0}}
	}}
	e := newEnv(t, options{
		broker: fakebroker.Config{Brokers: 2, Topics: map[string]int32{"t": 1}, Store: true, Handler: log.handler},
		sender: sender.Config{DeliveryTimeout: 3 * time.Second, RequestTimeout: time.Second, RetryBackoff: 20 * time.Millisecond, RetryBackoffMax: 100 * time.Millisecond},
	})
	fb.Store(e.fb)

	r := e.send("t", 0, "v")
	e.flush()
	_, err := r.wait(t)
	toOld := 0
	for _, req := range log.requests() {
		if req.node == 0 {
			toOld++
		}
	}
	require.NoError(t, err, "after %d requests to the old leader", toOld)
	assert.Less(t, toOld, 20, "requests to the old leader: retried without refresh or backoff")
	assert.Equal(t, []string{"v"}, values(e.fb, "t", 0))
}

// TestRecordErrors: per-record errors (Produce v8+ RecordErrors) reach the
// records they name; the others carry the batch's error.
func TestRecordErrors(t *testing.T) {
	bad := "key is not a number"
	log := produceLog{answer: func(int, int32, *protocol.ProduceRequest) fakebroker.Action {
		return fakebroker.Action{ErrorCode: protocol.ErrInvalidRecord.Code, RecordErrors: []protocol.RecordError{
			{BatchIndex: 1, BatchIndexErrorMessage: &bad}, {BatchIndex: 3},
		}}
	}}
	e := newEnv(t, options{broker: fakebroker.Config{Topics: map[string]int32{"t": 1}, Handler: log.handler}})
	recs := e.sendN("t", 0, "v", 5)
	e.flush()
	for i, r := range recs {
		_, err := r.wait(t)
		require.ErrorIs(t, err, protocol.ErrInvalidRecord, "record %d", i)
		var ke *protocol.Error
		require.ErrorAs(t, err, &ke)
		var be *sender.BatchError
		switch i {
		case 1:
			assert.Equal(t, bad, ke.Detail, "record 1 carries its own message")
			assert.False(t, errors.As(err, &be), "record 1 has its own error, not the batch's")
		case 3:
			assert.Empty(t, ke.Detail)
			assert.False(t, errors.As(err, &be), "record 3 has its own error, not the batch's")
		default:
			assert.True(t, errors.As(err, &be), "record %d carries the batch error", i)
		}
	}
	assert.Equal(t, 1, log.count())
}

// TestDroppedRequestRetriedOnNewConnection: a request the broker never
// answers times out (request.timeout.ms), which closes the connection; the
// batch is retried on a new one. The old connection is stuck behind the
// dropped request, so success itself proves the new connection.
func TestDroppedRequestRetriedOnNewConnection(t *testing.T) {
	log := produceLog{answer: func(n int, _ int32, _ *protocol.ProduceRequest) fakebroker.Action {
		return fakebroker.Action{Drop: n == 1}
	}}
	e := newEnv(t, options{
		broker: fakebroker.Config{Topics: map[string]int32{"t": 1}, Store: true, Handler: log.handler},
		conn:   conn.Config{RequestTimeout: 300 * time.Millisecond},
	})
	handshakes := e.fb.Requests(protocol.KeyAPIVersions)
	r := e.send("t", 0, "v")
	e.flush()
	off, err := r.wait(t)
	require.NoError(t, err)
	assert.Equal(t, int64(0), off)
	assert.Equal(t, 2, log.count())
	assert.Greater(t, e.fb.Requests(protocol.KeyAPIVersions), handshakes+1, "a produce connection, then another")
	assert.Equal(t, []string{"v"}, values(e.fb, "t", 0))
}

// TestClosedConnectionRetried: the broker closes the connection instead of
// answering; the batch is retried on a new connection.
func TestClosedConnectionRetried(t *testing.T) {
	log := produceLog{answer: func(n int, _ int32, _ *protocol.ProduceRequest) fakebroker.Action {
		return fakebroker.Action{CloseConn: n == 1}
	}}
	e := newEnv(t, options{broker: fakebroker.Config{Topics: map[string]int32{"t": 1}, Store: true, Handler: log.handler}})
	recs := e.sendN("t", 0, "v", 3)
	e.flush()
	for i, r := range recs {
		off, err := r.wait(t)
		require.NoError(t, err)
		assert.Equal(t, int64(i), off)
	}
	assert.Equal(t, 2, log.count())
	assert.Equal(t, names(recs), values(e.fb, "t", 0))
}

// TestDeliveryTimeout: a batch the broker keeps refusing with a retriable
// error fails with a DeliveryTimeoutError once delivery.timeout.ms has
// passed. Only an upper bound on the time is asserted.
func TestDeliveryTimeout(t *testing.T) {
	var attempts atomic.Int32
	log := produceLog{answer: func(int, int32, *protocol.ProduceRequest) fakebroker.Action {
		attempts.Add(1)
		return fakebroker.Action{ErrorCode: protocol.ErrNotEnoughReplicas.Code}
	}}
	const timeout = 300 * time.Millisecond
	e := newEnv(t, options{
		broker: fakebroker.Config{Topics: map[string]int32{"t": 1}, Handler: log.handler},
		sender: sender.Config{DeliveryTimeout: timeout, RequestTimeout: 100 * time.Millisecond},
	})
	start := time.Now()
	r := e.send("t", 0, "v")
	e.flush()
	_, err := r.wait(t)
	elapsed := time.Since(start)
	var dte *sender.DeliveryTimeoutError
	require.ErrorAs(t, err, &dte)
	assert.ErrorIs(t, err, accumulator.ErrDeliveryTimeout)
	assert.Equal(t, timeout, dte.Timeout)
	assert.Greater(t, attempts.Load(), int32(1), "it was retried meanwhile")
	assert.Less(t, elapsed, timeout+5*time.Second, "failed within roughly delivery.timeout.ms")
	assert.Zero(t, e.fb.Records("t", 0))
}

// TestMessageTooLargeSplits: a batch over the broker's message.max.bytes
// is split until the halves fit; every record lands once, in order, and its
// future reports its real offset.
func TestMessageTooLargeSplits(t *testing.T) {
	for _, idem := range []bool{false, true} {
		t.Run(fmt.Sprint("idempotence=", idem), func(t *testing.T) {
			e := newEnv(t, options{idempotence: idem, broker: fakebroker.Config{Topics: map[string]int32{"t": 1}, Store: true, MaxMessageBytes: 1000}})
			var recs []*record
			for i := range 16 {
				recs = append(recs, e.send("t", 0, fmt.Sprintf("%02d-%s", i, strings.Repeat("x", 100))))
			}
			e.flush()
			for i, r := range recs {
				off, err := r.wait(t)
				require.NoError(t, err, "record %d", i)
				assert.Equal(t, int64(i), off)
			}
			assert.Equal(t, names(recs), values(e.fb, "t", 0))
		})
	}
}

// TestCloseDrains: Close sends everything still queued (even batches far
// from their linger) and completes every record.
func TestCloseDrains(t *testing.T) {
	e := newEnv(t, options{broker: fakebroker.Config{Brokers: 2, Topics: map[string]int32{"t": 4}, Store: true}})
	var recs [][]*record
	for p := range int32(4) {
		recs = append(recs, e.sendN("t", p, fmt.Sprint("p", p), 5))
	}
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	require.NoError(t, e.close(ctx))
	for p, rs := range recs {
		for i, r := range rs {
			require.True(t, r.done(), "Close returned before record %d of partition %d completed", i, p)
			off, err := r.wait(t)
			require.NoError(t, err)
			assert.Equal(t, int64(i), off)
		}
		assert.Equal(t, names(rs), values(e.fb, "t", int32(p)))
	}
	_, err := e.acc.Append(context.Background(), "t", 0, 0, nil, []byte("late"), nil, accumulator.Thunk{}, time.Second)
	assert.ErrorIs(t, err, accumulator.ErrClosed)
}

// TestCloseExpiredContext: when Close's context ends before everything is
// delivered, queued batches fail with ErrClosedBeforeSent, the in-flight one
// with ErrClosedInFlight, and Close returns (and leaves no goroutine).
func TestCloseExpiredContext(t *testing.T) {
	never := make(chan struct{})
	defer close(never)
	log := produceLog{answer: func(int, int32, *protocol.ProduceRequest) fakebroker.Action {
		return fakebroker.Action{Hold: never}
	}}
	e := newEnv(t, options{
		broker:    fakebroker.Config{Topics: map[string]int32{"t": 1}, Handler: log.handler},
		sender:    sender.Config{MaxInFlight: 1},
		batchSize: soloBatchSize,
	})
	recs := e.sendSolo("t", 0, "v", 5)
	e.flush()
	waitFor(t, "the first request", func() bool { return log.count() == 1 })

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	closed := make(chan error, 1)
	go func() { closed <- e.close(ctx) }()
	select {
	case err := <-closed:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(hangLimit):
		t.Fatal("Close did not return")
	}
	for i, r := range recs {
		require.True(t, r.done(), "record %d has no outcome after Close", i)
		_, err := r.wait(t)
		if i == 0 {
			assert.ErrorIs(t, err, sender.ErrClosedInFlight, "record 0 was in flight")
			continue
		}
		assert.ErrorIs(t, err, sender.ErrClosedBeforeSent, "record %d was queued", i)
		assert.ErrorIs(t, err, accumulator.ErrAborted)
	}
	assert.Equal(t, 1, log.count())
}
