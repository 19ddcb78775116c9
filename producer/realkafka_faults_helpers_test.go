package producer_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-go/tributary/internal/kafkatest"
	"github.com/tributary-go/tributary/producer"
	"github.com/tributary-go/tributary/protocol"
)

// Helpers of the fault tests (realkafka_faults_test.go): a cluster of the
// test's own, a keyed load sent at a steady pace while nodes die, and one
// verdict read back with Apache Kafka's ConsoleConsumer.

// faultCluster starts a cluster of the test's own, at $KAFKA_VERSION
// (kafkatest.DefaultVersion when unset, as Shared does), with nodes
// nodes (0: the harness's three).
func faultCluster(t *testing.T, nodes int, o kafkatest.Options) *kafkatest.Cluster {
	t.Helper()
	o.Version = os.Getenv("KAFKA_VERSION")
	if o.Version == "" {
		o.Version = kafkatest.DefaultVersion
	}
	o.Nodes = nodes
	began := time.Now()
	c := kafkatest.StartT(t, o)
	t.Logf("Kafka %s: %d nodes up in %s", c.Version, len(c.Nodes), time.Since(began).Round(time.Millisecond))
	return c
}

// keyedLoad sends records keyed "k0000".."k<keys-1>" with values
// "<key>:<sequence>" (a per-key sequence from 0) from a few goroutines at
// a steady pace. Each key belongs to one goroutine, so the producer sees
// each key's records in sequence order.
type keyedLoad struct {
	p       *producer.Producer
	topic   string
	keys    int
	senders int
	rate    float64 // records per second, all senders together

	sent atomic.Int64 // records handed to Send

	mu      sync.Mutex
	futures [][]sentRecord // per sender, in Send order; guarded by mu until run returns
}

// sentRecord is one Send and its future.
type sentRecord struct {
	key, seq int
	f        *producer.Future
}

func keyName(k int) string { return fmt.Sprintf("k%04d", k) }

func payload(k, seq int) string { return fmt.Sprintf("%s:%d", keyName(k), seq) }

// run sends until at least min records went out and stop is closed (or
// ctx ends), then returns. It blocks.
func (l *keyedLoad) run(ctx context.Context, min int64, stop <-chan struct{}) {
	l.futures = make([][]sentRecord, l.senders)
	var wg sync.WaitGroup
	began := time.Now()
	for s := 0; s < l.senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := l.send(ctx, s, began, min, stop)
			l.mu.Lock()
			l.futures[s] = own
			l.mu.Unlock()
		}()
	}
	wg.Wait()
}

// send is sender s's loop: round after round over its keys, paced so that
// all senders together send l.rate records per second.
func (l *keyedLoad) send(ctx context.Context, s int, began time.Time, min int64, stop <-chan struct{}) []sentRecord {
	var own []sentRecord
	perSender := l.rate / float64(l.senders)
	n := 0
	for seq := 0; ; seq++ {
		for k := s; k < l.keys; k += l.senders {
			rec := &producer.Record{Topic: l.topic, Key: []byte(keyName(k)), Value: []byte(payload(k, seq))}
			own = append(own, sentRecord{key: k, seq: seq, f: l.p.Send(ctx, rec)})
			l.sent.Add(1)
			n++
			if n%50 == 0 {
				// Pacing only: hold the steady rate the chaos runs against.
				if ahead := time.Until(began.Add(time.Duration(float64(n) / perSender * float64(time.Second)))); ahead > 0 {
					time.Sleep(ahead)
				}
			}
		}
		if ctx.Err() != nil {
			return own
		}
		if l.sent.Load() >= min {
			select {
			case <-stop:
				return own
			default:
			}
		}
	}
}

// loadResult is what the futures of a keyedLoad said.
type loadResult struct {
	records int
	acked   map[string]producer.RecordMetadata // payload -> where the broker put it
	errs    map[string]int                     // error text -> records
	// failed holds the first errors, to check their types.
	failed []error
	// seqErrs counts futures failed with a sequence error of the
	// idempotent producer (see isSequenceError).
	seqErrs int
}

// wait resolves every future (each must resolve before ctx ends).
func (l *keyedLoad) wait(t *testing.T, ctx context.Context) loadResult {
	t.Helper()
	r := loadResult{acked: map[string]producer.RecordMetadata{}, errs: map[string]int{}}
	for _, own := range l.futures {
		for _, s := range own {
			r.records++
			md, err := s.f.Get(ctx)
			if ctx.Err() != nil {
				t.Fatalf("the future of %s did not resolve: %v", payload(s.key, s.seq), ctx.Err())
			}
			if err != nil {
				r.errs[err.Error()]++
				if isSequenceError(err) {
					r.seqErrs++
				}
				if len(r.failed) < 20 {
					r.failed = append(r.failed, err)
				}
				continue
			}
			r.acked[payload(s.key, s.seq)] = md
		}
	}
	return r
}

// verdict is what Kafka's consumer read back, compared with the acks.
type verdict struct {
	consumed, lost, duplicated, reordered, misplaced int
}

// verifyLoad reads the whole topic with Apache Kafka's ConsoleConsumer (one
// run, up to the partitions' end offsets) and counts acknowledged records
// missing, payloads read twice, keys whose sequences go back along the
// offsets, and acked records not at the partition and offset their ack
// named.
func verifyLoad(t *testing.T, c *kafkatest.Cluster, topic string, r loadResult) verdict {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	end := endOffsets(t, c, topic)
	var total int64
	for _, o := range end {
		total += o
	}
	if total == 0 {
		t.Fatalf("%s is empty", topic)
	}
	began := time.Now()
	got, err := c.ConsoleConsume(ctx, topic, kafkatest.ConsumeOptions{Max: int(total), Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ConsoleConsumer (Kafka %s) read %d of the %d records in %s in %s", c.Version, len(got), total, topic, time.Since(began).Round(time.Millisecond))
	if int64(len(got)) != total {
		t.Fatalf("ConsoleConsumer read %d records of %s, the end offsets say %d", len(got), topic, total)
	}
	var v verdict
	v.consumed = len(got)
	type pos struct {
		partition int32
		offset    int64
	}
	seen := map[string]pos{}
	lastSeq := map[string]int{} // key -> last sequence read (records are sorted by partition and offset)
	keyPart := map[string]int32{}
	for _, rec := range got {
		val := string(rec.Value)
		if p, dup := seen[val]; dup {
			v.duplicated++
			if v.duplicated <= 10 {
				t.Errorf("duplicate: %q at %d/%d and %d/%d", val, p.partition, p.offset, rec.Partition, rec.Offset)
			}
			continue
		}
		seen[val] = pos{rec.Partition, rec.Offset}
		key, seqText, ok := strings.Cut(val, ":")
		seq, err := strconv.Atoi(seqText)
		if !ok || err != nil || key != string(rec.Key) {
			t.Fatalf("record at %d/%d: key %q value %q is not ours", rec.Partition, rec.Offset, rec.Key, val)
		}
		if p, ok := keyPart[key]; ok && p != rec.Partition {
			t.Fatalf("key %s in partitions %d and %d", key, p, rec.Partition)
		}
		keyPart[key] = rec.Partition
		if last, ok := lastSeq[key]; ok && seq <= last {
			v.reordered++
			if v.reordered <= 10 {
				t.Errorf("reordered: %q at %d/%d after sequence %d", val, rec.Partition, rec.Offset, last)
			}
		}
		lastSeq[key] = max(lastSeq[key], seq)
	}
	for val, md := range r.acked {
		p, ok := seen[val]
		switch {
		case !ok:
			v.lost++
			if v.lost <= 10 {
				t.Errorf("lost: %q was acknowledged at %d/%d and is not in the log", val, md.Partition, md.Offset)
			}
		case p.partition != md.Partition || p.offset != md.Offset:
			v.misplaced++
			if v.misplaced <= 10 {
				t.Errorf("misplaced: %q was acknowledged at %d/%d and is at %d/%d", val, md.Partition, md.Offset, p.partition, p.offset)
			}
		}
	}
	return v
}

// endOffsets returns the end offset of each of topic's partitions.
func endOffsets(t *testing.T, c *kafkatest.Cluster, topic string) map[int32]int64 {
	t.Helper()
	adm, err := c.Admin()
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		offs, err := adm.ListEndOffsets(ctx, topic)
		if err == nil {
			err = offs.Error()
		}
		if err == nil {
			end := map[int32]int64{}
			offs.Each(func(o kadm.ListedOffset) { end[o.Partition] = o.Offset })
			return end
		}
		if ctx.Err() != nil {
			t.Fatalf("end offsets of %s: %v", topic, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// listEnds returns topic's end offsets by partition.
func listEnds(ctx context.Context, c *kafkatest.Cluster, topic string) (map[int32]int64, error) {
	adm, err := c.Admin()
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	offs, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = offs.Error()
	}
	if err != nil {
		return nil, err
	}
	end := map[int32]int64{}
	offs.Each(func(o kadm.ListedOffset) { end[o.Partition] = o.Offset })
	return end, nil
}

// allGrow waits (up to limit) until every partition of topic holds more
// records than when it was called.
func allGrow(ctx context.Context, c *kafkatest.Cluster, topic string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var before, now map[int32]int64
	var last error
	for {
		ends, err := listEnds(ctx, c, topic)
		switch {
		case err != nil:
			last = err
		case before == nil:
			before = ends
		default:
			now = ends
			grown := len(now) == len(before)
			for p, off := range before {
				grown = grown && now[p] > off
			}
			if grown {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not every partition grew within %s: end offsets %v, then %v (last error %v)", topic, limit, before, now, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// partitions returns topic's partitions as the controller sees them.
func partitions(ctx context.Context, c *kafkatest.Cluster, topic string) (kadm.PartitionDetails, error) {
	adm, err := c.Admin()
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	td, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return nil, err
	}
	d, ok := td[topic]
	if !ok {
		return nil, fmt.Errorf("no metadata for %s", topic)
	}
	if d.Err != nil {
		return nil, d.Err
	}
	return d.Partitions, nil
}

// waitPartitions polls topic's partitions until ok accepts them, up to
// five minutes, and fails the test otherwise.
func waitPartitions(t *testing.T, c *kafkatest.Cluster, topic, what string, ok func(kadm.PartitionDetails) bool) kadm.PartitionDetails {
	t.Helper()
	ps, err := pollPartitions(c, topic, what, ok)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// pollPartitions is waitPartitions for other goroutines than the test's:
// it returns an error instead of failing the test.
func pollPartitions(c *kafkatest.Cluster, topic, what string, ok func(kadm.PartitionDetails) bool) (kadm.PartitionDetails, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var last error
	var ps kadm.PartitionDetails
	for {
		got, err := partitions(ctx, c, topic)
		if err == nil && len(got) > 0 {
			ps = got
			if ok(ps) {
				return ps, nil
			}
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return ps, fmt.Errorf("%s: %s never came (last error %v, partitions %s)", topic, what, last, describePartitions(ps))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// fullISR reports whether every partition has a leader and all its
// replicas in sync.
func fullISR(ps kadm.PartitionDetails) bool {
	for _, p := range ps {
		if p.Err != nil || p.Leader < 0 || len(p.ISR) != len(p.Replicas) {
			return false
		}
	}
	return true
}

// preferredLeaders reports whether every partition is led by its first
// replica.
func preferredLeaders(ps kadm.PartitionDetails) bool {
	for _, p := range ps {
		if p.Err != nil || len(p.Replicas) == 0 || p.Leader != p.Replicas[0] {
			return false
		}
	}
	return true
}

func describePartitions(ps kadm.PartitionDetails) string {
	var b strings.Builder
	for _, p := range ps.Sorted() {
		fmt.Fprintf(&b, "[p%d leader %d replicas %v isr %v]", p.Partition, p.Leader, p.Replicas, p.ISR)
	}
	return b.String()
}

// producerState is the (producer id, epoch) pairs of a topic's batches, as
// Apache Kafka's DumpLogSegments printed them from node's log files.
type producerState struct {
	batches int
	pairs   map[string]int // "id/epoch" -> batches
}

var producerField = regexp.MustCompile(`producerId: (-?\d+) producerEpoch: (-?\d+)`)

// dumpProducerState runs kafka.tools.DumpLogSegments once over every log
// segment of topic on node.
func dumpProducerState(t *testing.T, c *kafkatest.Cluster, node int, topic string) producerState {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(c.Node(node).Dir, "data", topic+"-*", "*.log"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("no log segments of %s on node %d (%v)", topic, node, err)
	}
	slices.Sort(segs)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := c.RunTool(ctx, "kafka.tools.DumpLogSegments", "--files", strings.Join(segs, ","))
	if err != nil {
		t.Fatal(err)
	}
	st := producerState{pairs: map[string]int{}}
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(line, "baseOffset:") {
			continue
		}
		m := producerField.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("DumpLogSegments line without producer fields: %s", line)
		}
		st.batches++
		st.pairs[m[1]+"/"+m[2]]++
	}
	return st
}

// isSequenceError reports whether err is a sequence or epoch error of the
// idempotent producer: the broker refusing our sequences across a leader
// change would show as one of these.
func isSequenceError(err error) bool {
	for _, seqErr := range []error{protocol.ErrOutOfOrderSequenceNumber, protocol.ErrUnknownProducerID, protocol.ErrDuplicateSequenceNumber, protocol.ErrInvalidProducerEpoch} {
		if errors.Is(err, seqErr) {
			return true
		}
	}
	return false
}

// createAssigned creates topic with one partition per replica list in
// assignment (the first replica is the preferred leader) and waits until
// each partition is led by its first replica with every replica in sync.
// configs are topic configs.
func createAssigned(t *testing.T, c *kafkatest.Cluster, topic string, assignment [][]int32, configs map[string]string) {
	t.Helper()
	cl, err := c.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 60_000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, -1, -1
	for i, replicas := range assignment {
		ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		ra.Partition, ra.Replicas = int32(i), replicas
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, ra)
	}
	for k, v := range configs {
		cfg := kmsg.NewCreateTopicsRequestTopicConfig()
		cfg.Name, cfg.Value = k, kmsg.StringPtr(v)
		rt.Configs = append(rt.Configs, cfg)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err == nil && len(resp.Topics) != 1 {
		err = fmt.Errorf("%d topics in the response", len(resp.Topics))
	}
	if err == nil {
		err = kerr.ErrorForCode(resp.Topics[0].ErrorCode)
	}
	if err != nil {
		t.Fatalf("creating %s with assignment %v: %v", topic, assignment, err)
	}
	waitPartitions(t, c, topic, "preferred leaders with every replica in sync", func(ps kadm.PartitionDetails) bool {
		return len(ps) == len(assignment) && preferredLeaders(ps) && fullISR(ps)
	})
}

// debugLog returns a logger option: with $TRIBUTARY_DEBUG_LOG set, the
// producer's debug log goes to that file (for reading a fault test's run
// afterwards); otherwise warnings go to the test log, as realProducer's do.
func debugLog(t *testing.T) producer.Option {
	path := os.Getenv("TRIBUTARY_DEBUG_LOG")
	if path == "" {
		return producer.WithLogger(testLogger(t))
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	t.Logf("producer debug log: %s", path)
	return producer.WithLogger(slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})))
}
