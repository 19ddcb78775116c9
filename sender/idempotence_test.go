package sender_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/internal/fakebroker"
	"github.com/tributary-go/tributary/protocol"
	"github.com/tributary-go/tributary/sender"
)

// TestIdempotentSequences: batches carry the producer id and epoch from
// InitProducerId and per-partition sequences that advance by each batch's
// record count, with several requests in flight.
func TestIdempotentSequences(t *testing.T) {
	e := newEnv(t, options{idempotence: true, batchSize: 100, broker: fakebroker.Config{Topics: map[string]int32{"t": 2}, Store: true}})
	recs := [][]*record{e.sendN("t", 0, "a", 20), e.sendN("t", 1, "b", 13)}
	e.flush()
	for p, rs := range recs {
		for i, r := range rs {
			off, err := r.wait(t)
			require.NoError(t, err)
			assert.Equal(t, int64(i), off)
		}
		batches := e.fb.Batches("t", int32(p))
		require.Greater(t, len(batches), 2, "several batches per partition")
		seq := int32(0)
		for _, b := range batches {
			assert.Equal(t, int64(1000), b.ProducerID)
			assert.Equal(t, int16(0), b.ProducerEpoch)
			assert.Equal(t, seq, b.BaseSequence)
			seq += b.NumRecords
		}
		assert.Equal(t, names(rs), values(e.fb, "t", int32(p)))
	}
	assert.Equal(t, 1, e.fb.Requests(protocol.KeyInitProducerID))
}

// appendThenTimeout answers the first Produce request with REQUEST_TIMED_OUT
// after appending it: the batch is written, the producer is told it may not
// have been.
func appendThenTimeout(n int, _ int32, _ *protocol.ProduceRequest) fakebroker.Action {
	if n == 1 {
		return fakebroker.Action{ErrorCode: protocol.ErrRequestTimedOut.Code, AppendThenError: true}
	}
	return fakebroker.Action{}
}

// TestRetryAfterAppendIsDeduplicated: with idempotence, the retry of a batch
// the broker appended but did not acknowledge (REQUEST_TIMED_OUT after the
// append, or no answer until request.timeout.ms closed the connection) is
// recognised as a duplicate; the partition has every record exactly once
// and the futures report the original offsets.
func TestRetryAfterAppendIsDeduplicated(t *testing.T) {
	never := make(chan struct{})
	defer close(never)
	for _, tc := range []struct {
		name   string
		answer func(n int, node int32, req *protocol.ProduceRequest) fakebroker.Action
	}{
		{"REQUEST_TIMED_OUT after append", appendThenTimeout},
		{"no answer after append", func(n int, _ int32, _ *protocol.ProduceRequest) fakebroker.Action {
			if n == 1 {
				return fakebroker.Action{Hold: never}
			}
			return fakebroker.Action{}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := produceLog{answer: tc.answer}
			e := newEnv(t, options{idempotence: true, broker: fakebroker.Config{Topics: map[string]int32{"t": 1}, Store: true, Handler: log.handler},
				conn: conn.Config{RequestTimeout: 300 * time.Millisecond}})
			recs := e.sendN("t", 0, "v", 3)
			e.flush()
			for i, r := range recs {
				off, err := r.wait(t)
				require.NoError(t, err)
				assert.Equal(t, int64(i), off)
			}
			assert.Equal(t, 2, log.count(), "the attempt and its retry")
			assert.Equal(t, int64(3), e.fb.Records("t", 0), "each record exactly once")
			assert.Equal(t, names(recs), values(e.fb, "t", 0))
		})
	}
}

// TestRetryAfterAppendDuplicatesWithoutIdempotence proves the fault above
// bites: without idempotence the same retry writes the records twice.
func TestRetryAfterAppendDuplicatesWithoutIdempotence(t *testing.T) {
	log := produceLog{answer: appendThenTimeout}
	e := newEnv(t, options{broker: fakebroker.Config{Topics: map[string]int32{"t": 1}, Store: true, Handler: log.handler}})
	recs := e.sendN("t", 0, "v", 3)
	e.flush()
	for _, r := range recs {
		_, err := r.wait(t)
		require.NoError(t, err)
	}
	assert.Equal(t, int64(6), e.fb.Records("t", 0), "written twice")
	assert.Equal(t, append(names(recs), names(recs)...), values(e.fb, "t", 0))
}

// TestIdempotentOrderAfterRetriableError: with five requests in flight, the
// second fails with a retriable error; the broker answers the ones behind it
// OUT_OF_ORDER_SEQUENCE_NUMBER (a gap). They go again behind the retried
// one, without an epoch bump, and the log ends up in order, exactly once.
func TestIdempotentOrderAfterRetriableError(t *testing.T) {
	release := make(chan struct{})
	log := produceLog{answer: func(n int, _ int32, _ *protocol.ProduceRequest) fakebroker.Action {
		if n == 2 {
			return fakebroker.Action{ErrorCode: protocol.ErrNotEnoughReplicas.Code, Hold: release}
		}
		return fakebroker.Action{}
	}}
	e := newEnv(t, options{idempotence: true, batchSize: soloBatchSize, broker: fakebroker.Config{Topics: map[string]int32{"t": 1}, Store: true, Handler: log.handler}})
	recs := e.sendSolo("t", 0, "v", 8)
	e.flush()
	// Batch 1 is answered; 2-6 fill the window behind the held answer.
	waitFor(t, "six requests", func() bool { return log.count() == 6 })
	close(release)
	for i, r := range recs {
		off, err := r.wait(t)
		require.NoError(t, err, "record %d", i)
		assert.Equal(t, int64(i), off)
	}
	assert.Equal(t, names(recs), values(e.fb, "t", 0))
	for _, b := range e.fb.Batches("t", 0) {
		assert.Equal(t, int16(0), b.ProducerEpoch, "no epoch bump was needed")
	}
	assert.Equal(t, 1, e.fb.Requests(protocol.KeyInitProducerID))
}

// TestIdempotentEpochBump: OUT_OF_ORDER_SEQUENCE_NUMBER or
// UNKNOWN_PRODUCER_ID for a partition's first unacknowledged batch bumps the
// epoch (KIP-360: locally, the same id, no InitProducerId), and the batch
// is resent restamped at sequence 0 of the new epoch.
func TestIdempotentEpochBump(t *testing.T) {
	for _, code := range []*protocol.Error{protocol.ErrOutOfOrderSequenceNumber, protocol.ErrUnknownProducerID} {
		t.Run(code.Name, func(t *testing.T) {
			log := produceLog{answer: func(n int, _ int32, _ *protocol.ProduceRequest) fakebroker.Action {
				if n == 2 {
					return fakebroker.Action{ErrorCode: code.Code}
				}
				return fakebroker.Action{}
			}}
			e := newEnv(t, options{idempotence: true, batchSize: soloBatchSize, broker: fakebroker.Config{Topics: map[string]int32{"t": 1}, Store: true, Handler: log.handler},
				sender: sender.Config{MaxInFlight: 1}})
			recs := e.sendSolo("t", 0, "v", 3)
			e.flush()
			for i, r := range recs {
				off, err := r.wait(t)
				require.NoError(t, err, "record %d", i)
				assert.Equal(t, int64(i), off)
			}
			assert.Equal(t, names(recs), values(e.fb, "t", 0))
			var got []string
			for _, b := range e.fb.Batches("t", 0) {
				assert.Equal(t, int64(1000), b.ProducerID, "the same id, bumped")
				got = append(got, fmt.Sprintf("e%d/s%d", b.ProducerEpoch, b.BaseSequence))
			}
			assert.Equal(t, []string{"e0/s0", "e1/s0", "e1/s1"}, got)
			assert.Equal(t, 1, e.fb.Requests(protocol.KeyInitProducerID), "the epoch is bumped locally")
		})
	}
}

// TestIdempotentLeaderMoveWaitsForOldLeader: once a partition's leader moves,
// nothing of it goes to the new leader while requests for it are still
// outstanding on the old one; afterwards everything lands in order, once.
func TestIdempotentLeaderMoveWaitsForOldLeader(t *testing.T) {
	release := make(chan struct{})
	var fb atomic.Pointer[fakebroker.Broker]
	log := produceLog{answer: func(n int, node int32, _ *protocol.ProduceRequest) fakebroker.Action {
		if n == 2 {
			// The leader moves under request 2; its answer (and those
			// behind it) wait.
			fb.Load().SetLeader("t", 0, 1)
			return fakebroker.Action{Hold: release}
		}
		return fakebroker.Action{}
	}}
	e := newEnv(t, options{idempotence: true, batchSize: soloBatchSize, broker: fakebroker.Config{Brokers: 2, Topics: map[string]int32{"t": 1}, Store: true, Handler: log.handler}})
	fb.Store(e.fb)
	recs := e.sendSolo("t", 0, "v", 6)
	e.flush()
	waitFor(t, "six requests", func() bool { return log.count() == 6 })

	// The client learns the new leader from Metadata while five requests
	// are still unanswered on node 0, then has a new batch to send.
	e.meta.RequestUpdate()
	waitFor(t, "metadata to name node 1", func() bool {
		b, ok := e.meta.Snapshot().Leader("t", 0)
		return ok && b.NodeID == 1
	})
	recs = append(recs, e.send("t", 0, "late"))
	e.snd.Wake()
	time.Sleep(50 * time.Millisecond) // a chance to break the rule; a correct sender never does
	for _, r := range log.requests() {
		assert.Equal(t, int32(0), r.node, "a request reached the new leader while the old one had requests outstanding")
	}
	close(release)
	for i, r := range recs {
		_, err := r.wait(t)
		require.NoError(t, err, "record %d", i)
	}
	assert.Equal(t, names(recs), values(e.fb, "t", 0))
}

// TestIdempotentFailedBatchBumpsEpoch: a batch that fails for good after it
// was sent leaves a hole in its partition's sequences; the epoch is bumped
// and later batches are accepted.
func TestIdempotentFailedBatchBumpsEpoch(t *testing.T) {
	log := produceLog{answer: func(n int, _ int32, _ *protocol.ProduceRequest) fakebroker.Action {
		if n == 2 {
			return fakebroker.Action{ErrorCode: protocol.ErrInvalidRecord.Code}
		}
		return fakebroker.Action{}
	}}
	e := newEnv(t, options{idempotence: true, batchSize: soloBatchSize, broker: fakebroker.Config{Topics: map[string]int32{"t": 1}, Store: true, Handler: log.handler},
		sender: sender.Config{MaxInFlight: 1}})
	recs := e.sendSolo("t", 0, "v", 3)
	e.flush()
	for i, r := range recs {
		_, err := r.wait(t)
		if i == 1 {
			assert.ErrorIs(t, err, protocol.ErrInvalidRecord)
			continue
		}
		require.NoError(t, err, "record %d", i)
	}
	assert.Equal(t, []string{recs[0].value, recs[2].value}, values(e.fb, "t", 0))
	var got []string
	for _, b := range e.fb.Batches("t", 0) {
		got = append(got, fmt.Sprintf("%d/e%d/s%d", b.ProducerID, b.ProducerEpoch, b.BaseSequence))
	}
	assert.Equal(t, []string{"1000/e0/s0", "1000/e1/s0"}, got, "one epoch bump, of the same id")
	assert.Equal(t, 1, e.fb.Requests(protocol.KeyInitProducerID), "the epoch is bumped locally")
}

// TestIdempotentConnectionLossKeepsOrder: the broker closes the connection
// with several requests in flight (the closing one and those behind it are
// never handled); every batch is retried, in sequence order, and the log
// ends up in order, exactly once.
func TestIdempotentConnectionLossKeepsOrder(t *testing.T) {
	log := produceLog{answer: func(n int, _ int32, _ *protocol.ProduceRequest) fakebroker.Action {
		return fakebroker.Action{CloseConn: n == 3}
	}}
	e := newEnv(t, options{idempotence: true, batchSize: soloBatchSize, broker: fakebroker.Config{Topics: map[string]int32{"t": 1}, Store: true, Handler: log.handler}})
	recs := e.sendSolo("t", 0, "v", 10)
	e.flush()
	for i, r := range recs {
		off, err := r.wait(t)
		require.NoError(t, err, "record %d", i)
		assert.Equal(t, int64(i), off)
	}
	assert.Equal(t, names(recs), values(e.fb, "t", 0))
}

// TestInitProducerIDErrors: a retriable InitProducerId error is retried and
// the records go out; a fatal one (CLUSTER_AUTHORIZATION_FAILED) fails every
// queued record with a FatalError.
func TestInitProducerIDErrors(t *testing.T) {
	for _, tc := range []struct {
		code  *protocol.Error
		fatal bool
	}{
		{protocol.ErrCoordinatorLoadInProgress, false},
		{protocol.ErrClusterAuthorizationFailed, true},
	} {
		t.Run(tc.code.Name, func(t *testing.T) {
			var calls atomic.Int32
			handler := func(_ int32, key protocol.Key, _ int16, _ protocol.Request) fakebroker.Action {
				if key == protocol.KeyInitProducerID && (tc.fatal || calls.Add(1) <= 2) {
					return fakebroker.Action{ErrorCode: tc.code.Code}
				}
				return fakebroker.Action{}
			}
			e := newEnv(t, options{idempotence: true, broker: fakebroker.Config{Topics: map[string]int32{"t": 1}, Store: true, Handler: handler}})
			recs := e.sendN("t", 0, "v", 3)
			e.flush()
			for i, r := range recs {
				_, err := r.wait(t)
				if !tc.fatal {
					require.NoError(t, err)
					continue
				}
				var fe *sender.FatalError
				assert.ErrorAs(t, err, &fe, "record %d", i)
				assert.ErrorIs(t, err, protocol.ErrClusterAuthorizationFailed)
			}
			if tc.fatal {
				assert.Zero(t, e.fb.Requests(protocol.KeyProduce), "nothing was sent without a producer id")
			} else {
				assert.Equal(t, names(recs), values(e.fb, "t", 0))
				assert.Equal(t, 3, e.fb.Requests(protocol.KeyInitProducerID))
			}
		})
	}
}
