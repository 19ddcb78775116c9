package producer

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/internal/fakebroker"
	"github.com/tributary-go/tributary/protocol"
	"github.com/tributary-go/tributary/sender"
)

// requireDeliveryTimeout checks that err is a delivery timeout and returns
// the cause it carries.
func requireDeliveryTimeout(t *testing.T, err error) error {
	t.Helper()
	require.ErrorIs(t, err, accumulator.ErrDeliveryTimeout)
	var dte *sender.DeliveryTimeoutError
	require.ErrorAs(t, err, &dte)
	require.NotNil(t, dte.Last, "the delivery timeout carries no cause: %v", err)
	return dte.Last
}

// TestDeliveryTimeoutCarriesBrokerError: a broker that answers every
// Produce with NOT_ENOUGH_REPLICAS keeps the record retrying until
// delivery.timeout.ms. The backoff is long enough that the batch expires
// while queued between attempts, the path that used to drop the cause.
func TestDeliveryTimeoutCarriesBrokerError(t *testing.T) {
	checkNoLeaks(t)
	const topic = "nr"
	c := newCluster(t, 1, 1, topic)
	c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotEnoughReplicas, Count: -1})
	p := startProducer(t, c, WithLinger(0), WithRequestTimeout(time.Second), WithDeliveryTimeout(1500*time.Millisecond),
		WithRetryBackoff(time.Second, time.Second))
	_, err := p.Send(context.Background(), &Record{Topic: topic, Value: []byte("v")}).Get(context.Background())
	last := requireDeliveryTimeout(t, err)
	require.ErrorIs(t, last, protocol.ErrNotEnoughReplicas, "cause: %v", last)
}

// TestDeliveryTimeoutCarriesUnreachableLeader: after one record went
// through, the leader's connections are cut and every new dial refused; a
// record queued then expires with the dial error.
func TestDeliveryTimeoutCarriesUnreachableLeader(t *testing.T) {
	checkNoLeaks(t)
	const topic = "down"
	c := newCluster(t, 1, 1, topic)
	errRefused := errors.New("test dialer: broker down")
	var down atomic.Bool
	var mu sync.Mutex
	var conns []net.Conn
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if down.Load() {
			return nil, errRefused
		}
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
		}
		return nc, err
	}
	p := startProducer(t, c, WithDialer(dial), WithLinger(0), WithRequestTimeout(time.Second),
		WithDeliveryTimeout(1500*time.Millisecond), WithReconnectBackoff(20*time.Millisecond, 50*time.Millisecond))
	ctx := context.Background()
	_, err := p.Send(ctx, &Record{Topic: topic, Value: []byte("first")}).Get(ctx)
	require.NoError(t, err)

	down.Store(true)
	mu.Lock()
	for _, nc := range conns {
		nc.Close()
	}
	mu.Unlock()
	_, err = p.Send(ctx, &Record{Topic: topic, Value: []byte("second")}).Get(ctx)
	last := requireDeliveryTimeout(t, err)
	require.ErrorIs(t, last, errRefused, "cause: %v", last)
}

// TestDeliveryTimeoutCarriesLeaderUnknown: the partition loses its leader
// (Produce answers NOT_LEADER_OR_FOLLOWER, Metadata then reports
// LEADER_NOT_AVAILABLE with no leader); the record expires with that cause.
func TestDeliveryTimeoutCarriesLeaderUnknown(t *testing.T) {
	checkNoLeaks(t)
	const topic = "orphan"
	var noLeader atomic.Bool
	var fb *fakebroker.Broker
	handler := func(_ int32, key protocol.Key, _ int16, _ protocol.Request) fakebroker.Action {
		if !noLeader.Load() {
			return fakebroker.Action{}
		}
		switch key {
		case protocol.KeyProduce:
			return fakebroker.Action{ErrorCode: protocol.ErrNotLeaderOrFollower.Code}
		case protocol.KeyMetadata:
			host, port, _ := net.SplitHostPort(fb.Addrs()[0])
			portN, _ := strconv.Atoi(port)
			resp := protocol.NewMetadataResponse()
			resp.Brokers = []protocol.MetadataBroker{{NodeID: 0, Host: host, Port: int32(portN)}}
			name := topic
			resp.Topics = []protocol.MetadataTopic{{Name: &name, TopicAuthorizedOperations: protocol.AuthorizedOperationsUnknown,
				Partitions: []protocol.MetadataPartition{{ErrorCode: protocol.ErrLeaderNotAvailable.Code, LeaderID: -1, LeaderEpoch: -1}}}}
			return fakebroker.Action{Respond: resp}
		}
		return fakebroker.Action{}
	}
	var err error
	fb, err = fakebroker.Start(fakebroker.Config{Topics: map[string]int32{topic: 1}, Handler: handler})
	require.NoError(t, err)
	t.Cleanup(fb.Close)

	p, err := New(WithBootstrapServers(fb.Addrs()...), WithLogger(testLogger(t)), WithLinger(0),
		WithRequestTimeout(time.Second), WithDeliveryTimeout(1500*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	ctx := context.Background()
	_, err = p.Send(ctx, &Record{Topic: topic, Value: []byte("first")}).Get(ctx)
	require.NoError(t, err)

	noLeader.Store(true)
	_, err = p.Send(ctx, &Record{Topic: topic, Value: []byte("second")}).Get(ctx)
	last := requireDeliveryTimeout(t, err)
	var lu *sender.LeaderUnavailableError
	require.ErrorAs(t, last, &lu, "cause: %v", last)
	require.ErrorIs(t, last, protocol.ErrLeaderNotAvailable, "cause: %v", last)
}
