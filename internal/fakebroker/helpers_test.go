package fakebroker

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/protocol"
)

// hangLimit bounds every wait; it guards against hangs and is never an
// assertion about speed.
const hangLimit = 20 * time.Second

// start starts a broker closed when the test ends, and checks that none of
// its goroutines outlive Close.
func start(t *testing.T, cfg Config) *Broker {
	t.Helper()
	b, err := Start(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		b.Close()
		deadline := time.Now().Add(hangLimit)
		for {
			left := brokerGoroutines()
			if len(left) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("goroutines alive after Close:\n%s", strings.Join(left, "\n\n"))
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	return b
}

func brokerGoroutines() []string {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "internal/fakebroker.(*") {
			out = append(out, g)
		}
	}
	return out
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
