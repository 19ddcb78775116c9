package producer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-go/tributary/metadata"
)

// A topic's view is trusted only while its snapshot is current and for at
// most topicMarkInterval; a topic read from an older snapshot is not
// published.
func TestTopicViewTrust(t *testing.T) {
	p := sinkProducer(t)
	h := p.topics.Load("sink")
	require.NotNil(t, h, "a send to the topic made its handle")
	v := h.view.Load()
	require.NotNil(t, v)
	if v.snap != p.meta.Snapshot() {
		// A refresh came after the warm-up's send; view the new snapshot.
		v = h.remember(p.meta, p.meta.Snapshot().Topics["sink"], p.clock.Millis())
		require.Same(t, p.meta.Snapshot(), v.snap)
	}
	assert.Equal(t, 16, v.pt.NumPartitions)
	require.NotNil(t, h.part, "the default partitioner binds topics")

	assert.Same(t, v, h.current(p.meta, v.marked))
	assert.Same(t, v, h.current(p.meta, v.marked+topicMarkInterval-1))
	assert.Nil(t, h.current(p.meta, v.marked+topicMarkInterval), "past the mark interval Send goes through Metadata.Use again")
	assert.Nil(t, h.current(p.meta, v.marked-1), "a clock that went back does not extend the trust")

	// A Topic that is not the current snapshot's entry is used for the
	// send at hand but not published.
	stale := &metadata.Topic{Name: "sink", Partitions: make([]metadata.Partition, 3)}
	got := h.remember(p.meta, stale, v.marked+5)
	assert.Equal(t, 3, got.pt.NumPartitions)
	assert.Same(t, v, h.view.Load(), "a stale topic is not published")

	// The current entry is published, and Send renews an expired view.
	cur := p.meta.Snapshot().Topics["sink"]
	renewed := h.remember(p.meta, cur, v.marked+7)
	assert.Same(t, renewed, h.view.Load())
	ctx := context.Background()
	_, err := p.Send(ctx, &Record{Topic: "sink", Value: []byte("x")}).Get(ctx)
	require.NoError(t, err)
}

// A refresh publishes a new snapshot, and a view of the old one is no
// longer trusted.
func TestTopicViewSnapshotChange(t *testing.T) {
	p := sinkProducer(t, WithMetadataMaxAge(50*time.Millisecond))
	h := p.topics.Load("sink")
	require.NotNil(t, h)
	var v *topicView
	deadline := time.Now().Add(30 * time.Second)
	for v == nil {
		// Publish a view of the current snapshot (a refresh may race it).
		v = h.remember(p.meta, p.meta.Snapshot().Topics["sink"], p.clock.Millis())
		if v.snap == nil {
			v = nil
		}
		require.True(t, time.Now().Before(deadline), "no stable snapshot within 30s")
	}
	for p.meta.Snapshot() == v.snap {
		require.True(t, time.Now().Before(deadline), "no metadata refresh within 30s")
		time.Sleep(5 * time.Millisecond)
	}
	assert.Nil(t, h.current(p.meta, v.marked), "a view of an older snapshot is not used")
}

// A topic that grows is seen by Send once the metadata has the new
// partitions: the handle's view follows the snapshot.
func TestTopicHandleFollowsGrowth(t *testing.T) {
	c := newCluster(t, 1, 2, "grow")
	// Small batches and no linger: sticky runs of a few records, sent at once.
	p := startProducer(t, c, WithMetadataMaxAge(100*time.Millisecond), WithBatchSize(1000), WithLinger(0))
	ctx := context.Background()
	_, err := p.Send(ctx, &Record{Topic: "grow", Value: []byte("a")}).Get(ctx)
	require.NoError(t, err)
	_, err = p.Send(ctx, &Record{Topic: "grow", Partition: 4, UsePartition: true, Value: []byte("b")}).Get(ctx)
	var pe *PartitionError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 2, pe.NumPartitions)

	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	require.NoError(t, err)
	defer cl.Close()
	_, err = kadm.NewClient(cl).CreatePartitions(ctx, 4, "grow")
	require.NoError(t, err)

	deadline := time.Now().Add(30 * time.Second)
	for {
		md, err := p.Send(ctx, &Record{Topic: "grow", Partition: 4, UsePartition: true, Value: []byte("c")}).Get(ctx)
		if err == nil {
			assert.Equal(t, int32(4), md.Partition)
			break
		}
		require.True(t, errors.As(err, &pe), "only a PartitionError while the metadata is old: %v", err)
		require.True(t, time.Now().Before(deadline), "the producer never saw the new partitions")
		time.Sleep(20 * time.Millisecond)
	}
	// Unkeyed records now spread over the grown topic too.
	seen := map[int32]bool{}
	for range 300 {
		md, err := p.Send(ctx, &Record{Topic: "grow", Value: make([]byte, 200)}).Get(ctx)
		require.NoError(t, err)
		seen[md.Partition] = true
	}
	assert.Greater(t, len(seen), 1, "records over more than one partition")
}
