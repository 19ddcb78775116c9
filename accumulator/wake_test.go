package accumulator

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestWaiterWakesSender: an Append that starts waiting for memory signals
// the sender's wake channel, because a waiter makes every queued batch
// sendable at once while the sender may be asleep until a long linger.
func TestWaiterWakesSender(t *testing.T) {
	const batchSize = 1 << 10
	pool := NewBufferPool(2*batchSize, batchSize)
	acc := New(Config{BatchSize: batchSize, Linger: time.Hour, DeliveryTimeout: time.Hour}, pool)
	// Two partitions' batches take the whole pool.
	for p := range int32(2) {
		_, err := acc.Append(context.Background(), "t", p, 1, nil, make([]byte, 100), nil, Thunk{}, time.Second)
		require.NoError(t, err)
	}
	// Drain the wake-ups the new batches gave.
	for len(acc.Wake()) > 0 {
		<-acc.Wake()
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := acc.Append(ctx, "t", 2, 1, nil, make([]byte, 100), nil, Thunk{}, time.Hour)
		errc <- err
	}()
	select {
	case <-acc.Wake():
	case err := <-errc:
		t.Fatalf("Append returned (%v) instead of waiting for memory", err)
	case <-time.After(30 * time.Second):
		t.Fatal("an Append waiting for memory did not wake the sender")
	}
	require.Equal(t, 1, pool.Waiters())
	cancel()
	err := <-errc
	require.True(t, errors.Is(err, ErrBufferExhausted) || errors.Is(err, context.Canceled), "err = %v", err)
}
