package sender_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/internal/fakebroker"
	"github.com/tributary-go/tributary/protocol"
	"github.com/tributary-go/tributary/sender"
)

// TestFirstBatchRetriedBeforeLaterOnes is KAFKA-15591 as
// TestKafkaIdempotenceKill9 met it on Kafka 4.1.1: the first Produce
// request for a partition fails with a retriable error (the leader was
// still applying the new topic), and a broker without state for a
// producer id takes any first sequence (ProducerAppendInfo.checkSequence),
// as the fake broker does. Had the partition's next batches been
// pipelined behind the first, they would have been written first; the
// first batch's retry then got OUT_OF_ORDER_SEQUENCE_NUMBER, the epoch was
// bumped and it was written after them: out of order. The sender keeps a
// partition to one batch in flight until one is acknowledged under the
// producer id, so every batch lands in order under one epoch.
//
// The first answer comes 200 ms late, which gives a sender that pipelines
// time to send the later batches (the test then fails on the batch order);
// a correct sender passes whatever the timing.
func TestFirstBatchRetriedBeforeLaterOnes(t *testing.T) {
	log := produceLog{answer: func(n int, _ int32, _ *protocol.ProduceRequest) fakebroker.Action {
		if n == 1 {
			return fakebroker.Action{ErrorCode: protocol.ErrNotLeaderOrFollower.Code, Delay: 200 * time.Millisecond}
		}
		return fakebroker.Action{}
	}}
	e := newEnv(t, options{idempotence: true, batchSize: soloBatchSize,
		broker: fakebroker.Config{Topics: map[string]int32{"t": 1}, Store: true, Handler: log.handler},
		sender: sender.Config{MaxInFlight: 5}})
	recs := e.sendSolo("t", 0, "v", 4)
	e.flush()
	for i, r := range recs {
		off, err := r.wait(t)
		require.NoError(t, err, "record %d", i)
		assert.Equal(t, int64(i), off, "record %d", i)
	}
	assert.Equal(t, names(recs), values(e.fb, "t", 0), "written in the order sent")
	var stored []string
	for _, b := range e.fb.Batches("t", 0) {
		stored = append(stored, fmt.Sprintf("e%d/s%d", b.ProducerEpoch, b.BaseSequence))
	}
	assert.Equal(t, []string{"e0/s0", "e0/s1", "e0/s2", "e0/s3"}, stored, "one epoch, no bump")
	var sent []int32
	for _, r := range log.requests() {
		for _, p := range r.partitions {
			sent = append(sent, p.seq)
		}
	}
	assert.Equal(t, []int32{0, 0, 1, 2, 3}, sent, "sequence 0, its retry, then the rest")
}
