package sender_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/internal/fakebroker"
	"github.com/tributary-go/tributary/sender"
)

// TestDeadLeaderRefreshesMetadata: a partition's leader dies (every
// connection to it fails, as after a SIGKILL) while nothing is in flight,
// and the cluster elects another leader. The failed dials must make the
// sender refresh metadata, as Java's NetworkClient does after every
// disconnect, so the batch goes to the new leader; otherwise it waits for
// the old one to return or for metadata.max.age.ms (5 minutes here), and
// expires first.
func TestDeadLeaderRefreshesMetadata(t *testing.T) {
	var dead atomic.Pointer[string] // the address that refuses connections
	var d net.Dialer
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if a := dead.Load(); a != nil && *a == addr {
			return nil, errors.New("connect: connection refused (test)")
		}
		return d.DialContext(ctx, network, addr)
	}
	log := produceLog{}
	e := newEnv(t, options{
		broker:      fakebroker.Config{Brokers: 2, Topics: map[string]int32{"t": 1}, Store: true, Handler: log.handler},
		sender:      sender.Config{DeliveryTimeout: 10 * time.Second},
		conn:        conn.Config{Dial: dial},
		idempotence: true,
	})

	first := e.send("t", 0, "a")
	e.flush()
	_, err := first.wait(t)
	require.NoError(t, err)

	// Node 0 dies with no request in flight; node 1 takes over.
	addr := e.fb.Addrs()[0]
	dead.Store(&addr)
	e.fb.CloseConns(0)
	e.fb.SetLeader("t", 0, 1)

	second := e.send("t", 0, "b")
	e.flush()
	off, err := second.wait(t)
	require.NoError(t, err, "the batch never reached the new leader")
	assert.Equal(t, int64(1), off)
	assert.Equal(t, []string{"a", "b"}, values(e.fb, "t", 0))
	last := log.requests()[len(log.requests())-1]
	assert.Equal(t, int32(1), last.node, "the last Produce went to the new leader")
}
