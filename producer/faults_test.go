package producer

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-go/tributary/internal/chaos"
)

// The fault suite produces through the public API while a chaos goroutine
// keeps breaking the cluster, then reads everything back with franz-go's
// consumer and checks the guarantees: every acknowledged record exactly
// once, per-key order kept, every future resolved.

type chaosResult struct {
	sent, acked, failed int
	faults              [chaos.NumKinds]int
	ackedSet            []bool // per record: its future succeeded
	records             []*kgo.Record
}

// runChaos produces n keyed records while injecting faults of kinds every
// interval, and returns what the consumer read back.
// The records are paced to take about spread, so faults keep landing
// while they are produced.
func runChaos(t *testing.T, n int, kinds []chaos.Kind, idempotent bool, interval, spread time.Duration, extra ...Option) chaosResult {
	t.Helper()
	const topic, partitions = "chaos", 12
	cc, err := chaos.New(topic, partitions)
	require.NoError(t, err)
	t.Cleanup(cc.Close)
	p := startProducerAddrs(t, cc.ListenAddrs(), WithLogger(testLogger(t)),
		WithIdempotence(idempotent), WithLinger(2*time.Millisecond), WithBatchSize(8<<10),
		WithRequestTimeout(1*time.Second), WithDeliveryTimeout(60*time.Second),
		WithRetryBackoff(20*time.Millisecond, 200*time.Millisecond),
		WithReconnectBackoff(20*time.Millisecond, 200*time.Millisecond),
		WithMetadataMaxAge(2*time.Second))
	if len(extra) > 0 {
		p.Close(context.Background())
		p = startProducerAddrs(t, cc.ListenAddrs(), append([]Option{WithLogger(testLogger(t)),
			WithIdempotence(idempotent), WithLinger(2 * time.Millisecond), WithBatchSize(8 << 10),
			WithRetryBackoff(20*time.Millisecond, 200*time.Millisecond),
			WithReconnectBackoff(20*time.Millisecond, 200*time.Millisecond)}, extra...)...)
	}

	var res chaosResult
	stop := make(chan struct{})
	chaosDone := make(chan struct{})
	go func() {
		defer close(chaosDone)
		res.faults = cc.Run(stop, kinds, topic, partitions, interval, t.Logf)
	}()

	ctx := context.Background()
	futures := make([]*Future, 0, n)
	pause := spread / time.Duration(max(n/100, 1))
	for i := range n {
		if i%100 == 0 {
			time.Sleep(pause)
		}
		futures = append(futures, p.Send(ctx, &Record{Topic: topic, Key: []byte("k" + strconv.Itoa(i%97)), Value: []byte(strconv.Itoa(i))}))
	}
	// Faults stop once everything is sent: what is in flight must then
	// resolve on a healthy cluster.
	close(stop)
	<-chaosDone
	var acked, failed int
	var firstErr error
	res.ackedSet = make([]bool, n)
	errKinds := map[string]int{}
	defer func() {
		if len(errKinds) > 0 {
			t.Logf("errors by type: %v", errKinds)
		}
	}()
	for i, f := range futures {
		if _, err := f.Get(ctx); err != nil {
			errKinds[fmt.Sprintf("%T", err)]++
			failed++
			if firstErr == nil {
				firstErr = err
			}
		} else {
			acked++
			res.ackedSet[i] = true
		}
	}
	ccx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, p.Close(ccx))
	res.sent, res.acked, res.failed = n, acked, failed
	if firstErr != nil {
		t.Logf("first delivery error: %v", firstErr)
	}
	// Let the cluster settle (a bounced broker back) before reading.
	res.records = consumeAtLeast(t, cc.ListenAddrs(), topic, res.acked)
	return res
}

// consumeAtLeast reads the topic until want records arrived and the topic
// is quiet, returning everything (duplicates included).
func consumeAtLeast(t testing.TB, addrs []string, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	require.NoError(t, err)
	defer cl.Close()
	deadline := time.Now().Add(60 * time.Second)
	var out []*kgo.Record
	quiet := 0
	for time.Now().Before(deadline) && (len(out) < want || quiet < 3) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		recs := cl.PollFetches(ctx).Records()
		cancel()
		if len(recs) == 0 {
			quiet++
		} else {
			quiet = 0
		}
		out = append(out, recs...)
	}
	require.GreaterOrEqual(t, len(out), want, "consumed fewer records than were acknowledged")
	return out
}

// startProducerAddrs is startProducer for a cluster given by addresses.
func startProducerAddrs(t testing.TB, addrs []string, opts ...Option) *Producer {
	t.Helper()
	p, err := New(append([]Option{WithBootstrapServers(addrs...), WithMaxBlock(30 * time.Second)}, opts...)...)
	require.NoError(t, err)
	return p
}

// verify checks exactly-once and per-key order, returning the number of
// duplicated and reordered records and of acknowledged records missing.
func (r chaosResult) verify(t *testing.T) (dups, reordered, lost int) {
	counts := make(map[int]int, r.sent)
	sort.Slice(r.records, func(i, j int) bool {
		a, b := r.records[i], r.records[j]
		if a.Partition != b.Partition {
			return a.Partition < b.Partition
		}
		return a.Offset < b.Offset
	})
	last := map[string]int{}
	for _, rec := range r.records {
		v, err := strconv.Atoi(string(rec.Value))
		require.NoError(t, err)
		counts[v]++
		if counts[v] > 1 {
			dups++
			continue
		}
		// Order is promised for acknowledged records; a record whose send
		// failed (delivery timeout) may still land, late.
		if !r.ackedSet[v] {
			continue
		}
		if prev, ok := last[string(rec.Key)]; ok && prev > v {
			reordered++
		}
		last[string(rec.Key)] = v
	}
	for i := range r.sent {
		if counts[i] == 0 && r.ackedSet[i] {
			lost++
		}
	}
	return dups, reordered, lost
}

func (r chaosResult) faultSummary() string {
	s := ""
	for k, n := range r.faults {
		if n > 0 {
			s += fmt.Sprintf("%s=%d ", chaos.Kind(k), n)
		}
	}
	return s
}

// TestChaosIdempotent is the fault matrix: with idempotence on (the
// default) and 5 requests in flight, every fault kind at once loses,
// duplicates and reorders nothing.
func TestChaosIdempotent(t *testing.T) {
	checkNoLeaks(t)
	n := 20_000
	if testing.Short() {
		n = 5_000
	}
	res := runChaos(t, n, chaos.All, true, 100*time.Millisecond, 8*time.Second)
	dups, reordered, lost := res.verify(t)
	t.Logf("records=%d acked=%d failed=%d consumed=%d faults: %s", res.sent, res.acked, res.failed, len(res.records), res.faultSummary())
	assert.Equal(t, res.sent, res.acked, "every record acknowledged")
	assert.Zero(t, dups, "duplicates")
	assert.Zero(t, reordered, "reordered")
	assert.Zero(t, lost, "lost")
}

// TestChaosWithoutIdempotenceDuplicates proves the after-append faults
// bite: with idempotence off, retries of appended batches duplicate
// records; the idempotent run of the same faults does not.
func TestChaosWithoutIdempotenceDuplicates(t *testing.T) {
	kinds := []chaos.Kind{chaos.TimedOutAfterAppend, chaos.NotEnoughReplicasAfterAppend}
	off := runChaos(t, 5_000, kinds, false, 50*time.Millisecond, 2*time.Second)
	dupsOff, _, lostOff := off.verify(t)
	t.Logf("idempotence off: duplicates=%d lost=%d faults: %s", dupsOff, lostOff, off.faultSummary())
	assert.Greater(t, dupsOff, 0, "the faults must produce duplicates without idempotence")
	assert.Zero(t, lostOff)

	on := runChaos(t, 5_000, kinds, true, 50*time.Millisecond, 2*time.Second)
	dupsOn, reorderedOn, lostOn := on.verify(t)
	t.Logf("idempotence on: duplicates=%d faults: %s", dupsOn, on.faultSummary())
	assert.Zero(t, dupsOn)
	assert.Zero(t, reorderedOn)
	assert.Zero(t, lostOn)
}

// TestChaosExpiryNeverDuplicates keeps answering appended batches with
// errors until some expire (delivery.timeout.ms), which forces epoch bumps
// while other batches' outcomes are unknown: records may fail, but none is
// written twice and no acknowledged record is missing.
func TestChaosExpiryNeverDuplicates(t *testing.T) {
	kinds := []chaos.Kind{chaos.TimedOutAfterAppend, chaos.NotEnoughReplicasAfterAppend}
	res := runChaos(t, 3_000, kinds, true, 20*time.Millisecond, 4*time.Second,
		WithRequestTimeout(time.Second), WithDeliveryTimeout(2*time.Second))
	dups, reordered, lost := res.verify(t)
	t.Logf("acked=%d failed=%d duplicates=%d reordered=%d lost=%d faults: %s", res.acked, res.failed, dups, reordered, lost, res.faultSummary())
	assert.Zero(t, dups, "duplicates")
	assert.Zero(t, reordered, "reordered")
	assert.Zero(t, lost, "acknowledged records missing")
	assert.Greater(t, res.failed, 0, "the fault storm must make batches expire, or the test proves nothing")
}

// TestSoak is the long run behind `make soak`: SOAK_RECORDS records (1M by
// default there) under every fault kind.
func TestSoak(t *testing.T) {
	s := os.Getenv("SOAK_RECORDS")
	if s == "" {
		t.Skip("set SOAK_RECORDS (make soak) to run the soak")
	}
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	start := time.Now()
	res := runChaos(t, n, chaos.All, true, 100*time.Millisecond, time.Duration(n/4000)*time.Second)
	dups, reordered, lost := res.verify(t)
	t.Logf("soak: records=%d acked=%d failed=%d consumed=%d lost=%d duplicated=%d reordered=%d in %v; faults: %s",
		res.sent, res.acked, res.failed, len(res.records), lost, dups, reordered, time.Since(start).Round(time.Second), res.faultSummary())
	assert.Equal(t, res.sent, res.acked)
	assert.Zero(t, dups)
	assert.Zero(t, reordered)
	assert.Zero(t, lost)
}
