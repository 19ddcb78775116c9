package metadata

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/protocol"
)

func TestWaitForExistingTopic(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	m, _ := newKfakeMetadata(t, cl, Config{})
	top, err := m.WaitForTopic(ctxFor(t, hangLimit), "t")
	require.NoError(t, err)
	assert.Equal(t, "t", top.Name)
	assert.NotZero(t, top.ID)
	require.Len(t, top.Partitions, 12)
	assert.Len(t, top.Available, 12)

	snap := m.Snapshot()
	assert.Len(t, snap.Brokers, 3)
	for i, p := range top.Partitions {
		assert.Equal(t, int32(i), p.ID)
		want := cl.LeaderFor("t", p.ID)
		assert.Equal(t, want, p.Leader, "partition %d", i)
		assert.NoError(t, p.Err)
		b, ok := snap.Leader("t", p.ID)
		require.True(t, ok)
		assert.Equal(t, want, b.NodeID)
		host, _, err := net.SplitHostPort(b.Addr())
		require.NoError(t, err)
		assert.Equal(t, b.Host, host)
	}
	_, ok := snap.Leader("t", 12)
	assert.False(t, ok)
	_, ok = snap.Leader("other", 0)
	assert.False(t, ok)
	assert.NotEmpty(t, snap.ClusterID)
	assert.Less(t, m.Age(), time.Hour)
}

func TestWaitForUnknownTopicTimesOut(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	m, _ := newKfakeMetadata(t, cl, Config{RetryBackoff: 10 * time.Millisecond, RetryBackoffMax: 50 * time.Millisecond})
	_, err := m.WaitForTopic(ctxFor(t, 300*time.Millisecond), "nope")
	var te *WaitError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "nope", te.Topic)
	assert.ErrorIs(t, err, ErrUnknownTopic)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, protocol.ErrUnknownTopicOrPartition, "the broker's answer is kept as the cause")
	assert.Contains(t, err.Error(), `"nope"`)
}

func TestAutoTopicCreation(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t, kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(4))
	m, _ := newKfakeMetadata(t, cl, Config{AllowAutoTopicCreation: true, RetryBackoff: 10 * time.Millisecond})
	top, err := m.WaitForTopic(ctxFor(t, hangLimit), "fresh")
	require.NoError(t, err)
	assert.Len(t, top.Partitions, 4)
	for _, p := range top.Partitions {
		assert.Equal(t, cl.LeaderFor("fresh", p.ID), p.Leader)
	}
}

func TestRefreshSeesMovedLeader(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	m, _ := newKfakeMetadata(t, cl, Config{})
	top, err := m.WaitForTopic(ctxFor(t, hangLimit), "t")
	require.NoError(t, err)
	old := top.Partitions[3]
	to := (old.Leader + 1) % 3
	require.NoError(t, cl.MoveTopicPartition("t", 3, to))

	m.RequestUpdate()
	eventually(t, "the new leader", func() bool {
		b, ok := m.Snapshot().Leader("t", 3)
		return ok && b.NodeID == to
	})
	assert.Greater(t, m.Snapshot().Topics["t"].Partitions[3].LeaderEpoch, old.LeaderEpoch)
}

// TestUpdateLeader: a newer Produce leader hint applies at once, an older or
// equal one does not, and a later Metadata response with the older epoch
// does not undo it.
func TestUpdateLeader(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	m, _ := newKfakeMetadata(t, cl, Config{})
	top, err := m.WaitForTopic(ctxFor(t, hangLimit), "t")
	require.NoError(t, err)
	p := top.Partitions[0]
	other := (p.Leader + 1) % 3

	assert.False(t, m.UpdateLeader("t", 0, other, p.LeaderEpoch, nil), "same epoch")
	assert.False(t, m.UpdateLeader("t", 0, other, p.LeaderEpoch-1, nil), "older epoch")
	assert.False(t, m.UpdateLeader("t", 99, other, p.LeaderEpoch+1, nil), "unknown partition")
	assert.False(t, m.UpdateLeader("x", 0, other, p.LeaderEpoch+1, nil), "unknown topic")
	assert.False(t, m.UpdateLeader("t", 0, 42, p.LeaderEpoch+1, nil), "unknown broker")
	assert.Equal(t, p.Leader, m.Snapshot().Topics["t"].Partitions[0].Leader)

	before := m.Snapshot()
	require.True(t, m.UpdateLeader("t", 0, other, p.LeaderEpoch+1, nil))
	after := m.Snapshot()
	assert.NotSame(t, before, after, "a new snapshot is published")
	assert.Equal(t, p.Leader, before.Topics["t"].Partitions[0].Leader, "the old snapshot is untouched")
	b, ok := after.Leader("t", 0)
	require.True(t, ok)
	assert.Equal(t, other, b.NodeID)

	// kfake still reports the old leader and epoch; a refresh must not
	// take the partition backwards.
	refreshed := after.Updated
	m.RequestUpdate()
	eventually(t, "a refresh", func() bool { return m.Snapshot().Updated.After(refreshed) })
	got := m.Snapshot().Topics["t"].Partitions[0]
	assert.Equal(t, other, got.Leader)
	assert.Equal(t, p.LeaderEpoch+1, got.LeaderEpoch)

	// Endpoints introduce brokers the snapshot did not know.
	rack := "r1"
	require.True(t, m.UpdateLeader("t", 1, 42, top.Partitions[1].LeaderEpoch+1,
		[]protocol.NodeEndpoint{{NodeID: 42, Host: "new-host", Port: 9999, Rack: &rack}}))
	b, ok = m.Snapshot().Leader("t", 1)
	require.True(t, ok)
	assert.Equal(t, Broker{NodeID: 42, Host: "new-host", Port: 9999, Rack: "r1"}, b)
	assert.Contains(t, m.Snapshot().Topics["t"].Available, int32(1))
}

// TestIdleTopicsDropped: a topic unused for MaxIdle drops out of refreshes
// and the snapshot; a topic in use stays.
func TestIdleTopicsDropped(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t, kfake.SeedTopics(3, "busy"))
	m, _ := newKfakeMetadata(t, cl, Config{MaxIdle: 100 * time.Millisecond})
	ctx := ctxFor(t, hangLimit)
	_, err := m.WaitForTopic(ctx, "t")
	require.NoError(t, err)
	_, err = m.WaitForTopic(ctx, "busy")
	require.NoError(t, err)

	eventually(t, "t to be dropped", func() bool {
		m.Touch("busy")
		m.RequestUpdate()
		return m.Snapshot().Topics["t"] == nil
	})
	assert.NotNil(t, m.Snapshot().Topics["busy"])
	tracked := *m.tracked.Load()
	assert.NotContains(t, tracked, "t")
	assert.Contains(t, tracked, "busy")

	// Using the topic again brings it back.
	_, err = m.WaitForTopic(ctx, "t")
	require.NoError(t, err)
}

// TestPoolFetcherRebootstrap: when every known broker is unreachable, the
// fetcher goes back to the bootstrap addresses.
func TestPoolFetcherRebootstrap(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	pool := conn.NewPool(&conn.Config{ReconnectBackoff: time.Hour, ReconnectBackoffMax: time.Hour}, nil)
	defer pool.Close()
	f := NewPoolFetcher(pool, cl.ListenAddrs()[:1])

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := ln.Addr().(*net.TCPAddr)
	ln.Close()
	f.brokers = []Broker{{NodeID: 100, Host: "127.0.0.1", Port: int32(dead.Port)}}

	ctx := ctxFor(t, hangLimit)
	_, err = f.Fetch(ctx, []string{"t"}, false)
	var de *conn.DialError
	require.ErrorAs(t, err, &de, "the known broker is tried first")
	assert.Equal(t, "127.0.0.1:"+strconv.Itoa(dead.Port), de.Addr)

	resp, err := f.Fetch(ctx, []string{"t"}, false)
	require.NoError(t, err, "then the bootstrap server")
	require.Len(t, resp.Topics, 1)
	assert.Len(t, resp.Topics[0].Partitions, 12)
	f.mu.Lock()
	assert.Len(t, f.brokers, 3, "the cluster's brokers replace the dead one")
	f.mu.Unlock()

	// With brokers known and a connection open, no new dial is needed.
	resp, err = f.Fetch(ctx, nil, false)
	require.NoError(t, err)
	assert.Empty(t, resp.Topics, "an empty list asks for no topics")
}

func TestPoolFetcherSkipsDeadBootstrap(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := ln.Addr().String()
	ln.Close()

	pool := conn.NewPool(nil, nil)
	f := NewPoolFetcher(pool, []string{dead, cl.ListenAddrs()[0]})
	m := New(Config{RetryBackoff: 10 * time.Millisecond}, f)
	m.Start()
	defer pool.Close()
	defer m.Close()
	top, err := m.WaitForTopic(ctxFor(t, hangLimit), "t")
	require.NoError(t, err)
	assert.Len(t, top.Partitions, 12)
}
