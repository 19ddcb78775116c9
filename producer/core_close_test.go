package producer

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/internal/fakebroker"
	"github.com/tributary-go/tributary/protocol"
)

// TestCloseWithManyOutstandingRequestsReturns sends more Produce requests
// than the sender once buffered responses for (1,024) to a broker that
// never answers, with idempotence off so nothing limits the requests per
// partition, then closes with a short context. Close must return and every
// record must fail. Before the fix, abort closed the connection pool, which
// waited for reader goroutines blocked posting their failed requests to a
// full channel nobody read: Close hung forever, past its context.
func TestCloseWithManyOutstandingRequestsReturns(t *testing.T) {
	checkNoLeaks(t)
	const topic, n = "silent", 1100
	fb, err := fakebroker.Start(fakebroker.Config{Topics: map[string]int32{topic: 1},
		Handler: func(_ int32, key protocol.Key, _ int16, _ protocol.Request) fakebroker.Action {
			return fakebroker.Action{Drop: key == protocol.KeyProduce} // never answered
		}})
	require.NoError(t, err)
	t.Cleanup(fb.Close)
	p, err := New(WithBootstrapServers(fb.Addrs()...), WithLogger(testLogger(t)),
		WithIdempotence(false), WithAcks(AcksLeader), WithMaxInFlight(2*n),
		WithBatchSize(100), WithLinger(0),
		WithRequestTimeout(10*time.Minute), WithDeliveryTimeout(20*time.Minute))
	require.NoError(t, err)

	ctx := context.Background()
	futures := make([]*Future, n)
	for i := range futures {
		// Larger than batch.size: a batch, and so a request, of its own.
		futures[i] = p.Send(ctx, &Record{Topic: topic, Value: make([]byte, 200)})
	}
	waitFor(t, "every record's request to reach the broker", func() bool { return fb.Requests(protocol.KeyProduce) >= n })

	closed := make(chan error, 1)
	go func() {
		cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		closed <- p.Close(cctx)
	}()
	select {
	case err := <-closed:
		require.Error(t, err, "Close past its deadline reports it")
	case <-time.After(30 * time.Second):
		t.Fatal("Close with more than 1,024 outstanding requests did not return")
	}
	for i, f := range futures {
		_, err := f.Get(ctx)
		require.Error(t, err, "record %d", i)
	}
}
