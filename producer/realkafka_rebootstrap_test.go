package producer_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-go/tributary/internal/kafkatest"
	"github.com/tributary-go/tributary/internal/tcpforward"
	"github.com/tributary-go/tributary/metadata"
	"github.com/tributary-go/tributary/producer"
)

// TestKafkaRebootstrap replaces the whole cluster behind the bootstrap
// address (KIP-899/KIP-1102). The producer's only bootstrap address is a
// TCP forwarder, standing in for a DNS name, that leads to cluster A (one
// node). Keyed idempotent acks=all records go to A, which acknowledges
// them; franz-go reads them back from A. Cluster B (one node, the same
// topic with the same partition count) starts, the forwarder is pointed
// at B and A is killed. The producer only knows A's broker, which is
// gone; it must re-bootstrap through the forwarder and deliver the next
// records to B. Every acknowledged record is then in the cluster that
// acknowledged it, once, in the partition and at the offset its future
// reported, and each log holds nothing else.
func TestKafkaRebootstrap(t *testing.T) {
	const partitions, perPhase = 3, 150
	a := kafkatest.StartT(t, kafkatest.Options{Nodes: 1})
	fw, err := tcpforward.New(a.Bootstrap()[0])
	require.NoError(t, err)
	t.Cleanup(func() { fw.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	topic := fmt.Sprintf("rebootstrap-%d", time.Now().UnixNano()%1e9)
	require.NoError(t, a.CreateTopic(ctx, topic, partitions, 1, nil))

	p, err := producer.New(
		producer.WithBootstrapServers(fw.Addr()),
		producer.WithIdempotence(true),
		producer.WithMetadataRecoveryStrategy(metadata.RecoveryRebootstrap),
		producer.WithRebootstrapTrigger(3*time.Second),
		producer.WithLinger(5*time.Millisecond),
		producer.WithLogger(testLogger(t)),
	)
	require.NoError(t, err)
	t.Cleanup(func() { closeProducer(t, p) })

	produce := func(phase string) []sent {
		futures := make([]*producer.Future, perPhase)
		for i := range futures {
			futures[i] = p.Send(ctx, &producer.Record{Topic: topic, Key: []byte(fmt.Sprintf("key-%d", i)), Value: []byte(fmt.Sprintf("%s-%d", phase, i))})
		}
		var out []sent
		for i, f := range futures {
			md, err := f.Get(ctx)
			require.NoError(t, err, "record %s-%d", phase, i)
			out = append(out, sent{fmt.Sprintf("%s-%d", phase, i), md.Partition, md.Offset})
		}
		return out
	}

	ackedA := produce("a")
	checkLog(t, a, topic, ackedA)

	b := kafkatest.StartT(t, kafkatest.Options{Nodes: 1})
	require.NoError(t, b.CreateTopic(ctx, topic, partitions, 1, nil))
	fw.Retarget(b.Bootstrap()[0])
	fw.DropAll()
	require.NoError(t, a.Kill(a.Nodes[0].ID))
	t.Logf("cluster A (%s) killed; the forwarder %s now leads to cluster B (%s)", a.Bootstrap()[0], fw.Addr(), b.Bootstrap()[0])

	ackedB := produce("b")
	checkLog(t, b, topic, ackedB)
	for i := range perPhase {
		assert.Equal(t, ackedA[i].partition, ackedB[i].partition, "key-%d goes to the same partition in both clusters", i)
	}
}

// sent is what a future reported for one record.
type sent struct {
	value     string
	partition int32
	offset    int64
}

// checkLog reads topic from c with franz-go and checks that it holds
// exactly the acknowledged records: each once, where its future said, and
// nothing else (the end offsets add up to their number).
func checkLog(t *testing.T, c *kafkatest.Cluster, topic string, acked []sent) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	adm, err := c.Admin()
	require.NoError(t, err)
	defer adm.Close()
	ends, err := adm.ListEndOffsets(ctx, topic)
	require.NoError(t, err)
	var total int64
	ends.Each(func(o kadm.ListedOffset) {
		require.NoError(t, o.Err)
		total += o.Offset
	})
	assert.Equal(t, int64(len(acked)), total, "the log holds exactly the acknowledged records")

	cl, err := c.Client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cl.Close()
	type at struct {
		partition int32
		offset    int64
	}
	got := map[string][]at{}
	for n := 0; n < len(acked); {
		fs := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "read %d of %d records", n, len(acked))
		require.NoError(t, fs.Err0())
		fs.EachRecord(func(r *kgo.Record) {
			got[string(r.Value)] = append(got[string(r.Value)], at{r.Partition, r.Offset})
			n++
		})
	}
	var missing, twice []string
	for _, s := range acked {
		switch where := got[s.value]; {
		case len(where) == 0:
			missing = append(missing, s.value)
		case len(where) > 1:
			twice = append(twice, s.value)
		default:
			assert.Equal(t, at{s.partition, s.offset}, where[0], "%s is where its future said", s.value)
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "acknowledged records lost")
	assert.Empty(t, twice, "records written twice")
}
