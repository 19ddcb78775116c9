package producer

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-go/tributary/internal/fakebroker"
	"github.com/tributary-go/tributary/protocol"
)

// TestMaxInFlightOneKeepsOrderAcrossLeaderMove: with idempotence off and
// max.in.flight=1, record A's request to the old leader is held and then
// fails with NOT_LEADER_OR_FOLLOWER; meanwhile the leader moved and record
// B was sent. The partition is muted while A is in flight (Java
// guaranteeMessageOrder), so B waits for A's retry and the log holds A
// before B. Without muting, B went to the new leader at once and A's retry
// landed after it.
func TestMaxInFlightOneKeepsOrderAcrossLeaderMove(t *testing.T) {
	checkNoLeaks(t)
	const topic = "ordered"
	release := make(chan struct{})
	held := make(chan struct{})
	var armed, holding atomic.Bool
	var metaAfterMove atomic.Int64
	var moved atomic.Bool
	handler := func(node int32, key protocol.Key, _ int16, _ protocol.Request) fakebroker.Action {
		switch {
		case key == protocol.KeyMetadata && moved.Load():
			metaAfterMove.Add(1)
		case key == protocol.KeyProduce && node == 0 && armed.Load() && holding.CompareAndSwap(false, true):
			close(held)
			return fakebroker.Action{ErrorCode: protocol.ErrNotLeaderOrFollower.Code, Hold: release}
		}
		return fakebroker.Action{}
	}
	fb, err := fakebroker.Start(fakebroker.Config{Brokers: 2, Topics: map[string]int32{topic: 1}, Store: true, Handler: handler})
	require.NoError(t, err)
	t.Cleanup(fb.Close)
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	p, err := New(WithBootstrapServers(fb.Addrs()...), WithLogger(testLogger(t)),
		WithIdempotence(false), WithAcks(AcksLeader), WithMaxInFlight(1), WithLinger(0),
		WithRetryBackoff(5*time.Millisecond, 20*time.Millisecond), WithMetadataMaxAge(20*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	ctx := context.Background()
	send := func(v string) *Future {
		return p.Send(ctx, &Record{Topic: topic, Partition: 0, UsePartition: true, Value: []byte(v)})
	}
	_, err = send("warm-up").Get(ctx) // metadata and connections in place
	require.NoError(t, err)

	armed.Store(true)
	fa := send("A")
	<-held
	fb.SetLeader(topic, 0, 1)
	moved.Store(true)
	waitFor(t, "the producer to learn the new leader", func() bool {
		l, ok := p.meta.Snapshot().Leader(topic, 0)
		return ok && l.NodeID == 1
	})
	fB := send("B")
	// Give an unmuted sender every chance to send B now: it would be
	// appended while A is still held. Several metadata refreshes mean the
	// send loop has woken several times.
	base := metaAfterMove.Load()
	waitFor(t, "B appended early or several refreshes passed", func() bool {
		return fb.Records(topic, 0) > 1 || metaAfterMove.Load() >= base+5
	})
	close(release)

	_, err = fa.Get(ctx)
	require.NoError(t, err)
	_, err = fB.Get(ctx)
	require.NoError(t, err)
	var values []string
	for _, b := range fb.Batches(topic, 0) {
		for _, r := range b.Records {
			values = append(values, string(r.Value))
		}
	}
	require.Equal(t, []string{"warm-up", "A", "B"}, values, "order in the log")
}

// TestMaxInFlightOneKeepsOrderKfake is the same scenario on kfake, with
// the leader moved by MoveTopicPartition and the order read back with
// franz-go's consumer: A's request to the old leader is held, then answered
// NOT_LEADER_OR_FOLLOWER; B, sent after the move, must still land after A.
func TestMaxInFlightOneKeepsOrderKfake(t *testing.T) {
	checkNoLeaks(t)
	const topic = "ordered-kfake"
	c := newCluster(t, 2, 1, topic)
	oldLeader := c.LeaderFor(topic, 0)
	newLeader := 1 - oldLeader
	release := make(chan struct{})
	held := make(chan struct{})
	var armed, holding, moved atomic.Bool
	var metaAfterMove atomic.Int64
	c.ControlKey(int16(kmsg.Metadata), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if moved.Load() {
			metaAfterMove.Add(1)
		}
		return nil, nil, false
	})
	c.ControlKey(int16(kmsg.Produce), func(r kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if c.CurrentNode() != oldLeader || !armed.Load() || !holding.CompareAndSwap(false, true) {
			return nil, nil, false
		}
		close(held)
		c.SleepControl(func() { <-release })
		req := r.(*kmsg.ProduceRequest)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.NotLeaderForPartition.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	p := startProducer(t, c, WithIdempotence(false), WithAcks(AcksLeader), WithMaxInFlight(1), WithLinger(0),
		WithRetryBackoff(5*time.Millisecond, 20*time.Millisecond), WithMetadataMaxAge(20*time.Millisecond))
	ctx := context.Background()
	send := func(v string) *Future {
		return p.Send(ctx, &Record{Topic: topic, Partition: 0, UsePartition: true, Value: []byte(v)})
	}
	_, err := send("warm-up").Get(ctx)
	require.NoError(t, err)

	armed.Store(true)
	fa := send("A")
	<-held
	require.NoError(t, c.MoveTopicPartition(topic, 0, newLeader))
	moved.Store(true)
	waitFor(t, "the producer to learn the new leader", func() bool {
		l, ok := p.meta.Snapshot().Leader(topic, 0)
		return ok && l.NodeID == newLeader
	})
	fB := send("B")
	base := metaAfterMove.Load()
	waitFor(t, "several refreshes after B was queued", func() bool { return metaAfterMove.Load() >= base+5 })
	close(release)

	_, err = fa.Get(ctx)
	require.NoError(t, err)
	_, err = fB.Get(ctx)
	require.NoError(t, err)
	var values []string
	for _, r := range consumeAll(t, c, topic, 3) {
		values = append(values, string(r.Value))
	}
	require.Equal(t, []string{"warm-up", "A", "B"}, values, "order read back by franz-go")
}
