package fakebroker

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/internal/leakcheck"
	"github.com/tributary-go/tributary/protocol"
)

// sendAll sends reqs on c back to back, without waiting, and returns a
// channel that yields each request's index and error as it completes, in
// completion order.
func sendAll(t *testing.T, c *conn.Conn, reqs ...*protocol.ProduceRequest) <-chan result {
	t.Helper()
	v, err := c.Version(protocol.KeyProduce)
	require.NoError(t, err)
	out := make(chan result, len(reqs))
	for i, r := range reqs {
		c.Send(r, v, r.Acks != 0, func(resp protocol.Response, err error) {
			res := result{i: i, err: err}
			if pr, ok := resp.(*protocol.ProduceResponse); ok {
				res.p = pr.Topics[0].Partitions[0]
			}
			out <- res
		})
	}
	return out
}

type result struct {
	i   int
	p   protocol.ProduceResponsePartition
	err error
}

func next(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(hangLimit):
		t.Fatal("no answer")
		return result{}
	}
}

// TestHeldAnswersKeepOrder: answers leave in request order even when the
// first is held back and later ones are ready at once, and the broker keeps
// reading meanwhile, so MaxInFlight sees the pile-up. Our conn kills the
// connection on any out-of-order correlation id, so a clean run proves the
// order.
func TestHeldAnswersKeepOrder(t *testing.T) {
	release := make(chan struct{})
	var seen atomic.Int32
	b := start(t, Config{Topics: map[string]int32{"t": 3}, Handler: func(_ int32, key protocol.Key, _ int16, req protocol.Request) Action {
		if key != protocol.KeyProduce {
			return Action{}
		}
		seen.Add(1)
		if req.(*protocol.ProduceRequest).Topics[0].Partitions[0].Index == 0 {
			return Action{Hold: release}
		}
		return Action{}
	}})
	c := dial(t, b.Addrs()[0], nil)
	ch := sendAll(t, c,
		produceReq(-1, "t", 0, plain(1)),
		produceReq(-1, "t", 1, plain(1)),
		produceReq(0, "t", 1, plain(1)), // acks=0: no answer, none waited for
		produceReq(-1, "t", 2, plain(1)),
	)
	r := next(t, ch) // the acks=0 request completes once written
	require.NoError(t, r.err)
	require.Equal(t, 2, r.i)
	require.Eventually(t, func() bool { return seen.Load() == 4 }, hangLimit, time.Millisecond)
	// The handler runs before the reader counts the request in flight:
	// wait for the count too, not just for the handler.
	require.Eventually(t, func() bool { return b.MaxInFlight(0) >= 3 }, hangLimit, time.Millisecond)
	assert.Equal(t, 3, b.MaxInFlight(0), "three answers outstanding at once")
	close(release)
	for _, want := range []int{0, 1, 3} {
		r := next(t, ch)
		require.NoError(t, r.err)
		assert.Equal(t, want, r.i)
		assert.Zero(t, r.p.ErrorCode)
	}
	assert.Equal(t, int64(1), b.Records("t", 0))
	assert.Equal(t, int64(2), b.Records("t", 1))
}

// TestDelayKeepsOrder mixes delays: a long one first, short ones after.
func TestDelayKeepsOrder(t *testing.T) {
	b := start(t, Config{Topics: map[string]int32{"t": 1}, Handler: func(_ int32, key protocol.Key, _ int16, req protocol.Request) Action {
		if key != protocol.KeyProduce {
			return Action{}
		}
		if len(req.(*protocol.ProduceRequest).Topics[0].Partitions[0].Records) > 80 {
			return Action{Delay: 50 * time.Millisecond}
		}
		return Action{Delay: time.Millisecond}
	}})
	c := dial(t, b.Addrs()[0], nil)
	ch := sendAll(t, c,
		produceReq(-1, "t", 0, plain(5)), // larger: the long delay
		produceReq(-1, "t", 0, plain(1)),
		produceReq(-1, "t", 0, plain(1)),
	)
	for want := range 3 {
		r := next(t, ch)
		require.NoError(t, r.err)
		assert.Equal(t, want, r.i)
	}
}

// TestDropStallsConnection: a dropped request is never answered and later
// answers wait behind it, so the client's request timeout fires.
func TestDropStallsConnection(t *testing.T) {
	var n atomic.Int32
	b := start(t, Config{Topics: map[string]int32{"t": 1}, Handler: func(_ int32, key protocol.Key, _ int16, _ protocol.Request) Action {
		if key == protocol.KeyProduce && n.Add(1) == 1 {
			return Action{Drop: true}
		}
		return Action{}
	}})
	c := dial(t, b.Addrs()[0], &conn.Config{RequestTimeout: 200 * time.Millisecond})
	ch := sendAll(t, c, produceReq(-1, "t", 0, plain(1)), produceReq(-1, "t", 0, plain(1)))
	for range 2 {
		r := next(t, ch)
		assert.ErrorIs(t, r.err, conn.ErrRequestTimeout)
	}
	// The client may time out before the broker has read the second
	// request (a loaded machine); it reads it anyway, since the client's
	// close only follows what it sent.
	require.Eventually(t, func() bool { return b.Records("t", 0) == 1 && b.MaxInFlight(0) == 2 }, hangLimit, time.Millisecond,
		"the dropped request was not handled; the next one was, its answer stuck behind")
	assert.Equal(t, int64(1), b.Records("t", 0))
	assert.Equal(t, 2, b.MaxInFlight(0))
}

// TestCloseConn: the connection closes when the request's turn comes, after
// the answers ahead of it, and nothing behind it is handled.
func TestCloseConn(t *testing.T) {
	var n atomic.Int32
	b := start(t, Config{Topics: map[string]int32{"t": 1}, Handler: func(_ int32, key protocol.Key, _ int16, _ protocol.Request) Action {
		if key != protocol.KeyProduce {
			return Action{}
		}
		switch n.Add(1) {
		case 1:
			return Action{Delay: 20 * time.Millisecond}
		case 2:
			return Action{CloseConn: true}
		}
		return Action{}
	}})
	c := dial(t, b.Addrs()[0], nil)
	ch := sendAll(t, c, produceReq(-1, "t", 0, plain(1)), produceReq(-1, "t", 0, plain(1)), produceReq(-1, "t", 0, plain(1)))
	r := next(t, ch)
	require.NoError(t, r.err)
	assert.Equal(t, 0, r.i)
	for range 2 {
		r := next(t, ch)
		var op *conn.OpError
		assert.ErrorAs(t, r.err, &op, "request %d", r.i)
	}
	assert.Equal(t, int64(1), b.Records("t", 0), "the closing request and those behind it were not appended")
	assert.Equal(t, int32(2), n.Load(), "nothing after the closing request was read")

	// The broker still accepts new connections.
	c2 := dial(t, b.Addrs()[0], nil)
	assert.Equal(t, int64(1), produce(t, c2, produceReq(-1, "t", 0, plain(1))).BaseOffset)
}

// TestActionErrors: ErrorCode with a leader hint and record errors, and
// AppendThenError, which appends first.
func TestActionErrors(t *testing.T) {
	var mu sync.Mutex
	var act Action
	set := func(a Action) { mu.Lock(); act = a; mu.Unlock() }
	b := start(t, Config{Brokers: 2, Topics: map[string]int32{"t": 1}, Handler: func(_ int32, key protocol.Key, _ int16, _ protocol.Request) Action {
		mu.Lock()
		defer mu.Unlock()
		if key == protocol.KeyProduce || key == protocol.KeyMetadata {
			return act
		}
		return Action{}
	}})
	c := dial(t, b.Addrs()[0], nil)

	msg := "bad key"
	set(Action{ErrorCode: protocol.ErrInvalidRecord.Code, RecordErrors: []protocol.RecordError{{BatchIndex: 1, BatchIndexErrorMessage: &msg}}})
	p := produce(t, c, produceReq(-1, "t", 0, plain(3)))
	assert.Equal(t, protocol.ErrInvalidRecord.Code, p.ErrorCode)
	assert.Equal(t, []protocol.RecordError{{BatchIndex: 1, BatchIndexErrorMessage: &msg}}, p.RecordErrors)
	assert.Zero(t, b.Records("t", 0))

	set(Action{ErrorCode: protocol.ErrNotLeaderOrFollower.Code, Leader: &protocol.LeaderIDAndEpoch{LeaderID: 1, LeaderEpoch: 4}})
	resp := do(t, c, produceReq(-1, "t", 0, plain(1))).(*protocol.ProduceResponse)
	assert.Equal(t, protocol.LeaderIDAndEpoch{LeaderID: 1, LeaderEpoch: 4}, resp.Topics[0].Partitions[0].CurrentLeader)
	require.Len(t, resp.NodeEndpoints, 1)
	assert.Equal(t, int32(1), resp.NodeEndpoints[0].NodeID)

	set(Action{ErrorCode: protocol.ErrRequestTimedOut.Code, AppendThenError: true})
	p = produce(t, c, produceReq(-1, "t", 0, batch(2, 1000, 0, 0)))
	assert.Equal(t, protocol.ErrRequestTimedOut.Code, p.ErrorCode)
	assert.Equal(t, int64(2), b.Records("t", 0), "appended before the error")
	set(Action{})
	p = produce(t, c, produceReq(-1, "t", 0, batch(2, 1000, 0, 0)))
	assert.Zero(t, p.ErrorCode, "the retry is a duplicate")
	assert.Equal(t, int64(0), p.BaseOffset)
	assert.Equal(t, int64(2), b.Records("t", 0))

	set(Action{ErrorCode: protocol.ErrTopicAuthorizationFailed.Code})
	md := do(t, c, &protocol.MetadataRequest{}).(*protocol.MetadataResponse)
	assert.Equal(t, protocol.ErrTopicAuthorizationFailed.Code, md.Topics[0].ErrorCode)

	canned := &protocol.ProduceResponse{Topics: []protocol.ProduceResponseTopic{{Name: "t", Partitions: []protocol.ProduceResponsePartition{
		{Index: 0, BaseOffset: 77, LogAppendTimeMillis: -1, LogStartOffset: -1, CurrentLeader: protocol.NoLeader},
	}}}}
	set(Action{Respond: canned})
	assert.Equal(t, int64(77), produce(t, c, produceReq(-1, "t", 0, plain(1))).BaseOffset)
	assert.Equal(t, int64(2), b.Records("t", 0), "Respond replaces the default handling")
}

// TestCloseWithStuckConnections: Close returns, and leaves no goroutine,
// even with answers dropped, held and delayed on open connections. Close
// returns once every broker goroutine has finished; one may still be
// returning then, which the leak check's settle loop allows for.
func TestCloseWithStuckConnections(t *testing.T) {
	leakcheck.Check(t, brokerFrames)
	never := make(chan struct{})
	var n atomic.Int32
	b, err := Start(Config{Topics: map[string]int32{"t": 1}, Handler: func(_ int32, key protocol.Key, _ int16, _ protocol.Request) Action {
		if key != protocol.KeyProduce {
			return Action{}
		}
		switch n.Add(1) % 3 {
		case 0:
			return Action{Drop: true}
		case 1:
			return Action{Hold: never}
		}
		return Action{Delay: time.Hour}
	}})
	require.NoError(t, err)
	var conns []*conn.Conn
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
		c, err := conn.Dial(ctx, b.Addrs()[0], nil)
		cancel()
		require.NoError(t, err)
		conns = append(conns, c)
		sendAll(t, c, produceReq(-1, "t", 0, plain(1)), produceReq(-1, "t", 0, plain(1)), produceReq(-1, "t", 0, plain(1)))
	}
	require.Eventually(t, func() bool { return n.Load() == 9 }, hangLimit, time.Millisecond)
	b.Close()
	for _, c := range conns {
		waitClosed(t, c)
		assert.Error(t, c.Err())
		assert.False(t, errors.Is(c.Err(), conn.ErrClosed), "the broker closed it")
		c.Close()
	}
}

// TestCloseConns closes a node's connections, as a broker restart would,
// and leaves the listener up.
func TestCloseConns(t *testing.T) {
	b := start(t, Config{Brokers: 2, Topics: map[string]int32{"t": 2}})
	c0 := dial(t, b.Addrs()[0], nil)
	c1 := dial(t, b.Addrs()[1], nil)
	b.CloseConns(0)
	waitClosed(t, c0)
	select {
	case <-c1.Done():
		t.Fatal("node 1's connection was closed too")
	default:
	}
	c0 = dial(t, b.Addrs()[0], nil)
	assert.Zero(t, produce(t, c0, produceReq(-1, "t", 0, plain(1))).ErrorCode)
	assert.Zero(t, produce(t, c1, produceReq(-1, "t", 1, plain(1))).ErrorCode)
}
