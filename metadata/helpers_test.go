package metadata

import (
	"context"
	"github.com/tributary-go/tributary/internal/leakcheck"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/protocol"
)

// hangLimit bounds every wait in these tests: a guard against hangs, never
// an assertion about speed.
const hangLimit = 20 * time.Second

// checkNoLeaks fails the test if a goroutine of this package or of
// internal/conn outlives it.
func checkNoLeaks(t *testing.T) {
	leakcheck.Check(t, "tributary/metadata.(*", "tributary/internal/conn.(*")
}

func newCluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(3), kfake.SeedTopics(12, "t")}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// newKfakeMetadata returns a started Metadata over a PoolFetcher on the
// cluster's addresses; both are closed at cleanup.
func newKfakeMetadata(t *testing.T, cl *kfake.Cluster, cfg Config) (*Metadata, *PoolFetcher) {
	t.Helper()
	pool := conn.NewPool(nil, nil)
	f := NewPoolFetcher(pool, cl.ListenAddrs())
	m := New(cfg, f)
	m.Start()
	t.Cleanup(func() {
		m.Close()
		pool.Close()
	})
	return m, f
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds or hangLimit passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// fakeFetcher answers Fetch with a function of its own, recording calls.
type fakeFetcher struct {
	mu    sync.Mutex
	calls []fetchCall
	fn    func(n int, topics []string) (*protocol.MetadataResponse, error)
	fetch chan int // if not nil, receives the call number when a fetch ends
}

type fetchCall struct {
	at     time.Time
	topics []string
	auto   bool
}

func (f *fakeFetcher) Fetch(ctx context.Context, topics []string, auto bool) (*protocol.MetadataResponse, error) {
	f.mu.Lock()
	f.calls = append(f.calls, fetchCall{time.Now(), append([]string(nil), topics...), auto})
	n := len(f.calls)
	fn := f.fn
	f.mu.Unlock()
	resp, err := fn(n, topics)
	if f.fetch != nil {
		select {
		case f.fetch <- n:
		case <-ctx.Done():
		}
	}
	return resp, err
}

func (f *fakeFetcher) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fakeFetcher) history() []fetchCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fetchCall(nil), f.calls...)
}

// cluster builds a MetadataResponse: brokers 1..3 and the given topics.
func cluster(topics ...protocol.MetadataTopic) *protocol.MetadataResponse {
	id := "fake-cluster"
	resp := protocol.NewMetadataResponse()
	resp.ClusterID = &id
	resp.ControllerID = 1
	for i := int32(1); i <= 3; i++ {
		resp.Brokers = append(resp.Brokers, protocol.MetadataBroker{NodeID: i, Host: "broker", Port: 9090 + i})
	}
	resp.Topics = topics
	return resp
}

// topic builds a MetadataTopic whose partition i is led by leaders[i] at
// epoch epochs[i] (or epochs[0] for all when only one is given).
func topic(name string, code int16, leaders []int32, epochs ...int32) protocol.MetadataTopic {
	t := protocol.MetadataTopic{ErrorCode: code, Name: &name}
	for i, l := range leaders {
		e := epochs[0]
		if len(epochs) > 1 {
			e = epochs[i]
		}
		t.Partitions = append(t.Partitions, protocol.MetadataPartition{PartitionIndex: int32(i), LeaderID: l, LeaderEpoch: e})
	}
	return t
}
