package producer_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-go/tributary/internal/kafkatest/toxi"
	"github.com/tributary-go/tributary/producer"
)

// toxiFaults are the faults TestKafkaToxiSoak cycles through; each applies
// its toxics to one node's proxy (toxi.Cluster.Heal lifts them).
var toxiFaults = []struct {
	name  string
	apply func(c *toxi.Cluster, node int) error
}{
	{"latency 200±50ms", func(c *toxi.Cluster, node int) error {
		return c.Add(node, "latency", "latency", "downstream", map[string]any{"latency": 200, "jitter": 50})
	}},
	{"bandwidth 64KiB/s", func(c *toxi.Cluster, node int) error {
		for _, s := range []string{"upstream", "downstream"} {
			if err := c.Add(node, "bandwidth_"+s, "bandwidth", s, map[string]any{"rate": 64}); err != nil {
				return err
			}
		}
		return nil
	}},
	{"black hole", func(c *toxi.Cluster, node int) error { return c.BlackHole(node) }},
	{"reset_peer 300ms", func(c *toxi.Cluster, node int) error {
		return c.Add(node, "reset", "reset_peer", "downstream", map[string]any{"timeout": 300})
	}},
	{"limit_data", func(c *toxi.Cluster, node int) error {
		if err := c.Add(node, "limit_up", "limit_data", "upstream", map[string]any{"bytes": 40000}); err != nil {
			return err
		}
		return c.Add(node, "limit_down", "limit_data", "downstream", map[string]any{"bytes": 2000})
	}},
	{"slicer", func(c *toxi.Cluster, node int) error {
		for _, s := range []string{"upstream", "downstream"} {
			if err := c.Add(node, "slicer_"+s, "slicer", s, map[string]any{"average_size": 16, "size_variation": 8, "delay": 200}); err != nil {
				return err
			}
		}
		return nil
	}},
}

// TestKafkaToxiSoak is the network-fault soak of make soak: TOXI_SOAK_RECORDS
// keyed records (default 200000) at 2000 a second through the toxiproxied
// cluster while the faults of toxiFaults, in a random order each round (black holes shorter
// than delivery.timeout.ms) hits a random broker for 3-8 s, then 2-5 s of
// calm, over and over. Every record must be acknowledged, and the read-back
// must show 0 lost, 0 duplicated, 0 reordered. It prints those counts and
// the delivery latency percentiles. It runs only when SOAK_RECORDS is set.
func TestKafkaToxiSoak(t *testing.T) {
	if os.Getenv("SOAK_RECORDS") == "" {
		t.Skip("set SOAK_RECORDS (make soak) to run the soak")
	}
	n := 200000
	if s := os.Getenv("TOXI_SOAK_RECORDS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			t.Fatalf("TOXI_SOAK_RECORDS=%q is not a positive number", s)
		}
		n = v
	}
	began := time.Now()
	c := toxiCluster(t)
	topic := realTopic(t, c.Cluster, 12)
	p, _ := toxiProducer(t, c, producer.WithRequestTimeout(4*time.Second))
	defer closeProducer(t, p)
	primeMetadata(t, p, topic)

	l := &toxiLoad{p: p, topic: topic, keys: 240, senders: 4, rate: 2000, size: 100}
	senders := l.start(int64(n), nil)
	loadDone := make(chan struct{})
	go func() { senders.Wait(); close(loadDone) }()

	var faults []string
	counts := map[string]int{}
	var cycler sync.WaitGroup
	cycler.Add(1)
	go func() {
		defer cycler.Done()
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 16))
		var order []int
		for {
			if len(order) == 0 {
				// Every fault once per round, in a random order.
				order = rng.Perm(len(toxiFaults))
			}
			f := toxiFaults[order[0]]
			order = order[1:]
			node := c.Nodes[rng.IntN(len(c.Nodes))].ID
			on := time.Duration(3000+rng.IntN(5000)) * time.Millisecond
			calm := time.Duration(2000+rng.IntN(3000)) * time.Millisecond
			at := time.Since(began)
			if err := f.apply(c, node); err != nil {
				t.Errorf("%s on node %d: %v", f.name, node, err)
				return
			}
			faults = append(faults, fmt.Sprintf("%s on node %d at %v for %v", f.name, node, at.Round(time.Second), on.Round(time.Millisecond)))
			counts[f.name]++
			select {
			case <-loadDone:
				c.Heal(node)
				return
			case <-time.After(on):
			}
			c.Heal(node)
			select {
			case <-loadDone:
				return
			case <-time.After(calm):
			}
		}
	}()
	cycler.Wait()
	c.HealAll()
	res, recs := l.wait(t, 10*time.Minute)
	v := verifyLoad(t, c.Cluster, topic, res)
	var lats []time.Duration
	for _, r := range recs {
		if r.err == nil {
			lats = append(lats, r.lat)
		}
	}
	slices.Sort(lats)
	q := func(f float64) time.Duration {
		if len(lats) == 0 {
			return 0
		}
		return lats[min(len(lats)-1, int(f*float64(len(lats))))]
	}
	t.Logf("soak faults (%d): %s", len(faults), strings.Join(faults, "; "))
	t.Logf("soak fault counts: %v", counts)
	t.Logf("SOAK toxi: records %d acked %d failed %d consumed %d lost %d duplicated %d reordered %d misplaced %d; "+
		"delivery latency p50 %v p90 %v p99 %v p99.9 %v max %v (%d acked); %d faults in %v",
		res.records, len(res.acked), res.records-len(res.acked), v.consumed, v.lost, v.duplicated, v.reordered, v.misplaced,
		q(0.5), q(0.9), q(0.99), q(0.999), q(1), len(lats), len(faults), time.Since(began).Round(time.Second))
	for e, k := range res.errs {
		t.Logf("%d records failed: %s", k, e)
	}
	if len(res.acked) != res.records {
		t.Errorf("%d of %d records failed", res.records-len(res.acked), res.records)
	}
	checkVerdict(t, "toxi soak", v)
}
