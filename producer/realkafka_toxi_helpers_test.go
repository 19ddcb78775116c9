package producer_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/internal/kafkatest"
	"github.com/tributary-go/tributary/internal/kafkatest/toxi"
	"github.com/tributary-go/tributary/producer"
)

// Helpers of the network-fault tests (realkafka_toxi_test.go): one
// 3-node cluster behind toxiproxy (internal/kafkatest/toxi) shared by every
// TestKafkaToxi test of the binary, started on first use and stopped by
// TestMain; a keyed load whose records carry their send and completion
// times; and the read-back verdict of realkafka_faults_helpers_test.go.

var toxiShared struct {
	once sync.Once
	c    *toxi.Cluster
	skip string
	err  error
}

// toxiCluster returns the binary's toxiproxied cluster, starting it on
// first use (it blocks for the start-up then). Tests must heal what they
// break (toxiTest does) and use topics of their own.
func toxiCluster(t *testing.T) *toxi.Cluster {
	t.Helper()
	toxiShared.once.Do(func() {
		if os.Getenv("CI") == "" && os.Getenv(kafkatest.RequireEnv) != "1" {
			if _, err := exec.LookPath("java"); err != nil {
				toxiShared.skip = "real-Kafka toxiproxy test skipped: java is not installed (install Java 17+ and Maven)"
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		began := time.Now()
		toxiShared.c, toxiShared.err = toxi.Start(ctx, kafkatest.Options{Version: os.Getenv("KAFKA_VERSION")})
		if toxiShared.err == nil {
			fmt.Fprintf(os.Stderr, "toxi: Kafka %s cluster behind toxiproxy up in %s\n", toxiShared.c.Version, time.Since(began).Round(time.Millisecond))
		}
	})
	if toxiShared.skip != "" {
		t.Skip(toxiShared.skip)
	}
	if toxiShared.err != nil {
		t.Fatal(toxiShared.err)
	}
	c := toxiShared.c
	t.Cleanup(c.HealAll)
	return c
}

// stopToxiCluster stops the toxiproxied cluster if a test started it;
// TestMain calls it after the tests.
func stopToxiCluster() {
	if toxiShared.c != nil {
		if err := toxiShared.c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
}

// toxiProducer returns an idempotent acks=all producer bootstrapped from
// the proxies, logging to the test log and to the returned logBuf.
func toxiProducer(t *testing.T, c *toxi.Cluster, opts ...producer.Option) (*producer.Producer, *logBuf) {
	t.Helper()
	lb := &logBuf{t: t}
	all := append([]producer.Option{
		producer.WithBootstrapServers(c.Bootstrap()...),
		producer.WithLogger(slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelInfo}))),
		producer.WithAcks(producer.AcksAll),
		producer.WithIdempotence(true),
		producer.WithLinger(5 * time.Millisecond),
	}, opts...)
	p, err := producer.New(all...)
	if err != nil {
		t.Fatal(err)
	}
	return p, lb
}

// logBuf keeps a producer's log lines and copies them to the test log.
type logBuf struct {
	t     *testing.T
	mu    sync.Mutex
	lines []string // guarded by mu
}

func (b *logBuf) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	b.mu.Lock()
	b.lines = append(b.lines, line)
	b.mu.Unlock()
	b.t.Logf("%s", line)
	return len(p), nil
}

// mentions returns the log lines containing every one of words.
func (b *logBuf) mentions(words ...string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, l := range b.lines {
		all := true
		for _, w := range words {
			all = all && strings.Contains(l, w)
		}
		if all {
			out = append(out, l)
		}
	}
	return out
}

// toxiRec is one record of a toxiLoad. Its fields after f are written by
// the record's callback and read once done is counted.
type toxiRec struct {
	key, seq int
	val      string
	sent     time.Time
	lat      time.Duration
	md       producer.RecordMetadata
	err      error
}

// toxiLoad sends records keyed "k0000".."k<keys-1>" with values
// "<key>:<sequence>" (the sequence zero-padded to size bytes) from senders goroutines (each owns its keys, so the
// producer sees each key's records in sequence order) through
// SendCallback, at about rate records per second (0: as fast as Send
// accepts them).
type toxiLoad struct {
	p       *producer.Producer
	topic   string
	keyBase int // the first key's number
	keys    int
	senders int
	rate    float64
	size    int

	sent, acked, failed atomic.Int64
	lastAck             atomic.Int64 // unix nanoseconds of the latest ack
	ackedBy             sync.Map     // partition (int32) -> *atomic.Int64 acks

	wg      sync.WaitGroup // one per record handed to SendCallback
	mu      sync.Mutex
	records []*toxiRec // guarded by mu
}

// start starts the senders; they run until stop is closed or max records
// went out (0: no bound). It does not block; wait collects the outcomes.
func (l *toxiLoad) start(max int64, stop <-chan struct{}) *sync.WaitGroup {
	var senders sync.WaitGroup
	began := time.Now()
	for s := 0; s < l.senders; s++ {
		senders.Add(1)
		go func() {
			defer senders.Done()
			l.send(s, began, max, stop)
		}()
	}
	return &senders
}

func (l *toxiLoad) send(s int, began time.Time, max int64, stop <-chan struct{}) {
	perSender := l.rate / float64(l.senders)
	n := 0
	for seq := 0; ; seq++ {
		for k := l.keyBase + s; k < l.keyBase+l.keys; k += l.senders {
			select {
			case <-stop:
				return
			default:
			}
			if max > 0 && l.sent.Load() >= max {
				return
			}
			val := payload(k, seq)
			if w := l.size - len(keyName(k)) - 1; w > len(val)-len(keyName(k))-1 {
				// Leading zeros pad the value and keep it "<key>:<sequence>".
				val = fmt.Sprintf("%s:%0*d", keyName(k), w, seq)
			}
			r := &toxiRec{key: k, seq: seq, val: val, sent: time.Now()}
			l.mu.Lock()
			l.records = append(l.records, r)
			l.mu.Unlock()
			l.wg.Add(1)
			l.sent.Add(1)
			l.p.SendCallback(context.Background(), &producer.Record{Topic: l.topic, Key: []byte(keyName(k)), Value: []byte(val)},
				func(md producer.RecordMetadata, err error) {
					now := time.Now()
					r.lat, r.md, r.err = now.Sub(r.sent), md, err
					if err != nil {
						l.failed.Add(1)
					} else {
						l.acked.Add(1)
						l.lastAck.Store(now.UnixNano())
						v, _ := l.ackedBy.LoadOrStore(md.Partition, new(atomic.Int64))
						v.(*atomic.Int64).Add(1)
					}
					l.wg.Done()
				})
			n++
			if perSender > 0 && n%20 == 0 {
				// Pacing only: hold a steady rate while the faults come and go.
				if ahead := time.Until(began.Add(time.Duration(float64(n) / perSender * float64(time.Second)))); ahead > 0 {
					time.Sleep(ahead)
				}
			}
		}
	}
}

// acksOf returns how many records partition has acknowledged so far.
func (l *toxiLoad) acksOf(partition int32) int64 {
	if v, ok := l.ackedBy.Load(partition); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

// wait waits (up to d) for every record's callback and returns the
// outcomes in the form verifyLoad reads, and the records.
func (l *toxiLoad) wait(t *testing.T, d time.Duration) (loadResult, []*toxiRec) {
	t.Helper()
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%d of %d records still unresolved after %v", l.sent.Load()-l.acked.Load()-l.failed.Load(), l.sent.Load(), d)
	}
	l.mu.Lock()
	recs := slices.Clone(l.records)
	l.mu.Unlock()
	r := loadResult{acked: map[string]producer.RecordMetadata{}, errs: map[string]int{}}
	for _, rec := range recs {
		r.records++
		if rec.err != nil {
			r.errs[rec.err.Error()]++
			if len(r.failed) < 20 {
				r.failed = append(r.failed, rec.err)
			}
			continue
		}
		r.acked[rec.val] = rec.md
	}
	return r, recs
}

// percentiles returns p50, p99 and max of the latencies of recs that
// pass keep (zeros when none does), and how many did.
func percentiles(recs []*toxiRec, keep func(*toxiRec) bool) (p50, p99, pmax time.Duration, n int) {
	var lats []time.Duration
	for _, r := range recs {
		if r.err == nil && keep(r) {
			lats = append(lats, r.lat)
		}
	}
	if len(lats) == 0 {
		return 0, 0, 0, 0
	}
	slices.Sort(lats)
	at := func(q float64) time.Duration { return lats[min(len(lats)-1, int(q*float64(len(lats))))] }
	return at(0.50), at(0.99), lats[len(lats)-1], len(lats)
}

// leaderOf returns the partitions of topic each node leads.
func leaderOf(t *testing.T, c *kafkatest.Cluster, topic string) map[int][]int32 {
	t.Helper()
	ps := waitPartitions(t, c, topic, "leaders with full ISR", fullISR)
	out := map[int][]int32{}
	for _, p := range ps.Sorted() {
		out[int(p.Leader)] = append(out[int(p.Leader)], p.Partition)
	}
	return out
}

// toxiVictim returns a node leading at least one and not every partition
// of topic, and the partitions it leads.
func toxiVictim(t *testing.T, c *kafkatest.Cluster, topic string) (int, []int32) {
	t.Helper()
	leads := leaderOf(t, c, topic)
	var total int
	for _, ps := range leads {
		total += len(ps)
	}
	for _, n := range c.Nodes {
		if ps := leads[n.ID]; len(ps) > 0 && len(ps) < total {
			return n.ID, ps
		}
	}
	t.Fatalf("no node leads some but not all partitions of %s: %v", topic, leads)
	return 0, nil
}

// checkVerdict fails the test unless v shows nothing lost, duplicated,
// reordered or misplaced.
func checkVerdict(t *testing.T, what string, v verdict) {
	t.Helper()
	if v.lost != 0 || v.duplicated != 0 || v.reordered != 0 || v.misplaced != 0 {
		t.Errorf("%s: lost %d, duplicated %d, reordered %d, misplaced %d of %d consumed", what, v.lost, v.duplicated, v.reordered, v.misplaced, v.consumed)
	}
}

// isBufferFull reports whether err is Send's buffer.memory back-pressure
// (max.block.ms passed waiting for memory).
func isBufferFull(err error) bool {
	var be *accumulator.BufferExhaustedError
	return errors.As(err, &be)
}
