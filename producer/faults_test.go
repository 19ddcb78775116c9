package producer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The fault suite produces through the public API while a chaos goroutine
// keeps breaking the cluster, then reads everything back with franz-go's
// consumer and checks the guarantees: every acknowledged record exactly
// once, per-key order kept, every future resolved.

// faultKind is one way of breaking the cluster.
type faultKind int

const (
	faultMoveLeaders faultKind = iota
	faultNotLeader
	faultTimedOutAfterAppend
	faultNotEnoughReplicasAfterAppend
	faultCloseConn
	faultStallBroker
	faultBounceBroker
	numFaultKinds
)

var faultNames = [...]string{"move-leaders", "not-leader", "timed-out-after-append", "not-enough-replicas-after-append", "close-connection", "stall-broker", "bounce-broker"}

// chaosCluster is a kfake cluster whose connections we can cut.
type chaosCluster struct {
	*kfake.Cluster
	mu    sync.Mutex
	conns map[string][]net.Conn // listener port → accepted connections
	ports map[int32]int         // node → port
}

func newChaosCluster(t testing.TB, topic string, partitions int32) *chaosCluster {
	t.Helper()
	cc := &chaosCluster{conns: map[string][]net.Conn{}, ports: map[int32]int{}}
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(partitions, topic),
		kfake.ListenFn(func(network, addr string) (net.Listener, error) {
			ln, err := net.Listen(network, addr)
			if err != nil {
				return nil, err
			}
			return &trackingListener{Listener: ln, cc: cc}, nil
		}))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	cc.Cluster = c
	for i, addr := range c.ListenAddrs() {
		_, p, _ := net.SplitHostPort(addr)
		port, _ := strconv.Atoi(p)
		cc.ports[int32(i)] = port
	}
	return cc
}

type trackingListener struct {
	net.Listener
	cc *chaosCluster
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		_, port, _ := net.SplitHostPort(l.Addr().String())
		l.cc.mu.Lock()
		l.cc.conns[port] = append(l.cc.conns[port], c)
		l.cc.mu.Unlock()
	}
	return c, err
}

// bounce takes a broker away (listener and every connection) and brings it
// back on the same port after down.
func (cc *chaosCluster) bounce(node int32, down time.Duration) error {
	port := cc.ports[node]
	if err := cc.RemoveNode(node); err != nil {
		return err
	}
	cc.mu.Lock()
	key := strconv.Itoa(port)
	for _, c := range cc.conns[key] {
		c.Close()
	}
	delete(cc.conns, key)
	cc.mu.Unlock()
	time.Sleep(down)
	_, _, err := cc.AddNode(node, port)
	return err
}

// inject applies one fault of kind k.
func (cc *chaosCluster) inject(k faultKind, topic string, partitions int32, rng *rand.Rand) error {
	switch k {
	case faultMoveLeaders:
		for range 3 {
			p := rng.Int32N(partitions)
			if err := cc.MoveTopicPartition(topic, p, (cc.LeaderFor(topic, p)+1+rng.Int32N(2))%3); err != nil {
				return err
			}
		}
	case faultNotLeader:
		cc.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotLeaderForPartition, Count: 3})
	case faultTimedOutAfterAppend:
		cc.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.RequestTimedOut, Count: 3})
	case faultNotEnoughReplicasAfterAppend:
		cc.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotEnoughReplicasAfterAppend, Count: 3})
	case faultCloseConn:
		cc.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
			return nil, errors.New("chaos: connection closed instead of an answer"), true
		})
	case faultStallBroker:
		// The broker swallows a request and never answers: the client must
		// notice at request.timeout.ms, drop the connection and retry.
		// (kfake's SleepControl queues every later request of the broker
		// behind the sleeper, which with a client that gives up on the
		// connection stalls the broker for good; swallowing is the clean
		// form of the same fault.)
		cc.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
			return nil, nil, true
		})
	case faultBounceBroker:
		return cc.bounce(rng.Int32N(3), 300*time.Millisecond)
	}
	return nil
}

type chaosResult struct {
	sent, acked, failed int
	faults              [numFaultKinds]int
	records             []*kgo.Record
}

// runChaos produces n keyed records while injecting faults of kinds every
// interval, and returns what the consumer read back.
// The records are paced to take about spread, so faults keep landing
// while they are produced.
func runChaos(t *testing.T, n int, kinds []faultKind, idempotent bool, interval, spread time.Duration) chaosResult {
	t.Helper()
	const topic, partitions = "chaos", 12
	cc := newChaosCluster(t, topic, partitions)
	p := startProducerAddrs(t, cc.ListenAddrs(), WithLogger(testLogger(t)),
		WithIdempotence(idempotent), WithLinger(2*time.Millisecond), WithBatchSize(8<<10),
		WithRequestTimeout(1*time.Second), WithDeliveryTimeout(60*time.Second),
		WithRetryBackoff(20*time.Millisecond, 200*time.Millisecond),
		WithReconnectBackoff(20*time.Millisecond, 200*time.Millisecond),
		WithMetadataMaxAge(2*time.Second))

	var res chaosResult
	stop := make(chan struct{})
	chaosDone := make(chan struct{})
	go func() {
		defer close(chaosDone)
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			k := kinds[rng.IntN(len(kinds))]
			if err := cc.inject(k, topic, partitions, rng); err != nil {
				t.Logf("fault %s: %v", faultNames[k], err)
				continue
			}
			res.faults[k]++
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
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
	var acked, failed int
	var firstErr error
	for _, f := range futures {
		if _, err := f.Get(ctx); err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
		} else {
			acked++
		}
	}
	close(stop)
	<-chaosDone
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
// duplicated and reordered records.
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
		if prev, ok := last[string(rec.Key)]; ok && prev > v {
			reordered++
		}
		last[string(rec.Key)] = v
	}
	for i := range r.sent {
		if counts[i] == 0 {
			lost++
		}
	}
	return dups, reordered, lost
}

func (r chaosResult) faultSummary() string {
	s := ""
	for k, n := range r.faults {
		if n > 0 {
			s += fmt.Sprintf("%s=%d ", faultNames[k], n)
		}
	}
	return s
}

var allFaults = []faultKind{faultMoveLeaders, faultNotLeader, faultTimedOutAfterAppend, faultNotEnoughReplicasAfterAppend, faultCloseConn, faultStallBroker, faultBounceBroker}

// TestChaosIdempotent is the fault matrix: with idempotence on (the
// default) and 5 requests in flight, every fault kind at once loses,
// duplicates and reorders nothing.
func TestChaosIdempotent(t *testing.T) {
	checkNoLeaks(t)
	n := 20_000
	if testing.Short() {
		n = 5_000
	}
	res := runChaos(t, n, allFaults, true, 100*time.Millisecond, 8*time.Second)
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
	kinds := []faultKind{faultTimedOutAfterAppend, faultNotEnoughReplicasAfterAppend}
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
	res := runChaos(t, n, allFaults, true, 50*time.Millisecond, time.Duration(n/1000)*time.Second)
	dups, reordered, lost := res.verify(t)
	t.Logf("soak: records=%d acked=%d failed=%d consumed=%d lost=%d duplicated=%d reordered=%d in %v; faults: %s",
		res.sent, res.acked, res.failed, len(res.records), lost, dups, reordered, time.Since(start).Round(time.Second), res.faultSummary())
	assert.Equal(t, res.sent, res.acked)
	assert.Zero(t, dups)
	assert.Zero(t, reordered)
	assert.Zero(t, lost)
}
