package producer_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/internal/kafkatest"
	"github.com/tributary-go/tributary/producer"
	"github.com/tributary-go/tributary/protocol"
)

// Metadata on a real cluster: topics the broker creates on first use,
// partitions added while a producer runs, and the broker's size limit.
// Verdicts come from Kafka's ConsoleConsumer and kadm.

// uniqueTopic returns a topic name unique to this test and run, without
// creating it.
func uniqueTopic(t testing.TB) string {
	return strings.ReplaceAll(fmt.Sprintf("%s-%d-%d", t.Name(), time.Now().UnixNano()%1e9, topicSeq.Add(1)), "/", "-")
}

// checkDelivered reads want records of topic with Kafka's ConsoleConsumer
// and checks that each value of mds arrived exactly once, at the
// partition and offset its future reported.
func checkDelivered(t testing.TB, c *kafkatest.Cluster, topic string, recs []*producer.Record, mds []producer.RecordMetadata) {
	t.Helper()
	type where struct {
		partition int32
		offset    int64
	}
	want := map[string]where{}
	for i, r := range recs {
		want[string(r.Value)] = where{mds[i].Partition, mds[i].Offset}
	}
	require.Len(t, want, len(recs), "test records need distinct values")
	got := consume(t, c, topic, len(recs), false)
	seen := map[string]bool{}
	for _, r := range got {
		v := string(r.Value)
		w, ok := want[v]
		require.True(t, ok, "unexpected record %.40q", v)
		require.False(t, seen[v], "record %.40q read twice", v)
		seen[v] = true
		assert.Equal(t, w, where{r.Partition, r.Offset}, "record %.40q: partition and offset", v)
	}
}

// TestKafkaAutoCreateTopic: records to a topic that does not exist are
// delivered once the broker has created it (auto.create.topics.enable),
// with the broker's num.partitions (3 on the test cluster).
func TestKafkaAutoCreateTopic(t *testing.T) {
	c := kafkatest.Shared(t)
	topic := uniqueTopic(t)
	p := realProducer(t, c)
	var recs []*producer.Record
	for i := 0; i < 30; i++ {
		r := &producer.Record{Topic: topic, Value: []byte(fmt.Sprintf("auto-%d", i))}
		if i%2 == 0 {
			r.Key = []byte(fmt.Sprintf("key-%d", i))
		}
		recs = append(recs, r)
	}
	mds := sendAll(t, p, recs)

	adm, err := c.Admin()
	require.NoError(t, err)
	defer adm.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	td, err := adm.ListTopics(ctx, topic)
	require.NoError(t, err)
	require.NoError(t, td.Error())
	require.Len(t, td[topic].Partitions, 3, "partitions of the auto-created topic (the broker's num.partitions)")
	for i, md := range mds {
		require.True(t, md.Partition >= 0 && md.Partition < 3, "record %d on partition %d", i, md.Partition)
	}
	t.Logf("Kafka %s: auto-created %s with %d partitions", c.Version, topic, len(td[topic].Partitions))
	checkDelivered(t, c, topic, recs, mds)
}

// TestKafkaPartitionsAdded: partitions added while the producer runs
// (kadm CreatePartitions, 2 → 4) receive keyed records once the producer's
// metadata has been refreshed (metadata.max.age.ms 500 ms); every record
// arrives once, where its future said.
func TestKafkaPartitionsAdded(t *testing.T) {
	c := kafkatest.Shared(t)
	topic := realTopic(t, c, 2)
	p := realProducer(t, c, producer.WithMetadataMaxAge(500*time.Millisecond), producer.WithLinger(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var recs []*producer.Record
	var mds []producer.RecordMetadata
	n := 0
	send := func() producer.RecordMetadata {
		t.Helper()
		r := &producer.Record{Topic: topic, Key: []byte(fmt.Sprintf("key-%d", n)), Value: []byte(fmt.Sprintf("value-%d", n))}
		n++
		md, err := p.Send(ctx, r).Get(ctx)
		require.NoError(t, err, "record %s", r.Value)
		recs, mds = append(recs, r), append(mds, md)
		return md
	}
	for i := 0; i < 20; i++ {
		md := send()
		require.Less(t, md.Partition, int32(2), "a record on partition %d of a 2-partition topic", md.Partition)
	}

	adm, err := c.Admin()
	require.NoError(t, err)
	defer adm.Close()
	resp, err := adm.CreatePartitions(ctx, 2, topic)
	require.NoError(t, err)
	require.NoError(t, resp.Error())

	before := n
	used := map[int32]int{}
	waitFor(t, time.Minute, "keyed records on both new partitions", func() bool {
		used[send().Partition]++
		return used[2] > 0 && used[3] > 0
	})
	t.Logf("Kafka %s: after CreatePartitions, %d records until both new partitions had one; per partition %v", c.Version, n-before, used)
	// And records for an explicit new partition.
	r := &producer.Record{Topic: topic, Partition: 3, UsePartition: true, Value: []byte("explicit-3")}
	md, err := p.Send(ctx, r).Get(ctx)
	require.NoError(t, err)
	assert.Equal(t, int32(3), md.Partition)
	recs, mds = append(recs, r), append(mds, md)
	checkDelivered(t, c, topic, recs, mds)
}

// TestKafkaRecordTooLarge: on a topic with max.message.bytes 10 KiB, a
// single record of 20 KiB (under the producer's max.request.size) is
// refused by the broker with a typed MESSAGE_TOO_LARGE error that gives
// the batch's size and the limits it broke, while 200
// records of 500 bytes, batched into requests far over the limit, are
// split (batch-split-total counts it) and every one delivered once.
func TestKafkaRecordTooLarge(t *testing.T) {
	c := kafkatest.Shared(t)
	topic := uniqueTopic(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, c.CreateTopic(ctx, topic, 1, 3, map[string]string{"max.message.bytes": "10240"}))

	p := realProducer(t, c, producer.WithBatchSize(256<<10), producer.WithLinger(200*time.Millisecond))
	_, err := p.Send(ctx, &producer.Record{Topic: topic, Value: make([]byte, 20<<10)}).Get(ctx)
	t.Logf("Kafka %s: a 20 KiB record on a topic with max.message.bytes=10240: %v", c.Version, err)
	require.Error(t, err)
	assert.ErrorIs(t, err, protocol.ErrMessageTooLarge)
	m := regexp.MustCompile(`a batch of (\d+) bytes with 1 records is over the broker's message.max.bytes or the topic's max.message.bytes`).FindStringSubmatch(err.Error())
	require.NotNil(t, m, "the error names the batch's size and the limits: %v", err)
	size, _ := strconv.Atoi(m[1])
	assert.Greater(t, size, 20<<10, "the refused batch's size")

	var recs []*producer.Record
	for i := 0; i < 200; i++ {
		v := fmt.Sprintf("small-%03d-%s", i, strings.Repeat("x", 490))
		recs = append(recs, &producer.Record{Topic: topic, Value: []byte(v)})
	}
	mds := sendAll(t, p, recs)
	splits := p.Metrics().BatchSplitTotal
	t.Logf("Kafka %s: 200 records of ~510 bytes delivered after %d batch splits", c.Version, splits)
	assert.Positive(t, splits, "the oversized batch was split")
	checkDelivered(t, c, topic, recs, mds)
}
