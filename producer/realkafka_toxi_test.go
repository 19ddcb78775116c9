package producer_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/internal/kafkatest/toxi"
	"github.com/tributary-go/tributary/internal/leakcheck"
	"github.com/tributary-go/tributary/producer"
	"github.com/tributary-go/tributary/sender"
)

// The TestKafkaToxi tests put network faults between the producer and one
// broker of a real 3-node cluster, through the toxiproxy in front of each
// broker's client listener (realkafka_toxi_helpers_test.go): records flow
// (keyed, acks=all, idempotent) while the fault is on and after it is
// lifted, and Apache Kafka's ConsoleConsumer then reads the topic back:
// nothing acknowledged is lost, nothing is duplicated, every key's records
// are in order. They log the figures of each run: records, failures,
// latency percentiles of the affected partitions during the fault, and the
// time the backlog took to drain once the fault was lifted.

// toxiRun is one fault run: a keyed load against a topic of partitions
// partitions, the fault applied to the leader of some of them after the
// load is flowing, held for hold (and until the affected partitions
// acknowledged new records, when progress is set), then lifted, and the
// load kept going for after.
type toxiRun struct {
	partitions int32
	keys       int
	rate       float64 // records per second; 0: as fast as Send takes them
	size       int     // value bytes
	max        int64   // records at most; 0: no bound
	opts       []producer.Option
	apply      func(c *toxi.Cluster, node int) error
	warm       time.Duration // load before the fault, once every partition acked
	hold       time.Duration
	progress   bool // wait for acks of affected partitions while the fault is on
	after      time.Duration
}

// toxiOutcome is what a toxiRun saw.
type toxiOutcome struct {
	c               *toxi.Cluster
	topic           string
	node            int
	affected        []int32
	res             loadResult
	recs            []*toxiRec
	log             *logBuf
	bufWait         time.Duration // the producer's bufferpool-wait-time-ns-total once the load stopped
	faultAt, lifted time.Time
	verdict         verdict
}

func (o *toxiOutcome) isAffected(r *toxiRec) bool { return slices.Contains(o.affected, r.md.Partition) }

// run runs the fault and verifies the topic. It fails the test on any
// record lost, duplicated or reordered; failures of Send are the
// caller's to judge (res.failed).
func (tr toxiRun) run(t *testing.T, name string) *toxiOutcome {
	t.Helper()
	began := time.Now()
	c := toxiCluster(t)
	o := &toxiOutcome{c: c, topic: realTopic(t, c.Cluster, tr.partitions)}
	o.node, o.affected = toxiVictim(t, c.Cluster, o.topic)
	p, lb := toxiProducer(t, c, tr.opts...)
	o.log = lb
	primeMetadata(t, p, o.topic)
	l := &toxiLoad{p: p, topic: o.topic, keys: tr.keys, senders: 4, rate: tr.rate, size: tr.size}
	stop := make(chan struct{})
	senders := l.start(tr.max, stop)
	stopped := false
	defer func() {
		if !stopped {
			close(stop)
			senders.Wait()
		}
		closeProducer(t, p)
	}()

	waitFor(t, 2*time.Minute, "acks from every partition before the fault", func() bool {
		for i := int32(0); i < tr.partitions; i++ {
			if l.acksOf(i) == 0 {
				return false
			}
		}
		return true
	})
	time.Sleep(tr.warm) // steady load before the fault, not a wait for an outcome
	acksBefore := map[int32]int64{}
	for _, part := range o.affected {
		acksBefore[part] = l.acksOf(part)
	}
	o.faultAt = time.Now()
	if err := tr.apply(c, o.node); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s on node %d (%s), leader of partitions %v of %s", name, o.node, c.Addr(o.node), o.affected, o.topic)
	time.Sleep(tr.hold) // the fault's length, not a wait for an outcome
	if tr.progress {
		waitFor(t, 3*time.Minute, "acks of the affected partitions during the fault", func() bool {
			for _, part := range o.affected {
				if l.acksOf(part) <= acksBefore[part] {
					return false
				}
			}
			return true
		})
	}
	c.Heal(o.node)
	o.lifted = time.Now()
	t.Logf("%s lifted after %s", name, o.lifted.Sub(o.faultAt).Round(time.Millisecond))
	acksLifted := map[int32]int64{}
	for _, part := range o.affected {
		acksLifted[part] = l.acksOf(part)
	}
	waitFor(t, 3*time.Minute, "acks of the affected partitions after the fault", func() bool {
		for _, part := range o.affected {
			if l.acksOf(part) <= acksLifted[part] {
				return false
			}
		}
		return true
	})
	time.Sleep(tr.after) // more load after the fault, not a wait for an outcome
	close(stop)
	senders.Wait()
	stopped = true
	o.bufWait = p.Metrics().BufferpoolWaitTime
	o.res, o.recs = l.wait(t, 3*time.Minute)
	o.verdict = verifyLoad(t, c.Cluster, o.topic, o.res)
	checkVerdict(t, name, o.verdict)

	var drained time.Time
	for _, r := range o.recs {
		if r.sent.Before(o.lifted) {
			if end := r.sent.Add(r.lat); end.After(drained) {
				drained = end
			}
		}
	}
	recover := max(0, drained.Sub(o.lifted))
	d50, d99, dmax, dn := percentiles(o.recs, func(r *toxiRec) bool {
		return o.isAffected(r) && !r.sent.Before(o.faultAt) && r.sent.Before(o.lifted)
	})
	u50, u99, _, un := percentiles(o.recs, func(r *toxiRec) bool {
		return !o.isAffected(r) && !r.sent.Before(o.faultAt) && r.sent.Before(o.lifted)
	})
	b50, b99, _, bn := percentiles(o.recs, func(r *toxiRec) bool {
		return o.isAffected(r) && r.sent.After(o.faultAt.Add(-tr.warm)) && r.sent.Add(r.lat).Before(o.faultAt)
	})
	t.Logf("FIGURES %s: records %d acked %d failed %d consumed %d lost %d dup %d reordered %d misplaced %d; "+
		"affected partitions before the fault (acked before it) p50 %v p99 %v (%d); during the fault p50 %v p99 %v max %v (%d); "+
		"other partitions during the fault p50 %v p99 %v (%d); backlog drained %v after the fault was lifted; test %v",
		name, o.res.records, len(o.res.acked), o.res.records-len(o.res.acked), o.verdict.consumed,
		o.verdict.lost, o.verdict.duplicated, o.verdict.reordered, o.verdict.misplaced,
		b50, b99, bn, d50, d99, dmax, dn, u50, u99, un, recover.Round(time.Millisecond), time.Since(began).Round(time.Second))
	for e, n := range o.res.errs {
		t.Logf("%d records failed: %s", n, e)
	}
	return o
}

// primeMetadata sends one record (key k9999) until it is acknowledged, so
// that the topic's metadata is cached before the load starts: with a
// short max.block.ms, the first Sends of a load may otherwise fail
// waiting for it.
func primeMetadata(t *testing.T, p *producer.Producer, topic string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_, err := p.Send(ctx, &producer.Record{Topic: topic, Key: []byte(keyName(9999)), Value: []byte(payload(9999, 0))}).Get(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no record of %s acknowledged before the load: %v", topic, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// requireAllAcked fails the test if any record failed.
func requireAllAcked(t *testing.T, o *toxiOutcome) {
	t.Helper()
	if len(o.res.failed) > 0 {
		t.Errorf("%d of %d records failed, first: %v", o.res.records-len(o.res.acked), o.res.records, o.res.failed[0])
	}
}

// TestKafkaToxiLatency adds 200 ms ± 50 ms to every response of one
// broker: every record is delivered, in per-key order.
func TestKafkaToxiLatency(t *testing.T) {
	o := toxiRun{
		partitions: 6, keys: 60, rate: 400, size: 100, warm: 3 * time.Second,
		apply: func(c *toxi.Cluster, node int) error {
			return c.Add(node, "latency", "latency", "downstream", map[string]any{"latency": 200, "jitter": 50})
		},
		hold: 8 * time.Second, progress: true, after: 2 * time.Second,
	}.run(t, "latency +200ms±50ms")
	requireAllAcked(t, o)
}

// TestKafkaToxiBandwidth throttles one broker to 64 KiB/s each way with a
// small buffer.memory: batches keep flowing at that pace, nothing expires,
// and Send feels the back-pressure: it blocks up to max.block.ms and then
// fails with the buffer-full error, as documented (accumulator
// BufferPool).
func TestKafkaToxiBandwidth(t *testing.T) {
	o := toxiRun{
		partitions: 6, keys: 60, rate: 2000, size: 500, warm: time.Second,
		// Four batches fill buffer.memory; a throttled batch takes about a
		// second to leave, ten times max.block.ms.
		opts: []producer.Option{producer.WithBufferMemory(256 << 10), producer.WithMaxBlock(100 * time.Millisecond),
			producer.WithBatchSize(64 << 10), producer.WithLinger(50 * time.Millisecond)},
		apply: func(c *toxi.Cluster, node int) error {
			for _, s := range []string{"upstream", "downstream"} {
				if err := c.Add(node, "bandwidth_"+s, "bandwidth", s, map[string]any{"rate": 64}); err != nil {
					return err
				}
			}
			return nil
		},
		hold: 10 * time.Second, progress: true, after: time.Second,
	}.run(t, "bandwidth 64KiB/s")
	full := 0
	for _, r := range o.recs {
		switch {
		case r.err == nil:
		case isBufferFull(r.err):
			full++
		default:
			t.Errorf("record %s failed: %v", r.val, r.err)
		}
		if errors.Is(r.err, accumulator.ErrDeliveryTimeout) {
			t.Errorf("record %s expired: %v", r.val, r.err)
		}
	}
	// Back-pressure is a Send that waited for buffer memory; whether a wait
	// outlasted max.block.ms (and failed) depends on when the unthrottled
	// partitions' batches freed memory, which is timing: CI once saw 0
	// failures on a run whose Sends had waited.
	t.Logf("%d Sends failed with buffer.memory exhausted after max.block.ms; Sends waited %s for memory in all", full, o.bufWait)
	if full == 0 && o.bufWait == 0 {
		t.Errorf("no Send felt buffer.memory's back-pressure while a broker was throttled to 64 KiB/s")
	}
}

// TestKafkaToxiBlackHole black-holes the leader of some partitions for
// 15 s, shorter than delivery.timeout.ms: its requests time out at
// request.timeout.ms, the connection is dropped and redialled, and every
// record is delivered once, in order, after the hole closes.
func TestKafkaToxiBlackHole(t *testing.T) {
	o := toxiRun{
		partitions: 6, keys: 60, rate: 400, size: 100, warm: 2 * time.Second,
		opts:  []producer.Option{producer.WithRequestTimeout(4 * time.Second), producer.WithDeliveryTimeout(90 * time.Second)},
		apply: func(c *toxi.Cluster, node int) error { return c.BlackHole(node) },
		hold:  15 * time.Second, after: 3 * time.Second,
	}.run(t, "black hole 15s")
	requireAllAcked(t, o)
	addr := o.c.Addr(o.node)
	if lines := o.log.mentions("broker stopped answering", addr, "did not answer"); len(lines) == 0 {
		t.Errorf("the log never said that broker %d (%s) did not answer within request.timeout.ms", o.node, addr)
	}
}

// TestKafkaToxiResetPeer resets every connection to one broker 300 ms
// after its first bytes, so requests die mid-flight: they are retried
// (idempotence dedups what was written), nothing panics, and every record
// is in the log once, uncorrupted (ConsoleConsumer reads them all).
func TestKafkaToxiResetPeer(t *testing.T) {
	o := toxiRun{
		partitions: 6, keys: 60, rate: 400, size: 100, warm: 2 * time.Second,
		opts: []producer.Option{producer.WithRequestTimeout(5 * time.Second)},
		apply: func(c *toxi.Cluster, node int) error {
			return c.Add(node, "reset", "reset_peer", "downstream", map[string]any{"timeout": 300})
		},
		hold: 8 * time.Second, after: 3 * time.Second,
	}.run(t, "reset_peer 300ms")
	requireAllAcked(t, o)
}

// TestKafkaToxiLimitData cuts every connection to one broker after 40 kB
// from the producer or 2 kB from the broker, so a request or a response is
// cut in half: records are retried without duplicates (idempotence) and
// the log holds no corrupt batch.
func TestKafkaToxiLimitData(t *testing.T) {
	o := toxiRun{
		partitions: 6, keys: 60, rate: 400, size: 100, warm: 2 * time.Second,
		opts: []producer.Option{producer.WithRequestTimeout(5 * time.Second)},
		apply: func(c *toxi.Cluster, node int) error {
			if err := c.Add(node, "limit_up", "limit_data", "upstream", map[string]any{"bytes": 40000}); err != nil {
				return err
			}
			return c.Add(node, "limit_down", "limit_data", "downstream", map[string]any{"bytes": 2000})
		},
		hold: 8 * time.Second, after: 3 * time.Second,
	}.run(t, "limit_data 40kB up/2kB down")
	requireAllAcked(t, o)
}

// TestKafkaToxiSlicer splits every byte stream to and from one broker
// into segments of 8-24 bytes, 200 µs apart: requests and responses are
// framed correctly and the results are those of a clean network.
func TestKafkaToxiSlicer(t *testing.T) {
	o := toxiRun{
		partitions: 6, keys: 60, rate: 400, size: 100, warm: 2 * time.Second,
		apply: func(c *toxi.Cluster, node int) error {
			for _, s := range []string{"upstream", "downstream"} {
				if err := c.Add(node, "slicer_"+s, "slicer", s, map[string]any{"average_size": 16, "size_variation": 8, "delay": 200}); err != nil {
					return err
				}
			}
			return nil
		},
		hold: 8 * time.Second, progress: true, after: 2 * time.Second,
	}.run(t, "slicer 16±8 bytes")
	requireAllAcked(t, o)
}

// TestKafkaToxiSilentBootstrap bootstraps from an address whose proxy
// accepts connections and never answers, beside one that works: the
// producer delivers through the working one and its log names the silent
// one. The bootstrap list is tried from a random place, so the test makes
// producers until one has dialled the silent address first (each does
// with probability one half; 16 tries).
func TestKafkaToxiSilentBootstrap(t *testing.T) {
	c := toxiCluster(t)
	topic := realTopic(t, c.Cluster, 3)
	silent, err := c.Silent(c.Nodes[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	good := c.Addr(c.Nodes[1].ID)
	for try := 1; try <= 16; try++ {
		var dialled atomic.Bool
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr == silent {
				dialled.Store(true)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
		began := time.Now()
		p, lb := toxiProducer(t, c, producer.WithBootstrapServers(silent, good), producer.WithDialer(dial),
			producer.WithRequestTimeout(3*time.Second))
		l := &toxiLoad{p: p, topic: topic, keyBase: 100 * try, keys: 30, senders: 2, rate: 200}
		l.start(200, nil).Wait()
		res, _ := l.wait(t, 3*time.Minute)
		closeProducer(t, p)
		if len(res.failed) > 0 {
			t.Fatalf("try %d: %d of %d records failed, first: %v", try, res.records-len(res.acked), res.records, res.failed[0])
		}
		if !dialled.Load() {
			t.Logf("try %d: the producer bootstrapped from %s without trying %s; again", try, good, silent)
			continue
		}
		t.Logf("FIGURES silent bootstrap: try %d dialled the silent %s first; %d records acked through %s in %v",
			try, silent, len(res.acked), good, time.Since(began).Round(time.Millisecond))
		if lines := lb.mentions(silent, "did not answer"); len(lines) == 0 {
			t.Errorf("the log does not say that bootstrap address %s did not answer", silent)
		}
		v := verifyLoad(t, c.Cluster, topic, res)
		checkVerdict(t, "silent bootstrap", v)
		return
	}
	t.Fatalf("16 producers never dialled the silent bootstrap address %s", silent)
}

// TestKafkaToxiBlackHoleExpires black-holes the leader of some partitions
// for longer than delivery.timeout.ms (12 s): every record for those
// partitions fails with a delivery timeout whose cause names the broker
// and says it did not answer, records for the other partitions keep
// flowing, and once the hole closes the same producer delivers to the
// affected partitions again. A second hole then catches Close(ctx) with
// records queued for the silent broker: it returns within ctx (plus
// generous slack), and no goroutine of the producer outlives it.
func TestKafkaToxiBlackHoleExpires(t *testing.T) {
	began := time.Now()
	c := toxiCluster(t)
	leakcheck.Check(t, "tributary/producer.(*", "tributary/sender.", "tributary/internal/conn.",
		"tributary/metadata.", "tributary/accumulator.", "tributary/internal/clock.")
	topic := realTopic(t, c.Cluster, 6)
	node, affected := toxiVictim(t, c.Cluster, topic)
	const delivery = 12 * time.Second
	// request.timeout.ms close to delivery.timeout.ms: batches queued
	// behind the silent broker's unanswered requests expire while those
	// are outstanding, or while the connection is being set up again.
	p, lb := toxiProducer(t, c, producer.WithRequestTimeout(10*time.Second), producer.WithDeliveryTimeout(delivery))
	closed := false
	defer func() {
		if !closed {
			closeProducer(t, p)
		}
	}()
	isAffected := func(r *toxiRec) bool { return slices.Contains(affected, r.md.Partition) }

	// The first hole: records expire.
	l := &toxiLoad{p: p, topic: topic, keys: 60, senders: 4, rate: 300}
	stop := make(chan struct{})
	senders := l.start(0, stop)
	waitFor(t, 2*time.Minute, "acks from every partition before the hole", func() bool {
		for i := int32(0); i < 6; i++ {
			if l.acksOf(i) == 0 {
				return false
			}
		}
		return true
	})
	if err := c.BlackHole(node); err != nil {
		t.Fatal(err)
	}
	holeAt := time.Now()
	t.Logf("black hole on node %d (%s), leader of partitions %v of %s", node, c.Addr(node), affected, topic)
	waitFor(t, 2*time.Minute, "the first expired record", func() bool { return l.failed.Load() > 0 })
	others := map[int32]int64{}
	for i := int32(0); i < 6; i++ {
		others[i] = l.acksOf(i)
	}
	waitFor(t, 2*time.Minute, "acks of the other partitions during the hole", func() bool {
		for i := int32(0); i < 6; i++ {
			if !slices.Contains(affected, i) && l.acksOf(i) <= others[i] {
				return false
			}
		}
		return true
	})
	close(stop)
	senders.Wait()
	res, recs := l.wait(t, 3*time.Minute) // the hole stays open until every record resolved
	c.Heal(node)
	lifted := time.Now()
	var failed, acked int
	var minFail, maxFail time.Duration
	for _, r := range recs {
		if r.err == nil {
			acked++
			continue
		}
		failed++
		if !isAffected(r) {
			t.Errorf("record %s of unaffected partition %d failed: %v", r.val, r.md.Partition, r.err)
			continue
		}
		if minFail == 0 || r.lat < minFail {
			minFail = r.lat
		}
		maxFail = max(maxFail, r.lat)
		checkHoleError(t, r, node, c.Addr(node))
	}
	if failed == 0 {
		t.Errorf("no record failed during a %v hole with delivery.timeout.ms=%v", lifted.Sub(holeAt), delivery)
	}
	shown := 0
	for e, n := range res.errs {
		if shown++; shown <= 3 {
			t.Logf("%d records failed: %s", n, e)
		}
	}
	t.Logf("hole of %v: %d records acked, %d failed after %v..%v (delivery.timeout.ms=%v)",
		lifted.Sub(holeAt).Round(time.Millisecond), acked, failed, minFail.Round(time.Millisecond), maxFail.Round(time.Millisecond), delivery)

	// After the hole: the same producer delivers to every partition.
	l2 := &toxiLoad{p: p, topic: topic, keyBase: 1000, keys: 60, senders: 4, rate: 300}
	l2.start(1500, nil).Wait()
	res2, recs2 := l2.wait(t, 3*time.Minute)
	var firstAck time.Duration
	for _, r := range recs2 {
		if r.err != nil {
			t.Errorf("record %s after the hole failed: %v", r.val, r.err)
		} else if isAffected(r) && (firstAck == 0 || r.sent.Add(r.lat).Sub(lifted) < firstAck) {
			firstAck = r.sent.Add(r.lat).Sub(lifted)
		}
	}
	for k, md := range res2.acked {
		res.acked[k] = md
	}
	res.records += res2.records
	v := verifyLoad(t, c.Cluster, topic, res)
	checkVerdict(t, "black hole past delivery.timeout.ms", v)

	// The second hole: Close with records queued for the silent broker.
	if err := c.BlackHole(node); err != nil {
		t.Fatal(err)
	}
	futures := make([]*producer.Future, 0, 50)
	for i := range 50 {
		futures = append(futures, p.Send(context.Background(), &producer.Record{Topic: topic, Partition: affected[0], UsePartition: true,
			Key: []byte(keyName(5000)), Value: []byte(payload(5000, i))}))
	}
	const closeWithin = 3 * time.Second
	closeDone := make(chan error, 1)
	closeBegan := time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), closeWithin)
		defer cancel()
		closeDone <- p.Close(ctx)
	}()
	var closeErr error
	select {
	case closeErr = <-closeDone:
	case <-time.After(closeWithin + time.Minute):
		t.Fatalf("Close(ctx) with a %v deadline did not return during the hole", closeWithin)
	}
	closed = true
	closeTook := time.Since(closeBegan)
	for i, f := range futures {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_, err := f.Get(ctx)
		cancel()
		if err == nil {
			t.Errorf("record %d sent into the second hole was acknowledged", i)
		} else if !errors.Is(err, producer.ErrClosed) {
			t.Errorf("record %d sent into the second hole: %v, want an error matching producer.ErrClosed", i, err)
		}
	}
	c.Heal(node)
	t.Logf("FIGURES black hole past delivery.timeout.ms=%v: records %d acked %d failed %d (all of the affected partitions %v) "+
		"failing after %v..%v; lost %d dup %d reordered %d misplaced %d of %d consumed; first ack of an affected partition %v after the hole; "+
		"Close(ctx %v) in the second hole returned in %v (%v); test %v",
		delivery, res.records, len(res.acked), failed, affected, minFail.Round(time.Millisecond), maxFail.Round(time.Millisecond),
		v.lost, v.duplicated, v.reordered, v.misplaced, v.consumed, firstAck.Round(time.Millisecond),
		closeWithin, closeTook.Round(time.Millisecond), closeErr, time.Since(began).Round(time.Second))
	if lines := lb.mentions("broker stopped answering", c.Addr(node), "did not answer"); len(lines) == 0 {
		t.Errorf("the log never said that broker %d (%s) did not answer within request.timeout.ms", node, c.Addr(node))
	}
}

// checkHoleError fails the test unless r failed with a delivery timeout
// whose cause names broker node and says it did not answer.
func checkHoleError(t *testing.T, r *toxiRec, node int, addr string) {
	t.Helper()
	var dte *sender.DeliveryTimeoutError
	if !errors.As(r.err, &dte) || !errors.Is(r.err, accumulator.ErrDeliveryTimeout) {
		t.Errorf("record %s failed with %v (%T), want a *sender.DeliveryTimeoutError", r.val, r.err, r.err)
		return
	}
	var inflight *sender.InFlightError
	var unreachable *sender.UnreachableError
	var queued *sender.QueuedError
	switch {
	case errors.As(r.err, &inflight) && inflight.Node == int32(node):
	case errors.As(r.err, &queued) && queued.Node == int32(node):
	case errors.As(r.err, &unreachable) && unreachable.Node == int32(node):
	default:
		t.Errorf("record %s expired without naming broker %d (%s) as its cause: %v", r.val, node, addr, r.err)
		return
	}
	msg := r.err.Error()
	if !strings.Contains(msg, "not answer") && !strings.Contains(msg, "unreachable") {
		t.Errorf("record %s: the error does not say the broker did not answer: %v", r.val, msg)
	}
}
