package metadata

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/protocol"
)

// TestRequestsCoalesce: any number of RequestUpdate calls made while a fetch
// runs cause exactly one more fetch.
func TestRequestsCoalesce(t *testing.T) {
	checkNoLeaks(t)
	release := make(chan struct{})
	f := &fakeFetcher{fetch: make(chan int), fn: func(n int, _ []string) (*protocol.MetadataResponse, error) {
		if n == 1 {
			<-release
		}
		return cluster(), nil
	}}
	m := New(Config{MaxAge: time.Hour}, f)
	m.Start()
	eventually(t, "the first fetch to start", func() bool { return f.count() == 1 })
	for range 100 {
		m.RequestUpdate()
	}
	close(release)
	require.Equal(t, 1, <-f.fetch)
	require.Equal(t, 2, <-f.fetch)
	m.Close()
	assert.Equal(t, 2, f.count(), "100 requests during a fetch make one more fetch")
}

// TestBackoffAfterFailures: failed fetches are retried with exponential
// backoff. Only lower bounds are checked: timers never fire early, so they
// cannot flake.
func TestBackoffAfterFailures(t *testing.T) {
	checkNoLeaks(t)
	boom := errors.New("cluster unreachable")
	f := &fakeFetcher{fn: func(int, []string) (*protocol.MetadataResponse, error) { return nil, boom }}
	const base, maxB = 20 * time.Millisecond, 160 * time.Millisecond
	m := New(Config{RetryBackoff: base, RetryBackoffMax: maxB}, f)
	m.Start()

	// A waiter sees the fetch error as the cause when its time runs out.
	_, err := m.WaitForTopic(ctxFor(t, 100*time.Millisecond), "x")
	assert.ErrorIs(t, err, ErrUnknownTopic)
	assert.ErrorIs(t, err, boom)

	eventually(t, "six fetches", func() bool { return f.count() >= 6 })
	m.Close()
	calls := f.history()
	for i := 1; i < len(calls); i++ {
		nominal := min(base<<(i-1), maxB)
		gap := calls[i].at.Sub(calls[i-1].at)
		assert.GreaterOrEqual(t, gap, time.Duration(float64(nominal)*0.8), "gap before fetch %d", i+1)
	}
}

func TestSuccessResetsBackoff(t *testing.T) {
	checkNoLeaks(t)
	f := &fakeFetcher{fn: func(n int, _ []string) (*protocol.MetadataResponse, error) {
		if n <= 3 {
			return nil, errors.New("down")
		}
		return cluster(), nil
	}}
	m := New(Config{RetryBackoff: time.Millisecond, MaxAge: time.Hour}, f)
	m.Start()
	defer m.Close()
	eventually(t, "a successful fetch", func() bool { return !m.Snapshot().Updated.IsZero() })
	m.mu.Lock()
	defer m.mu.Unlock()
	assert.Zero(t, m.failures)
	assert.NoError(t, m.lastErr)
	assert.Len(t, m.snap.Load().Brokers, 3)
}

// TestMaxAgeRefresh: metadata is refreshed every MaxAge with nobody asking.
func TestMaxAgeRefresh(t *testing.T) {
	checkNoLeaks(t)
	f := &fakeFetcher{fn: func(int, []string) (*protocol.MetadataResponse, error) { return cluster(), nil }}
	m := New(Config{MaxAge: 30 * time.Millisecond}, f)
	m.Start()
	eventually(t, "periodic fetches", func() bool { return f.count() >= 4 })
	m.Close()
	calls := f.history()
	for i := 1; i < len(calls); i++ {
		assert.GreaterOrEqual(t, calls[i].at.Sub(calls[i-1].at), 30*time.Millisecond)
	}
}

// TestRetriableTopicErrorRefetches: a topic that is not there yet is fetched
// again (with backoff) until it appears; WaitForTopic then returns it.
func TestRetriableTopicErrorRefetches(t *testing.T) {
	checkNoLeaks(t)
	f := &fakeFetcher{fn: func(n int, topics []string) (*protocol.MetadataResponse, error) {
		if n <= 4 {
			return cluster(topic("x", protocol.ErrLeaderNotAvailable.Code, nil)), nil
		}
		return cluster(topic("x", 0, []int32{1, 2}, 7)), nil
	}}
	m := New(Config{RetryBackoff: 5 * time.Millisecond, RetryBackoffMax: 20 * time.Millisecond, AllowAutoTopicCreation: true}, f)
	m.Start()
	defer m.Close()
	top, err := m.WaitForTopic(ctxFor(t, hangLimit), "x")
	require.NoError(t, err)
	assert.Len(t, top.Partitions, 2)
	calls := f.history()
	require.GreaterOrEqual(t, len(calls), 5)
	assert.True(t, calls[len(calls)-1].auto, "allow.auto.create.topics is passed on")
	assert.Contains(t, calls[len(calls)-1].topics, "x")
}

// TestNonRetriableTopicError: TOPIC_AUTHORIZATION_FAILED is returned at
// once, not waited out (the context here has no deadline).
func TestNonRetriableTopicError(t *testing.T) {
	checkNoLeaks(t)
	f := &fakeFetcher{fn: func(_ int, topics []string) (*protocol.MetadataResponse, error) {
		var ts []protocol.MetadataTopic
		for _, name := range topics {
			ts = append(ts, topic(name, protocol.ErrTopicAuthorizationFailed.Code, nil))
		}
		return cluster(ts...), nil
	}}
	m := New(Config{}, f)
	m.Start()
	defer m.Close()
	_, err := m.WaitForTopic(context.Background(), "secret")
	var te *TopicError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "secret", te.Topic)
	assert.ErrorIs(t, err, protocol.ErrTopicAuthorizationFailed)
	assert.NotErrorIs(t, err, ErrUnknownTopic)
}

func TestCloseFailsWaiters(t *testing.T) {
	checkNoLeaks(t)
	f := &fakeFetcher{fn: func(int, []string) (*protocol.MetadataResponse, error) { return cluster(), nil }}
	m := New(Config{}, f)
	m.Start()
	errs := make(chan error, 1)
	go func() {
		_, err := m.WaitForTopic(context.Background(), "never")
		errs <- err
	}()
	eventually(t, "the waiter to register", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		u := (*m.tracked.Load())["never"]
		return u != nil && u.waiters == 1
	})
	m.Close()
	select {
	case err := <-errs:
		assert.ErrorIs(t, err, ErrClosed)
	case <-time.After(hangLimit):
		t.Fatal("waiter not released by Close")
	}
	_, err := m.WaitForTopic(context.Background(), "t")
	assert.ErrorIs(t, err, ErrClosed)
	m.Close() // idempotent
	m.Start() // no-op after Close
}

func TestCloseCancelsFetch(t *testing.T) {
	checkNoLeaks(t)
	started := make(chan context.Context, 1)
	m := New(Config{}, fetcherFunc(func(ctx context.Context, _ []string, _ bool) (*protocol.MetadataResponse, error) {
		started <- ctx
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	m.Start()
	<-started
	m.Close() // returns only because the fetch's context is cancelled
}

func TestCloseWithoutStart(t *testing.T) {
	checkNoLeaks(t)
	m := New(Config{}, &fakeFetcher{})
	m.Close()
}

type fetcherFunc func(ctx context.Context, topics []string, auto bool) (*protocol.MetadataResponse, error)

func (f fetcherFunc) Fetch(ctx context.Context, topics []string, auto bool) (*protocol.MetadataResponse, error) {
	return f(ctx, topics, auto)
}

// TestEpochsNeverGoBackwards drives responses through buildSnapshot.
func TestEpochsNeverGoBackwards(t *testing.T) {
	now := time.Now()
	s1, _ := buildSnapshot(emptySnapshot, cluster(topic("a", 0, []int32{1, 2}, 5)), []string{"a"}, now)
	// Partition 0 comes back from a lagging broker with an older epoch;
	// partition 1 with a newer one.
	s2, _ := buildSnapshot(s1, cluster(topic("a", 0, []int32{3, 3}, 4, 6)), []string{"a"}, now)
	assert.Equal(t, Partition{ID: 0, Leader: 1, LeaderEpoch: 5}, s2.Topics["a"].Partitions[0], "stale data ignored")
	assert.Equal(t, Partition{ID: 1, Leader: 3, LeaderEpoch: 6}, s2.Topics["a"].Partitions[1])

	// A broker without epochs (Metadata < v7) is taken at its word.
	s3, _ := buildSnapshot(s2, cluster(topic("a", 0, []int32{2, 2}, -1)), []string{"a"}, now)
	assert.Equal(t, int32(2), s3.Topics["a"].Partitions[0].Leader)

	// A re-created topic (new id) starts its epochs again.
	old := topic("b", 0, []int32{1}, 9)
	old.TopicID = [16]byte{1}
	s4, _ := buildSnapshot(emptySnapshot, cluster(old), []string{"b"}, now)
	recreated := topic("b", 0, []int32{2}, 0)
	recreated.TopicID = [16]byte{2}
	s5, _ := buildSnapshot(s4, cluster(recreated), []string{"b"}, now)
	assert.Equal(t, Partition{ID: 0, Leader: 2, LeaderEpoch: 0}, s5.Topics["b"].Partitions[0])
}

func TestBuildSnapshot(t *testing.T) {
	resp := cluster(
		topic("a", 0, []int32{1, -1, 7, 3}, 1), // 1: no leader; 2: leader 7 unknown
		topic("gone", protocol.ErrUnknownTopicOrPartition.Code, nil),
		topic("unrequested", 0, []int32{1}, 1),
	)
	resp.Topics[0].Partitions[1].ErrorCode = protocol.ErrLeaderNotAvailable.Code
	resp.Topics[0].Partitions = append(resp.Topics[0].Partitions[:3], protocol.MetadataPartition{PartitionIndex: 5, LeaderID: 2, LeaderEpoch: 1})
	s, retry := buildSnapshot(emptySnapshot, resp, []string{"a", "gone", "absent"}, time.Now())
	assert.True(t, retry)
	assert.Equal(t, "fake-cluster", s.ClusterID)
	assert.Equal(t, int32(1), s.ControllerID)
	assert.Equal(t, Broker{NodeID: 2, Host: "broker", Port: 9092}, s.Brokers[2])
	assert.Equal(t, "broker:9092", s.Brokers[2].Addr())

	a := s.Topics["a"]
	require.Len(t, a.Partitions, 6, "indexed by id up to the highest")
	assert.ErrorIs(t, a.Partitions[1].Err, protocol.ErrLeaderNotAvailable)
	assert.Equal(t, int32(-1), a.Partitions[3].Leader, "missing from the response")
	assert.Equal(t, []int32{0, 5}, a.Available, "leaderless and unknown-leader partitions excluded")

	assert.ErrorIs(t, s.Topics["gone"].Err, protocol.ErrUnknownTopicOrPartition)
	assert.Empty(t, s.Topics["gone"].Partitions)
	assert.NotContains(t, s.Topics, "unrequested")
	assert.NotContains(t, s.Topics, "absent")

	_, retry = buildSnapshot(emptySnapshot, cluster(topic("ok", 0, []int32{1}, 1)), []string{"ok"}, time.Now())
	assert.False(t, retry)

	// A requested topic the broker left out is asked about again.
	_, retry = buildSnapshot(emptySnapshot, cluster(), []string{"left-out"}, time.Now())
	assert.True(t, retry)

	// An absurd partition id is ignored rather than allocated for.
	hostile := cluster(topic("h", 0, []int32{1}, 1))
	hostile.Topics[0].Partitions = append(hostile.Topics[0].Partitions,
		protocol.MetadataPartition{PartitionIndex: math.MaxInt32, LeaderID: 1, LeaderEpoch: 1})
	s, retry = buildSnapshot(emptySnapshot, hostile, []string{"h"}, time.Now())
	assert.True(t, retry)
	assert.Len(t, s.Topics["h"].Partitions, 1)
}

// TestHotPathsDoNotAllocate: Snapshot, Touch and Leader run on every send.
func TestHotPathsDoNotAllocate(t *testing.T) {
	f := &fakeFetcher{fn: func(int, []string) (*protocol.MetadataResponse, error) {
		return cluster(topic("a", 0, []int32{1, 2, 3}, 1)), nil
	}}
	m := New(Config{}, f)
	m.Start()
	defer m.Close()
	_, err := m.WaitForTopic(ctxFor(t, hangLimit), "a")
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(1000, func() {
		m.Touch("a")
		if _, ok := m.Snapshot().Leader("a", 1); !ok {
			panic("no leader")
		}
	})
	assert.Zero(t, allocs)
	allocs = testing.AllocsPerRun(1000, func() { m.Touch("unknown") })
	assert.Zero(t, allocs)
}

func BenchmarkTouch(b *testing.B) {
	f := &fakeFetcher{fn: func(int, []string) (*protocol.MetadataResponse, error) {
		return cluster(topic("a", 0, []int32{1}, 1)), nil
	}}
	m := New(Config{}, f)
	m.Start()
	defer m.Close()
	if _, err := m.WaitForTopic(context.Background(), "a"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Touch("a")
		}
	})
}
