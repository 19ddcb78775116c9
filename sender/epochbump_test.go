package sender_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/internal/fakebroker"
	"github.com/tributary-go/tributary/protocol"
	"github.com/tributary-go/tributary/sender"
)

// TestIdempotentEpochBumpKeepsProducerID: against a coordinator that, as
// Kafka's does for a producer without a transactional id
// (TransactionCoordinator.handleInitProducerId), answers every
// InitProducerId with a new producer id whatever id and epoch it carries,
// an epoch bump keeps the producer id: the idempotent producer bumps its
// epoch itself, as Java's TransactionManager.bumpIdempotentProducerEpoch
// does, and the broker takes the higher epoch at sequence 0. Asking the
// coordinator would change the producer id mid-run instead.
func TestIdempotentEpochBumpKeepsProducerID(t *testing.T) {
	var nextID atomic.Int64
	nextID.Store(5000)
	log := produceLog{answer: func(n int, _ int32, _ *protocol.ProduceRequest) fakebroker.Action {
		if n == 2 {
			return fakebroker.Action{ErrorCode: protocol.ErrOutOfOrderSequenceNumber.Code}
		}
		return fakebroker.Action{}
	}}
	handler := func(node int32, key protocol.Key, v int16, req protocol.Request) fakebroker.Action {
		if key == protocol.KeyInitProducerID {
			resp := protocol.NewInitProducerIDResponse()
			resp.ProducerID, resp.ProducerEpoch = nextID.Add(1)-1, 0
			return fakebroker.Action{Respond: resp}
		}
		return log.handler(node, key, v, req)
	}
	e := newEnv(t, options{idempotence: true, batchSize: soloBatchSize,
		broker: fakebroker.Config{Topics: map[string]int32{"t": 1}, Store: true, Handler: handler},
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
		got = append(got, fmt.Sprintf("%d/e%d/s%d", b.ProducerID, b.ProducerEpoch, b.BaseSequence))
	}
	assert.Equal(t, []string{"5000/e0/s0", "5000/e1/s0", "5000/e1/s1"}, got, "one producer id, its epoch bumped once")
	assert.Equal(t, 1, e.fb.Requests(protocol.KeyInitProducerID), "InitProducerId only for the first id")
	id, epoch := e.idem.ProducerID()
	assert.Equal(t, int64(5000), id)
	assert.Equal(t, int16(1), epoch)
}
