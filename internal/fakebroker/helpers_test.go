package fakebroker

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/internal/leakcheck"
	"github.com/tributary-go/tributary/protocol"
)

// hangLimit bounds every wait; it guards against hangs and is never an
// assertion about speed.
const hangLimit = 20 * time.Second

// brokerFrames is how every goroutine the broker starts shows in a stack:
// its methods are on *Broker and *brokerConn.
const brokerFrames = "internal/fakebroker.(*"

// start starts a broker closed when the test ends, and checks that none of
// its goroutines outlive Close. Close waits for them to finish but cannot
// wait for the runtime to forget them, so the check polls (see Close).
func start(t *testing.T, cfg Config) *Broker {
	t.Helper()
	leakcheck.Check(t, brokerFrames)
	b, err := Start(cfg)
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return b
}

// dial connects our own client connection to addr, closed when the test
// ends.
func dial(t testing.TB, addr string, cfg *conn.Config) *conn.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	c, err := conn.Dial(ctx, addr, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// waitClosed waits for a client connection to die, failing the test after
// hangLimit.
func waitClosed(t testing.TB, c *conn.Conn) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(hangLimit):
		t.Fatal("connection still open")
	}
}

// batch encodes a batch of n records ("v0", "v1", ...) with producer state.
func batch(n int, pid int64, epoch int16, seq int32) []byte {
	var bb protocol.BatchBuilder
	bb.Reset(nil)
	for i := range n {
		bb.Append(1700000000000+int64(i), nil, []byte("v"+string(rune('0'+i%10))), nil)
	}
	out, err := bb.Close(protocol.BatchOptions{ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq})
	if err != nil {
		panic(err)
	}
	return out
}

// plain encodes a non-idempotent batch of n records.
func plain(n int) []byte { return batch(n, -1, -1, -1) }

// produceReq builds a Produce request with one batch for topic-partition.
func produceReq(acks int16, topic string, partition int32, records []byte) *protocol.ProduceRequest {
	return &protocol.ProduceRequest{Acks: acks, TimeoutMillis: 5000, Topics: []protocol.ProduceRequestTopic{{
		Name: topic, Partitions: []protocol.ProduceRequestPartition{{Index: partition, Records: records}},
	}}}
}

// produce sends req on c and returns the single partition's answer.
func produce(t *testing.T, c *conn.Conn, req *protocol.ProduceRequest) protocol.ProduceResponsePartition {
	t.Helper()
	resp := do(t, c, req).(*protocol.ProduceResponse)
	require.Len(t, resp.Topics, 1)
	require.Len(t, resp.Topics[0].Partitions, 1)
	return resp.Topics[0].Partitions[0]
}

func do(t *testing.T, c *conn.Conn, req protocol.Request) protocol.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	resp, err := c.Do(ctx, req)
	require.NoError(t, err)
	return resp
}
