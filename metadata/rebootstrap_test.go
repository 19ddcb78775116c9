package metadata

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/internal/tcpforward"
	"github.com/tributary-go/tributary/protocol"
)

// The re-bootstrap tests put a retargetable forwarder (a stand-in for a
// DNS name or load balancer) in front of the bootstrap address. It leads
// to cluster A first; the Metadata learns A's broker, which it then asks
// directly. The forwarder is retargeted to cluster B, A misbehaves in one
// of three ways, and the Metadata must find topic "only-b", which only B
// has: that can only happen through the bootstrap address again. With
// metadata.recovery.strategy=none it must keep to A instead.

// countingFetcher counts the PoolFetcher's failed fetches; it keeps the
// PoolFetcher's Rebootstrap and recovery hooks through embedding.
type countingFetcher struct {
	*PoolFetcher
	failed atomic.Int64
}

func (f *countingFetcher) Fetch(ctx context.Context, topics []string, auto bool) (*protocol.MetadataResponse, error) {
	resp, err := f.PoolFetcher.Fetch(ctx, topics, auto)
	if err != nil || resp.ErrorCode != 0 {
		f.failed.Add(1)
	}
	return resp, err
}

type rebootstrapRig struct {
	a, b         *kfake.Cluster
	aAddr, bAddr string // ListenAddrs blocks after Close
	fw           *tcpforward.Forwarder
	m            *Metadata
	f            *countingFetcher
}

// newRebootstrapRig starts clusters A (topic "t") and B (topics "t" and
// "only-b"), the forwarder to A, and a Metadata that knows A's broker.
func newRebootstrapRig(t *testing.T, cfg Config, pcfg *conn.Config) *rebootstrapRig {
	t.Helper()
	checkNoLeaks(t)
	a, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "t"))
	require.NoError(t, err)
	t.Cleanup(a.Close)
	b, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "t", "only-b"))
	require.NoError(t, err)
	t.Cleanup(b.Close)
	fw, err := tcpforward.New(a.ListenAddrs()[0])
	require.NoError(t, err)
	t.Cleanup(func() { fw.Close() })

	pool := conn.NewPool(pcfg, nil)
	f := &countingFetcher{PoolFetcher: NewPoolFetcher(pool, []string{fw.Addr()})}
	cfg.RetryBackoff, cfg.RetryBackoffMax = 5*time.Millisecond, 50*time.Millisecond
	m := New(cfg, f)
	m.Start()
	t.Cleanup(func() {
		m.Close()
		pool.Close()
	})
	_, err = m.WaitForTopic(ctxFor(t, hangLimit), "t")
	require.NoError(t, err)
	require.Equal(t, []string{a.ListenAddrs()[0]}, brokerAddrs(m.Snapshot()), "A's broker is known")
	fw.Retarget(b.ListenAddrs()[0])
	return &rebootstrapRig{a: a, b: b, aAddr: a.ListenAddrs()[0], bAddr: b.ListenAddrs()[0], fw: fw, m: m, f: f}
}

func brokerAddrs(s *Snapshot) []string {
	var out []string
	for _, b := range s.Brokers {
		out = append(out, b.Addr())
	}
	return out
}

// expectRebootstrap waits for B's topic and checks that B is now known.
func (r *rebootstrapRig) expectRebootstrap(t *testing.T) {
	t.Helper()
	_, err := r.m.WaitForTopic(ctxFor(t, hangLimit), "only-b")
	require.NoError(t, err, "the Metadata re-bootstraps and finds B's topic")
	assert.Equal(t, []string{r.bAddr}, brokerAddrs(r.m.Snapshot()))
	assert.GreaterOrEqual(t, r.fw.Accepted(), int64(2), "the bootstrap address was dialled again")
}

// expectNoRebootstrap waits for n more failed fetches, then checks that
// nothing went back to the bootstrap address.
func (r *rebootstrapRig) expectNoRebootstrap(t *testing.T, n int64) error {
	t.Helper()
	accepted := r.fw.Accepted()
	from := r.f.failed.Load()
	eventually(t, "failed fetches from A", func() bool { return r.f.failed.Load() >= from+n })
	_, err := r.m.WaitForTopic(ctxFor(t, 50*time.Millisecond), "only-b")
	require.Error(t, err)
	assert.Equal(t, accepted, r.fw.Accepted(), "no connection to the bootstrap address")
	assert.Equal(t, 0, r.m.Rebootstraps())
	assert.Equal(t, 0, r.f.Rebootstraps())
	assert.Equal(t, []string{r.aAddr}, brokerAddrs(r.m.Snapshot()))
	return err
}

// answerRebootstrapRequired makes a answer every Metadata request with the
// top-level REBOOTSTRAP_REQUIRED (Metadata v13, KIP-1102).
func answerRebootstrapRequired(c *kfake.Cluster, versions chan<- int16) {
	c.ControlKey(int16(kmsg.Metadata), func(r kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := r.(*kmsg.MetadataRequest)
		select {
		case versions <- req.Version:
		default:
		}
		resp := req.ResponseKind().(*kmsg.MetadataResponse)
		resp.ErrorCode = protocol.ErrRebootstrapRequired.Code
		return resp, nil, true
	})
}

// TestRebootstrapRequired: a broker's REBOOTSTRAP_REQUIRED makes the
// Metadata go back to the bootstrap address at once, long before the
// trigger time; with strategy none the answer is only a failed refresh.
func TestRebootstrapRequired(t *testing.T) {
	t.Run("rebootstrap", func(t *testing.T) {
		r := newRebootstrapRig(t, Config{RebootstrapTrigger: time.Hour}, nil)
		versions := make(chan int16, 1)
		answerRebootstrapRequired(r.a, versions)
		r.m.RequestUpdate()
		r.expectRebootstrap(t)
		assert.Equal(t, int16(13), <-versions, "REBOOTSTRAP_REQUIRED needs Metadata v13")
		assert.GreaterOrEqual(t, r.m.Rebootstraps(), 1)
	})
	t.Run("none", func(t *testing.T) {
		r := newRebootstrapRig(t, Config{Recovery: RecoveryNone, RebootstrapTrigger: time.Millisecond}, nil)
		answerRebootstrapRequired(r.a, make(chan int16, 1))
		r.m.RequestUpdate()
		err := r.expectNoRebootstrap(t, 5)
		assert.ErrorIs(t, err, protocol.ErrRebootstrapRequired, "the wait reports the broker's answer")
	})
}

// TestRebootstrapAfterTrigger: A's broker accepts connections and requests
// but never answers Metadata. Its connection looks healthy, so only the
// trigger time can help: after metadata.recovery.rebootstrap.trigger.ms
// without an answer the Metadata re-bootstraps, without waiting for
// request.timeout.ms (30s here). With strategy none it keeps waiting on A.
func TestRebootstrapAfterTrigger(t *testing.T) {
	silence := func(c *kfake.Cluster, swallowed *atomic.Int64) {
		c.ControlKey(int16(kmsg.Metadata), func(kmsg.Request) (kmsg.Response, error, bool) {
			c.KeepControl()
			swallowed.Add(1)
			return nil, nil, true // no answer
		})
	}
	t.Run("rebootstrap", func(t *testing.T) {
		r := newRebootstrapRig(t, Config{RebootstrapTrigger: 300 * time.Millisecond}, &conn.Config{RequestTimeout: 30 * time.Second})
		var swallowed atomic.Int64
		silence(r.a, &swallowed)
		r.m.RequestUpdate()
		r.expectRebootstrap(t)
		assert.Positive(t, swallowed.Load())
		assert.GreaterOrEqual(t, r.m.Rebootstraps(), 1)
	})
	t.Run("none", func(t *testing.T) {
		// A short request timeout, so that the silent broker fails many
		// fetches within the test.
		r := newRebootstrapRig(t, Config{Recovery: RecoveryNone, RebootstrapTrigger: time.Millisecond}, &conn.Config{RequestTimeout: 100 * time.Millisecond})
		var swallowed atomic.Int64
		silence(r.a, &swallowed)
		r.m.RequestUpdate()
		err := r.expectNoRebootstrap(t, 3)
		assert.ErrorIs(t, err, conn.ErrRequestTimeout)
	})
}

// TestRebootstrapWhenBrokersGone: cluster A is shut down. Every dial to its
// broker fails and puts it in backoff, so no known broker is usable, and
// the fetcher goes back to the bootstrap address at once (KIP-899), with
// the trigger time far away. With strategy none it keeps dialling A.
func TestRebootstrapWhenBrokersGone(t *testing.T) {
	t.Run("rebootstrap", func(t *testing.T) {
		r := newRebootstrapRig(t, Config{RebootstrapTrigger: time.Hour}, nil)
		r.a.Close()
		r.m.RequestUpdate()
		r.expectRebootstrap(t)
		assert.GreaterOrEqual(t, r.f.Rebootstraps(), 1)
		assert.Equal(t, 0, r.m.Rebootstraps(), "not the trigger time")
	})
	t.Run("none", func(t *testing.T) {
		r := newRebootstrapRig(t, Config{Recovery: RecoveryNone, RebootstrapTrigger: time.Millisecond}, nil)
		r.a.Close()
		r.m.RequestUpdate()
		err := r.expectNoRebootstrap(t, 5)
		var de *conn.DialError
		assert.True(t, errors.As(err, &de) || errors.Is(err, conn.ErrClosed), "the wait reports the dead broker: %v", err)
	})
}

// TestParseRecoveryStrategy covers the property values.
func TestParseRecoveryStrategy(t *testing.T) {
	for in, want := range map[string]RecoveryStrategy{"rebootstrap": RecoveryRebootstrap, "NONE": RecoveryNone, " Rebootstrap ": RecoveryRebootstrap} {
		got, err := ParseRecoveryStrategy(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		assert.Equal(t, strings.ToLower(strings.TrimSpace(in)), got.String())
	}
	_, err := ParseRecoveryStrategy("sometimes")
	assert.ErrorContains(t, err, "not one of none, rebootstrap")
}
