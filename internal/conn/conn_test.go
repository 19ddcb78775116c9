package conn

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/tributary-go/tributary/protocol"
)

func TestDialNegotiatesVersions(t *testing.T) {
	checkNoLeaks(t)
	for _, tc := range []struct {
		name    string
		opts    []kfake.Opt
		produce int16 // expected negotiated Produce version
		meta    int16
	}{
		// Latest kfake speaks more than we do: our maxima win.
		{"latest", nil, 12, 13},
		// Kafka 3.5 speaks Produce v9, Metadata v12 and only ApiVersions
		// v3, so the handshake also goes through the downgrade path.
		{"kafka-3.5", []kfake.Opt{kfake.MaxVersions(kversion.V3_5_0())}, 9, 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := newCluster(t, tc.opts...)
			for _, addr := range cl.ListenAddrs() {
				c := dial(t, addr, &Config{ClientID: "tributary-test"})
				assert.Equal(t, addr, c.Addr())
				v, err := c.Version(protocol.KeyProduce)
				require.NoError(t, err)
				assert.Equal(t, tc.produce, v)
				v, err = c.Version(protocol.KeyMetadata)
				require.NoError(t, err)
				assert.Equal(t, tc.meta, v)
				// The ranges are the broker's, not the negotiated ones.
				r, ok := c.Versions()[protocol.KeyProduce]
				require.True(t, ok)
				assert.Equal(t, tc.produce, min(r.Max, 12))
			}
		})
	}
}

func TestFinalizedFeature(t *testing.T) {
	checkNoLeaks(t)
	// kfake finalizes the features of the Kafka release it emulates; 4.0
	// finalized transaction.version 2.
	cl := newCluster(t, kfake.MaxVersions(kversion.V4_0_0()))
	c := dial(t, cl.ListenAddrs()[0], nil)
	lvl, ok := c.FinalizedFeature("transaction.version")
	require.True(t, ok, "transaction.version not finalized")
	assert.Equal(t, int16(2), lvl)
	_, ok = c.FinalizedFeature("no.such.feature")
	assert.False(t, ok)
}

func TestDoMetadata(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	c := dial(t, cl.ListenAddrs()[0], nil)
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	r, err := c.Do(ctx, metadataReq("t"))
	require.NoError(t, err)
	resp := r.(*protocol.MetadataResponse)
	assert.Len(t, resp.Brokers, 3)
	require.Len(t, resp.Topics, 1)
	top := resp.Topics[0]
	assert.Equal(t, int16(0), top.ErrorCode)
	assert.Equal(t, "t", *top.Name)
	require.Len(t, top.Partitions, 12)
	for _, p := range top.Partitions {
		assert.Equal(t, cl.LeaderFor("t", p.PartitionIndex), p.LeaderID, "partition %d", p.PartitionIndex)
	}
	assert.Zero(t, c.Pending())
}

// TestPipelining sends 50 requests at once on one connection, each asking
// about a different topic, and checks that every response is the answer to
// its own request.
func TestPipelining(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	c := dial(t, cl.ListenAddrs()[0], nil)
	v, err := c.Version(protocol.KeyMetadata)
	require.NoError(t, err)

	const n = 50
	var wg sync.WaitGroup
	results := make([]<-chan sendResult, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			topic := "t"
			if i%2 == 1 {
				topic = fmt.Sprintf("missing-%d", i)
			}
			results[i] = sendAsync(c, metadataReq(topic), v)
		}()
	}
	close(start)
	wg.Wait()
	for i, ch := range results {
		res := wait(t, ch, "response")
		require.NoError(t, res.err)
		top := res.resp.(*protocol.MetadataResponse).Topics
		require.Len(t, top, 1)
		if i%2 == 1 {
			assert.Equal(t, fmt.Sprintf("missing-%d", i), *top[0].Name)
			assert.Equal(t, protocol.ErrUnknownTopicOrPartition.Code, top[0].ErrorCode)
		} else {
			assert.Equal(t, "t", *top[0].Name)
			assert.Len(t, top[0].Partitions, 12)
		}
	}
	assert.Zero(t, c.Pending())
}

// TestBrokerClosesConnection: kfake closes the connection when a control
// function returns an error; every pending request fails and Done closes.
func TestBrokerClosesConnection(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	c := dial(t, cl.ListenAddrs()[0], nil)
	cl.ControlKey(int16(kmsg.Metadata), func(kmsg.Request) (kmsg.Response, error, bool) {
		return nil, errors.New("injected"), true
	})
	var results []<-chan sendResult
	for range 10 {
		results = append(results, sendAsync(c, metadataReq("t"), 12))
	}
	for _, ch := range results {
		res := wait(t, ch, "failure")
		require.Error(t, res.err)
		assert.Nil(t, res.resp)
	}
	wait(t, c.Done(), "Done")
	var op *OpError
	require.ErrorAs(t, c.Err(), &op)
	assert.Equal(t, "read", op.Op)
	assert.Zero(t, c.Pending())

	// A dead connection fails new requests at once, off the caller's
	// goroutine.
	res := wait(t, sendAsync(c, metadataReq("t"), 12), "late failure")
	assert.ErrorIs(t, res.err, c.Err())
	_, err := c.Do(context.Background(), metadataReq("t"))
	assert.Error(t, err)
}

// TestRequestTimeout: a broker that swallows a request stalls the
// connection; after RequestTimeout it dies with ErrRequestTimeout and every
// pending request fails with it.
func TestRequestTimeout(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	cl.ControlKey(int16(kmsg.Metadata), func(kmsg.Request) (kmsg.Response, error, bool) {
		cl.KeepControl()
		return nil, nil, true // swallow: never answer
	})
	c := dial(t, cl.ListenAddrs()[0], &Config{RequestTimeout: 300 * time.Millisecond})
	var results []<-chan sendResult
	for range 3 {
		results = append(results, sendAsync(c, metadataReq("t"), 12))
	}
	for _, ch := range results {
		res := wait(t, ch, "timeout")
		assert.ErrorIs(t, res.err, ErrRequestTimeout)
	}
	wait(t, c.Done(), "Done")
	var rt *RequestTimeoutError
	require.ErrorAs(t, c.Err(), &rt)
	assert.Equal(t, protocol.KeyMetadata, rt.Key)
	assert.GreaterOrEqual(t, rt.Waited, 300*time.Millisecond)
	assert.Equal(t, c.addr, rt.Addr)
}

// TestDoContextEnds: a Do whose context ends returns ctx.Err(); the late
// response is discarded and the connection keeps working.
func TestDoContextEnds(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	arrived, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	cl.ControlKey(int16(kmsg.Metadata), func(kmsg.Request) (kmsg.Response, error, bool) {
		cl.DropControl() // only the first request
		once.Do(func() {
			close(arrived)
			cl.SleepControl(func() { <-release })
		})
		return nil, nil, false // then handle it normally
	})
	c := dial(t, cl.ListenAddrs()[0], nil)

	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	_, err := c.Do(ctx, metadataReq("t"))
	require.ErrorIs(t, err, context.Canceled)
	close(release)

	ctx2, cancel2 := context.WithTimeout(context.Background(), hangLimit)
	defer cancel2()
	r, err := c.Do(ctx2, metadataReq("missing"))
	require.NoError(t, err)
	assert.Equal(t, "missing", *r.(*protocol.MetadataResponse).Topics[0].Name)
	assert.Zero(t, c.Pending())
}

func TestIdleClose(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	c := dial(t, cl.ListenAddrs()[0], &Config{IdleTimeout: 200 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	_, err := c.Do(ctx, metadataReq("t"))
	require.NoError(t, err)
	wait(t, c.Done(), "idle close")
	assert.ErrorIs(t, c.Err(), ErrIdle)
}

func TestCloseFailsPending(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	cl.ControlKey(int16(kmsg.Metadata), func(kmsg.Request) (kmsg.Response, error, bool) {
		cl.KeepControl()
		return nil, nil, true
	})
	c := dial(t, cl.ListenAddrs()[0], nil)
	var mu sync.Mutex
	calls := 0
	var errs []error
	for range 5 {
		c.Send(metadataReq("t"), 12, true, func(_ protocol.Response, err error) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			errs = append(errs, err)
		})
	}
	require.NoError(t, c.Close())
	// Close waits for every callback, so no synchronisation is needed
	// beyond the mutex the callbacks use.
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 5, calls)
	for _, err := range errs {
		assert.ErrorIs(t, err, ErrClosed)
	}
	assert.ErrorIs(t, c.Err(), ErrClosed)
	assert.Zero(t, c.Pending())
	require.NoError(t, c.Close(), "second Close")
}

func TestInvalidConfig(t *testing.T) {
	_, err := Dial(context.Background(), "127.0.0.1:1", &Config{SoftwareName: "bad name!"})
	var de *DialError
	require.ErrorAs(t, err, &de)
	assert.Contains(t, err.Error(), "client software name")
	_, err = Dial(context.Background(), "127.0.0.1:1", &Config{ReconnectBackoff: time.Second, ReconnectBackoffMax: time.Millisecond})
	assert.ErrorContains(t, err, "reconnect.backoff.max.ms")
}

func TestAuthenticateRunsAfterHandshake(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	boom := errors.New("bad credentials")
	var sawVersion int16
	_, err := Dial(context.Background(), cl.ListenAddrs()[0], &Config{
		Authenticate: func(ctx context.Context, c *Conn) error {
			// The handshake is done: versions are known and Do works.
			sawVersion, _ = c.Version(protocol.KeyProduce)
			if _, err := c.Do(ctx, metadataReq()); err != nil {
				return err
			}
			return boom
		},
	})
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, int16(12), sawVersion)
}
