package sender_test

import (
	"fmt"
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

// TestInFlightBatchExpiresAtDeliveryTimeout: the broker never answers and
// the connection's request timeout is ten minutes, far beyond
// delivery.timeout.ms. The batch must fail at delivery.timeout.ms while its
// request is still outstanding (Java Sender.getExpiredInflightBatches),
// with a cause saying it was in flight, and its memory must stay with the
// request until that ends. Before, it waited for the request timeout: here
// the wait would have outlasted hangLimit.
func TestInFlightBatchExpiresAtDeliveryTimeout(t *testing.T) {
	for _, idem := range []bool{false, true} {
		t.Run(fmt.Sprint("idempotence=", idem), func(t *testing.T) {
			log := produceLog{answer: func(int, int32, *protocol.ProduceRequest) fakebroker.Action {
				return fakebroker.Action{Drop: true}
			}}
			e := newEnv(t, options{
				idempotence: idem,
				broker:      fakebroker.Config{Topics: map[string]int32{"t": 1}, Handler: log.handler},
				sender:      sender.Config{DeliveryTimeout: 300 * time.Millisecond, RequestTimeout: 100 * time.Millisecond},
				conn:        conn.Config{RequestTimeout: 10 * time.Minute},
			})
			total := e.acc.Pool().Total()
			r := e.send("t", 0, "v")
			e.flush()
			_, err := r.wait(t)
			require.ErrorIs(t, err, accumulator.ErrDeliveryTimeout)
			var inflight *sender.InFlightError
			require.ErrorAs(t, err, &inflight, "cause: %v", err)
			assert.Equal(t, int32(0), inflight.Node)
			assert.Equal(t, 1, log.count(), "sent once, then expired in flight")
			assert.Less(t, e.acc.Pool().Available(), total, "the outstanding request still holds the batch's memory")

			e.conns.CloseNode(0) // the request ends
			waitFor(t, "the batch's memory back in the pool", func() bool { return e.acc.Pool().Available() == total })
		})
	}
}

// TestExpiredInFlightBatchLateAckResolves: with idempotence, a batch that
// expires in flight may still be written. Here the broker appends it and
// answers only later (Hold). The record fails at delivery.timeout.ms, the
// next record, pipelined behind it on the same connection, keeps its
// sequence, and the late acknowledgement settles the partition: no epoch
// bump, nothing written twice.
func TestExpiredInFlightBatchLateAckResolves(t *testing.T) {
	release := make(chan struct{})
	log := produceLog{answer: func(n int, _ int32, _ *protocol.ProduceRequest) fakebroker.Action {
		if n == 1 {
			return fakebroker.Action{Hold: release}
		}
		return fakebroker.Action{}
	}}
	e := newEnv(t, options{
		idempotence: true,
		linger:      time.Millisecond,
		broker:      fakebroker.Config{Topics: map[string]int32{"t": 1}, Store: true, Handler: log.handler},
		sender:      sender.Config{DeliveryTimeout: 2 * time.Second, RequestTimeout: time.Second},
		conn:        conn.Config{RequestTimeout: 10 * time.Minute},
	})
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	r1 := e.send("t", 0, "one")
	_, err := r1.wait(t)
	var inflight *sender.InFlightError
	require.ErrorAs(t, err, &inflight, "the first record expires in flight: %v", err)
	_, epoch := e.idem.ProducerID()

	r2 := e.send("t", 0, "two")
	waitFor(t, "the second request at the broker", func() bool { return log.count() == 2 })
	close(release)
	_, err = r2.wait(t)
	require.NoError(t, err)

	assert.Equal(t, []string{"one", "two"}, values(e.fb, "t", 0), "written once each, in order")
	_, after := e.idem.ProducerID()
	assert.Equal(t, epoch, after, "no epoch bump")
	reqs := log.requests()
	assert.Equal(t, int32(1), reqs[1].partitions[0].seq, "the second batch kept the next sequence")
}

// TestQueuedBatchExpiryNamesSilentLeader: the broker never answers on an
// open connection whose request timeout is ten minutes, and the in-flight
// window is one request. The first batch expires in flight; the second,
// queued behind it, never goes out and expires at delivery.timeout.ms with
// a cause naming the leader whose requests went unanswered (before, it
// expired with no cause at all: its batch had no attempt, the leader's
// dials had not failed).
func TestQueuedBatchExpiryNamesSilentLeader(t *testing.T) {
	log := produceLog{answer: func(int, int32, *protocol.ProduceRequest) fakebroker.Action {
		return fakebroker.Action{Drop: true}
	}}
	e := newEnv(t, options{
		broker:    fakebroker.Config{Topics: map[string]int32{"t": 1}, Handler: log.handler},
		sender:    sender.Config{DeliveryTimeout: 300 * time.Millisecond, RequestTimeout: 100 * time.Millisecond, MaxInFlight: 1},
		conn:      conn.Config{RequestTimeout: 10 * time.Minute},
		batchSize: soloBatchSize,
	})
	recs := e.sendSolo("t", 0, "v", 2)
	e.flush()
	_, err := recs[0].wait(t)
	var inflight *sender.InFlightError
	require.ErrorAs(t, err, &inflight, "the first batch expires in flight: %v", err)
	_, err = recs[1].wait(t)
	require.ErrorIs(t, err, accumulator.ErrDeliveryTimeout)
	var queued *sender.QueuedError
	require.ErrorAs(t, err, &queued, "cause: %v", err)
	assert.Equal(t, int32(0), queued.Node)
	assert.Equal(t, 1, queued.Requests)
	assert.NotEmpty(t, queued.Addr)
	assert.Contains(t, err.Error(), "not answered")
	assert.Equal(t, 1, log.count(), "the second batch was never sent")
	e.conns.CloseNode(0) // the outstanding request ends, so Close can finish
}
