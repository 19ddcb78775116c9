package conn

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-go/tributary/protocol"
)

// lifetimeConfig returns a Config whose Authenticate hook announces a
// session lifetime of d, as the SASL layer does after SaslAuthenticate.
func lifetimeConfig(d time.Duration) *Config {
	return &Config{Authenticate: func(ctx context.Context, c *Conn) error {
		c.SetSessionLifetime(d)
		return nil
	}}
}

// waitFor polls cond until it holds or hangLimit passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSessionExpiryRetiresIdleConn: an idle connection whose session is
// about to end closes itself with ErrSessionExpired, the pool does not
// count that as a failure, and the next Get dials a fresh connection.
func TestSessionExpiryRetiresIdleConn(t *testing.T) {
	checkNoLeaks(t)
	b := newFakeBroker(t, healthy(nil))
	p := NewPool(lifetimeConfig(200*time.Millisecond), nil)
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()

	c1, err := p.Get(ctx, 1, b.addr(), PurposeControl)
	require.NoError(t, err)
	wait(t, c1.Done(), "the connection to retire")
	assert.ErrorIs(t, c1.Err(), ErrSessionExpired)

	c2, err := p.Get(ctx, 1, b.addr(), PurposeControl)
	require.NoError(t, err)
	assert.NotSame(t, c1, c2)
	assert.NoError(t, p.LastError(1), "retiring is not a failure")
	_, err = c2.Do(ctx, metadataReq())
	require.NoError(t, err)
}

// TestRetiringConnFinishesInFlight: a request in flight when the
// connection retires still gets its answer on that connection; the pool
// neither hands the old connection out nor dials a new one until then,
// and the old one closes after the answer.
func TestRetiringConnFinishesInFlight(t *testing.T) {
	checkNoLeaks(t)
	release := make(chan struct{})
	var held atomic.Bool
	b := newFakeBroker(t, healthy(func(fc *fakeConn, req kmsg.Request, corr int32) {
		if _, ok := req.(*kmsg.MetadataRequest); ok && held.CompareAndSwap(false, true) {
			<-release // stall the first Metadata request across the retirement
		}
		fc.reply(req, corr, req.ResponseKind())
	}))
	p := NewPool(lifetimeConfig(100*time.Millisecond), nil)
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()

	c1, err := p.Get(ctx, 1, b.addr(), PurposeControl)
	require.NoError(t, err)
	v, err := c1.Version(protocol.KeyMetadata)
	require.NoError(t, err)
	res := sendAsync(c1, metadataReq(), v)

	waitFor(t, "the pool to stop handing out the retiring connection", func() bool { return p.Lookup(1, PurposeControl) == nil })
	select {
	case <-c1.Done():
		t.Fatal("a retiring connection closed with a request in flight")
	default:
	}
	// No replacement while the old connection has a request to answer: a
	// request on a new one could overtake it.
	c, retryIn, ok := p.Ready(1, b.addr(), PurposeControl)
	assert.False(t, ok)
	assert.Nil(t, c)
	assert.Positive(t, retryIn)
	b.mu.Lock()
	assert.Len(t, b.conns, 1, "no second connection while the first drains")
	b.mu.Unlock()

	close(release)
	r := wait(t, res, "the in-flight response")
	require.NoError(t, r.err, "the request in flight when the connection retired succeeds")
	c2, err := p.Get(ctx, 1, b.addr(), PurposeControl)
	require.NoError(t, err)
	assert.NotSame(t, c1, c2)
	wait(t, c1.Done(), "the old connection to close")
	assert.ErrorIs(t, c1.Err(), ErrSessionExpired)
	assert.NoError(t, p.LastError(1))
}

// TestNoSessionLifetime: zero means no limit; the connection stays.
func TestNoSessionLifetime(t *testing.T) {
	checkNoLeaks(t)
	b := newFakeBroker(t, healthy(nil))
	c := dial(t, b.addr(), lifetimeConfig(0))
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	_, err := c.Do(ctx, metadataReq())
	require.NoError(t, err)
	assert.False(t, c.retiring.Load())
	assert.NoError(t, c.Err())
}
