package producer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-go/tributary/protocol"
)

// rejectPartition makes c answer every Produce itself: partition part of
// any topic fails with INVALID_RECORD (not retriable), the others succeed
// with offsets counted here per partition (the cluster stores nothing).
func rejectPartition(t *testing.T, c interface {
	ControlKey(int16, func(kmsg.Request) (kmsg.Response, error, bool))
	KeepControl()
}, part int32) {
	next := make(map[int32]int64) // only the cluster's control goroutine touches it
	c.ControlKey(int16(kmsg.Produce), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kr.(*kmsg.ProduceRequest)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, tp := range req.Topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic = tp.Topic
			for _, pp := range tp.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition = pp.Partition
				rp.LogAppendTime = -1
				var batch kmsg.RecordBatch
				if err := batch.ReadFrom(pp.Records); err != nil {
					t.Errorf("partition %d: undecodable batch: %v", pp.Partition, err)
				}
				if pp.Partition == part {
					rp.ErrorCode = protocol.ErrInvalidRecord.Code
					rp.BaseOffset = -1
				} else {
					rp.BaseOffset = next[pp.Partition]
					next[pp.Partition] += int64(batch.NumRecords)
				}
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, true
	})
}

type outcomeSeen struct {
	md  RecordMetadata
	err error
}

// TestFutureGetConcurrent: many goroutines call Get on the same Futures,
// shared per batch, while the batches complete. Every caller sees the same
// value for a record; records of a good partition get consecutive offsets
// in send order; records of a rejected partition all get its error, not
// another record's outcome.
func TestFutureGetConcurrent(t *testing.T) {
	checkNoLeaks(t)
	const topic, partitions, records, getters = "future-get", 4, 2_000, 16
	const rejected = int32(3)
	c := newCluster(t, 1, partitions, topic)
	rejectPartition(t, c, rejected)
	p := startProducer(t, c, WithLinger(time.Millisecond), WithBatchSize(4<<10), WithRetries(0), WithIdempotence(false), WithAcks(AcksLeader))
	ctx := context.Background()

	futs := make([]*Future, records)
	seen := make([][]outcomeSeen, getters)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range getters {
		seen[g] = make([]outcomeSeen, records)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// Walk the futures from a different place each, so Gets on
			// one batch come both before and after it completes.
			for k := range records {
				i := (k + g*records/getters) % records
				md, err := futs[i].Get(ctx)
				seen[g][i] = outcomeSeen{md, err}
			}
		}()
	}
	for i := range futs {
		futs[i] = p.Send(ctx, &Record{Topic: topic, Partition: int32(i % partitions), UsePartition: true, Value: []byte(fmt.Sprint(i))})
	}
	close(start)
	wg.Wait()

	next := make(map[int32]int64)
	for i := range futs {
		want := seen[0][i]
		for g := 1; g < getters; g++ {
			require.Equal(t, want, seen[g][i], "record %d: getter %d saw another outcome than getter 0", i, g)
		}
		part := int32(i % partitions)
		assert.Equal(t, topic, want.md.Topic, "record %d", i)
		assert.Equal(t, part, want.md.Partition, "record %d", i)
		assert.Equal(t, len(fmt.Sprint(i)), want.md.SerializedValueSize, "record %d", i)
		assert.Equal(t, -1, want.md.SerializedKeySize, "record %d: null key", i)
		if part == rejected {
			require.ErrorIs(t, want.err, protocol.ErrInvalidRecord, "record %d", i)
			assert.Equal(t, int64(-1), want.md.Offset, "record %d", i)
			continue
		}
		require.NoError(t, want.err, "record %d", i)
		assert.Equal(t, next[part], want.md.Offset, "record %d of partition %d", i, part)
		next[part]++
	}
	for part := range int32(partitions) {
		if part != rejected {
			assert.Equal(t, int64(records/partitions), next[part], "partition %d", part)
		}
	}
}

// TestFutureGetCancel: a Get whose ctx ends returns ctx's error and leaves
// the record alone: it is still delivered, and later Gets (from many
// goroutines at once, some of them cancelled too) see its offset.
func TestFutureGetCancel(t *testing.T) {
	checkNoLeaks(t)
	const topic, getters = "future-cancel", 16
	c := newCluster(t, 1, 1, topic)
	// A linger of an hour keeps the batch open until Flush, so the Gets
	// below certainly come before the outcome.
	p := startProducer(t, c, WithLinger(time.Hour), WithDeliveryTimeout(2*time.Hour))
	ctx := context.Background()

	f := p.Send(ctx, &Record{Topic: topic, Value: []byte("kept")})
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	var wg sync.WaitGroup
	errs := make(chan error, getters)
	for range getters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.Get(cancelled); !errors.Is(err, context.Canceled) {
				errs <- fmt.Errorf("Get with a cancelled context: got %v, want context.Canceled", err)
			}
		}()
	}
	wg.Wait()
	short, cancelShort := context.WithTimeout(ctx, time.Millisecond)
	defer cancelShort()
	_, err := f.Get(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	select {
	case <-f.Done():
		t.Fatal("the record completed before Flush although linger.ms is an hour")
	default:
	}
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	// Waiters that stay until the outcome, started before Flush.
	results := make(chan outcomeSeen, getters)
	for range getters {
		go func() {
			md, err := f.Get(ctx)
			results <- outcomeSeen{md, err}
		}()
	}
	require.NoError(t, p.Flush(ctx))
	for range getters {
		r := <-results
		require.NoError(t, r.err)
		assert.Equal(t, int64(0), r.md.Offset)
		assert.Equal(t, topic, r.md.Topic)
	}
	// Done, Get with an ended context still returns the outcome.
	md, err := f.Get(cancelled)
	require.NoError(t, err)
	assert.Equal(t, int64(0), md.Offset)
	got := consumeAll(t, c, topic, 1)
	assert.Equal(t, "kept", string(got[0].Value))
}

// TestFailedFutureMetadata: a Send that fails before appending resolves
// its Future at once, with the record's topic and partition.
func TestFailedFutureMetadata(t *testing.T) {
	checkNoLeaks(t)
	const topic = "future-fail"
	c := newCluster(t, 1, 2, topic)
	p := startProducer(t, c)
	ctx := context.Background()
	f := p.Send(ctx, &Record{Topic: topic, Partition: 7, UsePartition: true, Key: []byte("k")})
	select {
	case <-f.Done():
	default:
		t.Fatal("a Future failed at Send is not done")
	}
	md, err := f.Get(ctx)
	var pe *PartitionError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, topic, md.Topic)
	assert.Equal(t, int32(7), md.Partition)
	assert.Equal(t, int64(-1), md.Offset)
}
