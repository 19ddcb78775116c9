package conn

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-go/tributary/protocol"
)

func TestBackoff(t *testing.T) {
	const base, maxB = 50 * time.Millisecond, time.Second
	for _, tc := range []struct {
		attempt int
		nominal time.Duration
	}{
		{0, 50 * time.Millisecond},
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{3, 400 * time.Millisecond},
		{4, 800 * time.Millisecond},
		{5, time.Second},
		{60, time.Second}, // no overflow
	} {
		lo := time.Duration(float64(tc.nominal) * 0.8)
		hi := min(time.Duration(float64(tc.nominal)*1.2), maxB)
		for range 200 {
			d := Backoff(tc.attempt, base, maxB)
			require.GreaterOrEqual(t, d, lo, "attempt %d", tc.attempt)
			require.LessOrEqual(t, d, hi, "attempt %d", tc.attempt)
		}
	}
	assert.Zero(t, Backoff(3, 0, time.Second))
	assert.LessOrEqual(t, Backoff(0, time.Second, 0), time.Second, "max below base is raised to base")
}

// countingDialer fails every dial (or passes it to the default dialer when
// target is set) and counts attempts.
type countingDialer struct {
	n      atomic.Int32
	mu     sync.Mutex
	target string // when set, dials go here
}

func (d *countingDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.n.Add(1)
	d.mu.Lock()
	target := d.target
	d.mu.Unlock()
	if target == "" {
		return nil, errors.New("connection refused (test)")
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, target)
}

func TestPoolBackoffAfterDialFailures(t *testing.T) {
	checkNoLeaks(t)
	d := &countingDialer{}
	readies := make(chan struct{}, 100)
	// Large enough that the loop below always runs inside the backoff.
	const base = 500 * time.Millisecond
	p := NewPool(&Config{Dial: d.dial, ReconnectBackoff: base, ReconnectBackoffMax: 10 * base},
		func() { readies <- struct{}{} })
	defer p.Close()

	c, retryIn, ok := p.Ready(1, "broker-1:9092", PurposeProduce)
	require.False(t, ok)
	assert.Nil(t, c)
	assert.Zero(t, retryIn, "a dial was started")
	wait(t, readies, "onReady after failed dial")
	assert.EqualValues(t, 1, d.n.Load())

	// In backoff: Ready starts no dial and says how long to wait.
	for range 5 {
		_, retryIn, ok = p.Ready(1, "broker-1:9092", PurposeProduce)
		require.False(t, ok)
		require.Greater(t, retryIn, time.Duration(0))
		require.LessOrEqual(t, retryIn, time.Duration(float64(base)*1.2))
		// The backoff is per broker, not per purpose.
		_, retryIn, ok = p.Ready(1, "broker-1:9092", PurposeControl)
		require.False(t, ok)
		require.Greater(t, retryIn, time.Duration(0))
	}
	assert.EqualValues(t, 1, d.n.Load(), "no dial during backoff")
	var de *DialError
	require.ErrorAs(t, p.LastError(1), &de)
	assert.Equal(t, "broker-1:9092", de.Addr)
	assert.Nil(t, p.LastError(2))

	// Get waits out the backoff, makes one attempt and returns its error.
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	_, err := p.Get(ctx, 1, "broker-1:9092", PurposeProduce)
	require.ErrorAs(t, err, &de)
	assert.EqualValues(t, 2, d.n.Load())
	// Second consecutive failure: the next backoff is Backoff(1, ...),
	// whose growth TestBackoff checks.
	p.mu.Lock()
	assert.Equal(t, 2, p.nodes[1].failures)
	p.mu.Unlock()
	assert.Greater(t, p.RetryIn(1), time.Duration(0))

	// A successful dial resets the backoff.
	cl := newCluster(t)
	d.mu.Lock()
	d.target = cl.ListenAddrs()[0]
	d.mu.Unlock()
	conn, err := p.Get(ctx, 1, "broker-1:9092", PurposeProduce)
	require.NoError(t, err)
	require.NotNil(t, conn)
	assert.Nil(t, p.LastError(1))
	assert.Zero(t, p.RetryIn(1))
	got, _, ok := p.Ready(1, "broker-1:9092", PurposeProduce)
	assert.True(t, ok)
	assert.Same(t, conn, got)
}

func TestPoolDialsClosedPort(t *testing.T) {
	checkNoLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()

	p := NewPool(&Config{ReconnectBackoff: 100 * time.Millisecond}, nil)
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	_, err = p.Get(ctx, BootstrapID(0), addr, PurposeControl)
	var de *DialError
	require.ErrorAs(t, err, &de)
	var oe *net.OpError
	assert.ErrorAs(t, err, &oe, "the cause is the dial error")
	assert.Greater(t, p.RetryIn(BootstrapID(0)), time.Duration(0))
	_, _, ok := p.Ready(BootstrapID(0), addr, PurposeControl)
	assert.False(t, ok)

	// ctx bounds Get's wait.
	short, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_, err = p.Get(short, BootstrapID(0), addr, PurposeControl)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestPoolPurposesAndCloseNode(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	addr := cl.ListenAddrs()[0]
	p := NewPool(nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()

	prod, err := p.Get(ctx, 0, addr, PurposeProduce)
	require.NoError(t, err)
	ctrl, err := p.Get(ctx, 0, addr, PurposeControl)
	require.NoError(t, err)
	assert.NotSame(t, prod, ctrl, "one connection per purpose")
	assert.Same(t, ctrl, p.Lookup(0, PurposeControl))
	assert.Nil(t, p.Lookup(1, PurposeControl))

	p.CloseNode(0)
	wait(t, prod.Done(), "produce conn closed")
	wait(t, ctrl.Done(), "control conn closed")
	assert.ErrorIs(t, prod.Err(), ErrClosed)
	assert.Nil(t, p.Lookup(0, PurposeProduce))
	assert.Zero(t, p.RetryIn(0), "closing is not a failure")

	again, err := p.Get(ctx, 0, addr, PurposeProduce)
	require.NoError(t, err)
	assert.NotSame(t, prod, again)

	p.Close()
	assert.ErrorIs(t, again.Err(), ErrClosed)
	_, err = p.Get(ctx, 0, addr, PurposeProduce)
	assert.ErrorIs(t, err, ErrClosed)
	_, _, ok := p.Ready(0, addr, PurposeProduce)
	assert.False(t, ok)
	p.Close() // idempotent
}

// TestPoolReplacesDeadConnections: an idle-closed connection is replaced
// at once; one that died of an error puts the broker in backoff.
func TestPoolReplacesDeadConnections(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	addr := cl.ListenAddrs()[0]
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()

	idle := NewPool(&Config{IdleTimeout: 100 * time.Millisecond, ReconnectBackoff: time.Hour, ReconnectBackoffMax: time.Hour}, nil)
	defer idle.Close()
	c1, err := idle.Get(ctx, 0, addr, PurposeControl)
	require.NoError(t, err)
	wait(t, c1.Done(), "idle close")
	c2, err := idle.Get(ctx, 0, addr, PurposeControl)
	require.NoError(t, err, "idleness is no reason to back off")
	assert.NotSame(t, c1, c2)

	failing := NewPool(&Config{RequestTimeout: 200 * time.Millisecond, ReconnectBackoff: time.Hour, ReconnectBackoffMax: time.Hour}, nil)
	defer failing.Close()
	c3, err := failing.Get(ctx, 0, addr, PurposeControl)
	require.NoError(t, err)
	cl.ControlKey(int16(kmsg.Metadata), func(kmsg.Request) (kmsg.Response, error, bool) {
		return nil, nil, true // swallow
	})
	_, err = c3.Do(ctx, metadataReq())
	require.ErrorIs(t, err, ErrRequestTimeout)
	_, retryIn, ok := failing.Ready(0, addr, PurposeControl)
	assert.False(t, ok)
	assert.Greater(t, retryIn, time.Minute, "a failed connection puts the broker in backoff")
	assert.ErrorIs(t, failing.LastError(0), ErrRequestTimeout)
}

// TestPoolSingleDial: many concurrent callers share one dial.
func TestPoolSingleDial(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	d := &countingDialer{target: cl.ListenAddrs()[1]}
	p := NewPool(&Config{Dial: d.dial}, nil)
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	var wg sync.WaitGroup
	conns := make([]*Conn, 20)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				c, err := p.Get(ctx, 1, "b1", PurposeProduce)
				assert.NoError(t, err)
				conns[i] = c
				return
			}
			for {
				c, retryIn, ok := p.Ready(1, "b1", PurposeProduce)
				if ok {
					conns[i] = c
					return
				}
				assert.Zero(t, retryIn)
				time.Sleep(time.Millisecond)
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 1, d.n.Load())
	for _, c := range conns {
		assert.Same(t, conns[0], c)
	}
}

// TestPoolCloseDuringDial: Close cancels a dial in progress and waits for it.
func TestPoolCloseDuringDial(t *testing.T) {
	checkNoLeaks(t)
	started := make(chan struct{})
	p := NewPool(&Config{Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	}}, nil)
	_, _, ok := p.Ready(5, "b5", PurposeControl)
	require.False(t, ok)
	wait(t, started, "dial")
	p.Close() // must return: the dial sees its context cancelled
}

func TestPoolAddressChange(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	addrs := cl.ListenAddrs()
	p := NewPool(nil, nil)
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	c1, err := p.Get(ctx, 7, addrs[0], PurposeControl)
	require.NoError(t, err)
	c2, err := p.Get(ctx, 7, addrs[1], PurposeControl)
	require.NoError(t, err)
	assert.Equal(t, addrs[1], c2.Addr())
	wait(t, c1.Done(), "old address dropped")
}

// TestSendAfterDeath: a Send on a dead, reaped connection still completes
// off the caller's goroutine, and Close waits for that completion.
func TestSendAfterDeath(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	c := dial(t, cl.ListenAddrs()[0], nil)
	c.Close()
	caller := make(chan struct{})
	done := make(chan error, 1)
	c.Send(metadataReq(), 12, true, func(_ protocol.Response, err error) {
		<-caller // would deadlock if run inside Send
		done <- err
	})
	close(caller)
	assert.ErrorIs(t, wait(t, done, "late completion"), ErrClosed)
}

// TestPoolAdoptsBootstrapConnection: once metadata names the broker behind
// a bootstrap address, the node takes over the bootstrap connection rather
// than dialing the same address again; another address or purpose dials.
func TestPoolAdoptsBootstrapConnection(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	addr := cl.ListenAddrs()[0]
	p := NewPool(nil, nil)
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()

	boot, err := p.Get(ctx, BootstrapID(0), addr, PurposeControl)
	require.NoError(t, err)
	node, err := p.Get(ctx, 0, addr, PurposeControl)
	require.NoError(t, err)
	assert.Same(t, boot, node, "the node's control connection is the bootstrap one")
	assert.Nil(t, p.Lookup(BootstrapID(0), PurposeControl), "the bootstrap entry gave it up")
	_, err = node.Do(ctx, &protocol.MetadataRequest{Topics: []protocol.MetadataRequestTopic{}})
	require.NoError(t, err, "the adopted connection works")

	prod, err := p.Get(ctx, 0, addr, PurposeProduce)
	require.NoError(t, err)
	assert.NotSame(t, node, prod, "another purpose dials its own")
}
