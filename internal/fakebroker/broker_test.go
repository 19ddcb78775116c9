package fakebroker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/protocol"
)

// TestKgoProduces proves protocol compatibility with an independent client:
// franz-go's kgo (idempotent, compressing, at its newest versions and at
// older ones) produces and gets back the offsets the broker assigned, and
// the stored batches hold exactly what it sent.
func TestKgoProduces(t *testing.T) {
	for _, tc := range []struct {
		name  string
		caps  map[protocol.Key]int16
		codec kgo.CompressionCodec
	}{
		{"newest", nil, kgo.NoCompression()},
		{"zstd", nil, kgo.ZstdCompression()},
		{"produce v7 metadata v8", map[protocol.Key]int16{protocol.KeyProduce: 7, protocol.KeyMetadata: 8}, kgo.SnappyCompression()},
		{"produce v3 no flexible", map[protocol.Key]int16{protocol.KeyProduce: 3, protocol.KeyMetadata: 4, protocol.KeyAPIVersions: 2, protocol.KeyInitProducerID: 1}, kgo.GzipCompression()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := start(t, Config{Brokers: 3, Topics: map[string]int32{"t": 4}, MaxVersions: tc.caps, Store: true})
			cl, err := kgo.NewClient(
				kgo.SeedBrokers(b.Addrs()...),
				kgo.DefaultProduceTopic("t"),
				kgo.RecordPartitioner(kgo.ManualPartitioner()),
				kgo.ProducerBatchCompression(tc.codec),
			)
			require.NoError(t, err)
			defer cl.Close()

			const perPartition = 20
			var recs []*kgo.Record
			for i := range 4 * perPartition {
				recs = append(recs, &kgo.Record{Partition: int32(i % 4), Value: fmt.Appendf(nil, "value-%d", i)})
			}
			ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
			defer cancel()
			results := cl.ProduceSync(ctx, recs...)
			require.NoError(t, results.FirstErr())

			next := map[int32]int64{}
			for _, r := range results {
				assert.Equal(t, next[r.Record.Partition], r.Record.Offset, "offsets count up per partition in send order")
				next[r.Record.Partition]++
			}
			for p := range int32(4) {
				assert.EqualValues(t, perPartition, b.Records("t", p))
				var got []string
				for _, rb := range b.Batches("t", p) {
					assert.EqualValues(t, 1000, rb.ProducerID, "the id InitProducerId handed out")
					for _, r := range rb.Records {
						got = append(got, string(r.Value))
					}
				}
				var want []string
				for i := p; i < 4*perPartition; i += 4 {
					want = append(want, fmt.Sprintf("value-%d", i))
				}
				assert.Equal(t, want, got, "partition %d", p)
			}
			assert.Equal(t, 1, b.Requests(protocol.KeyInitProducerID))
		})
	}
}

// TestOurConnNegotiates: internal/conn completes its handshake and
// negotiates min(ours, the broker's caps), including the KIP-511 retry when
// the broker's ApiVersions is older than ours.
func TestOurConnNegotiates(t *testing.T) {
	b := start(t, Config{MaxVersions: map[protocol.Key]int16{protocol.KeyAPIVersions: 2, protocol.KeyProduce: 8, protocol.KeyFindCoordinator: -1}})
	c := dial(t, b.Addrs()[0], nil)
	v, err := c.Version(protocol.KeyProduce)
	require.NoError(t, err)
	assert.Equal(t, int16(8), v)
	v, err = c.Version(protocol.KeyMetadata)
	require.NoError(t, err)
	assert.Equal(t, int16(13), v)
	_, err = c.Version(protocol.KeyFindCoordinator)
	var nv *protocol.NoVersionError
	assert.ErrorAs(t, err, &nv, "an API capped below its minimum is not advertised")
	assert.Equal(t, 2, b.Requests(protocol.KeyAPIVersions), "v4 refused with UNSUPPORTED_VERSION, then v2")
}

func TestMetadata(t *testing.T) {
	b := start(t, Config{Brokers: 3, Topics: map[string]int32{"a": 5, "b": 1}})
	c := dial(t, b.Addrs()[1], nil)
	name := func(s string) protocol.MetadataRequestTopic { return protocol.MetadataRequestTopic{Name: &s} }
	resp := do(t, c, &protocol.MetadataRequest{Topics: []protocol.MetadataRequestTopic{name("a"), name("nope")}}).(*protocol.MetadataResponse)
	require.Len(t, resp.Brokers, 3)
	for i, br := range resp.Brokers {
		assert.Equal(t, b.Addrs()[i], fmt.Sprintf("%s:%d", br.Host, br.Port))
	}
	require.Len(t, resp.Topics, 2)
	a := resp.Topics[0]
	assert.Zero(t, a.ErrorCode)
	require.Len(t, a.Partitions, 5)
	for i, p := range a.Partitions {
		assert.Equal(t, int32(i%3), p.LeaderID, "leaders round robin")
		assert.Zero(t, p.LeaderEpoch)
	}
	assert.Equal(t, protocol.ErrUnknownTopicOrPartition.Code, resp.Topics[1].ErrorCode)

	b.SetLeader("a", 0, 2)
	resp = do(t, c, &protocol.MetadataRequest{}).(*protocol.MetadataResponse)
	require.Len(t, resp.Topics, 2, "nil topics: all of them")
	assert.Equal(t, int32(2), resp.Topics[0].Partitions[0].LeaderID)
	assert.Equal(t, int32(1), resp.Topics[0].Partitions[0].LeaderEpoch)
}

func TestInitProducerID(t *testing.T) {
	b := start(t, Config{})
	c := dial(t, b.Addrs()[0], nil)
	init := func(id int64, epoch int16) (int64, int16) {
		req := protocol.NewInitProducerIDRequest()
		req.ProducerID, req.ProducerEpoch = id, epoch
		r := do(t, c, req).(*protocol.InitProducerIDResponse)
		require.Zero(t, r.ErrorCode)
		return r.ProducerID, r.ProducerEpoch
	}
	id, epoch := init(-1, -1)
	assert.Equal(t, int64(1000), id)
	assert.Equal(t, int16(0), epoch)
	id2, _ := init(-1, -1)
	assert.Equal(t, int64(1001), id2)
	id, epoch = init(1000, 0)
	assert.Equal(t, int64(1000), id, "KIP-360: same id")
	assert.Equal(t, int16(1), epoch, "bumped epoch")
	id, epoch = init(1000, 0)
	assert.Equal(t, int64(1002), id, "a stale epoch gets a fresh id")
	assert.Equal(t, int16(0), epoch)
}

// TestProduceValidation: the answers Kafka gives to malformed or misrouted
// Produce requests.
func TestProduceValidation(t *testing.T) {
	b := start(t, Config{Brokers: 2, Topics: map[string]int32{"t": 2}, MaxMessageBytes: 4096})
	c := dial(t, b.Addrs()[0], nil)

	corrupt := plain(3)
	corrupt[len(corrupt)-1] ^= 0xff
	badMagic := plain(1)
	badMagic[16] = 1
	big := make([]byte, 0, 8192)
	var bb protocol.BatchBuilder
	bb.Reset(big)
	bb.Append(0, nil, make([]byte, 5000), nil)
	tooLarge, _ := bb.Close(protocol.BatchOptions{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})

	for _, tc := range []struct {
		name string
		req  *protocol.ProduceRequest
		want *protocol.Error
	}{
		{"CRC", produceReq(-1, "t", 0, corrupt), protocol.ErrCorruptMessage},
		{"magic", produceReq(-1, "t", 0, badMagic), protocol.ErrCorruptMessage},
		{"truncated", produceReq(-1, "t", 0, plain(2)[:70]), protocol.ErrCorruptMessage},
		{"two batches", produceReq(-1, "t", 0, append(plain(1), plain(1)...)), protocol.ErrInvalidRecord},
		{"acks 2", produceReq(2, "t", 0, plain(1)), protocol.ErrInvalidRequiredAcks},
		{"unknown topic", produceReq(1, "nope", 0, plain(1)), protocol.ErrUnknownTopicOrPartition},
		{"unknown partition", produceReq(1, "t", 7, plain(1)), protocol.ErrUnknownTopicOrPartition},
		{"too large", produceReq(1, "t", 0, tooLarge), protocol.ErrMessageTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := produce(t, c, tc.req)
			assert.Equal(t, tc.want.Code, p.ErrorCode)
			assert.Equal(t, int64(-1), p.BaseOffset)
		})
	}
	assert.Zero(t, b.Records("t", 0), "nothing invalid was appended")

	// Partition 1 is led by node 1: node 0 answers NOT_LEADER with a hint
	// naming node 1 and its endpoint (Produce v10+).
	resp := do(t, c, produceReq(-1, "t", 1, plain(1))).(*protocol.ProduceResponse)
	p := resp.Topics[0].Partitions[0]
	assert.Equal(t, protocol.ErrNotLeaderOrFollower.Code, p.ErrorCode)
	assert.Equal(t, protocol.LeaderIDAndEpoch{LeaderID: 1, LeaderEpoch: 0}, p.CurrentLeader)
	require.Len(t, resp.NodeEndpoints, 1)
	assert.Equal(t, b.Addrs()[1], fmt.Sprintf("%s:%d", resp.NodeEndpoints[0].Host, resp.NodeEndpoints[0].Port))
}

// TestProduceOffsets: offsets count up per partition across requests and
// connections; acks=0 appends without answering.
func TestProduceOffsets(t *testing.T) {
	b := start(t, Config{Topics: map[string]int32{"t": 1}, Store: true})
	c := dial(t, b.Addrs()[0], nil)
	assert.Equal(t, int64(0), produce(t, c, produceReq(-1, "t", 0, plain(3))).BaseOffset)
	assert.Equal(t, int64(3), produce(t, c, produceReq(1, "t", 0, plain(2))).BaseOffset)

	v, _ := c.Version(protocol.KeyProduce)
	written := make(chan error, 1)
	c.Send(produceReq(0, "t", 0, plain(4)), v, false, func(_ protocol.Response, err error) { written <- err })
	require.NoError(t, <-written)
	c2 := dial(t, b.Addrs()[0], nil)
	// The acks=0 request was read before this one on its own connection
	// only if it has been appended: wait for it through Records.
	require.Eventually(t, func() bool { return b.Records("t", 0) == 9 }, hangLimit, time.Millisecond)
	assert.Equal(t, int64(9), produce(t, c2, produceReq(-1, "t", 0, plain(1))).BaseOffset)
	var bases []int64
	for _, rb := range b.Batches("t", 0) {
		bases = append(bases, rb.BaseOffset)
	}
	assert.Equal(t, []int64{0, 3, 5, 9}, bases)
}

// TestIdempotence checks the sequence rules of Kafka's producer state.
func TestIdempotence(t *testing.T) {
	b := start(t, Config{Topics: map[string]int32{"t": 1}})
	c := dial(t, b.Addrs()[0], nil)
	send := func(n int, pid int64, epoch int16, seq int32) protocol.ProduceResponsePartition {
		return produce(t, c, produceReq(-1, "t", 0, batch(n, pid, epoch, seq)))
	}
	steps := []struct {
		name     string
		n        int
		epoch    int16
		seq      int32
		wantCode *protocol.Error // nil: success
		wantOff  int64
	}{
		{"first batch", 3, 0, 0, nil, 0},
		{"next", 2, 0, 3, nil, 3},
		{"exact duplicate of the first: original offset", 3, 0, 0, nil, 0},
		{"exact duplicate of the second", 2, 0, 3, nil, 3},
		{"same start, other length: not a duplicate", 2, 0, 0, protocol.ErrOutOfOrderSequenceNumber, -1},
		{"gap", 1, 0, 6, protocol.ErrOutOfOrderSequenceNumber, -1},
		{"in sequence", 1, 0, 5, nil, 5},
		{"new epoch must start at 0", 1, 1, 6, protocol.ErrOutOfOrderSequenceNumber, -1},
		{"new epoch at 0", 2, 1, 0, nil, 6},
		{"old epoch", 1, 0, 6, protocol.ErrInvalidProducerEpoch, -1},
		{"old epoch duplicate is not a duplicate", 3, 0, 0, protocol.ErrInvalidProducerEpoch, -1},
		{"new epoch continues", 1, 1, 2, nil, 8},
	}
	for _, s := range steps {
		p := send(s.n, 1000, s.epoch, s.seq)
		if s.wantCode == nil {
			assert.Zero(t, p.ErrorCode, s.name)
		} else {
			assert.Equal(t, s.wantCode.Code, p.ErrorCode, s.name)
		}
		assert.Equal(t, s.wantOff, p.BaseOffset, s.name)
	}
	assert.Equal(t, int64(9), b.Records("t", 0), "duplicates and rejects appended nothing")

	// Only the last five batches are remembered.
	for i := range 5 {
		require.Zero(t, send(1, 1000, 1, int32(3+i)).ErrorCode)
	}
	assert.Equal(t, protocol.ErrOutOfOrderSequenceNumber.Code, send(1, 1000, 1, 2).ErrorCode, "a duplicate older than five batches")
	assert.Zero(t, send(1, 1000, 1, 3).ErrorCode, "the oldest of the five")

	// Unknown producer ids may start anywhere on a modern broker.
	assert.Zero(t, send(1, 2000, 0, 42).ErrorCode)
	assert.Zero(t, send(1, 2000, 0, 43).ErrorCode)
}

func TestLegacyUnknownProducerID(t *testing.T) {
	b := start(t, Config{Topics: map[string]int32{"t": 1}, LegacyUnknownProducerID: true})
	c := dial(t, b.Addrs()[0], nil)
	assert.Equal(t, protocol.ErrUnknownProducerID.Code, produce(t, c, produceReq(-1, "t", 0, batch(1, 7, 0, 5))).ErrorCode)
	assert.Zero(t, produce(t, c, produceReq(-1, "t", 0, batch(1, 7, 0, 0))).ErrorCode)
}

// TestSequenceWraps: after MaxInt32 the next sequence is 0.
func TestSequenceWraps(t *testing.T) {
	b := start(t, Config{Topics: map[string]int32{"t": 1}})
	c := dial(t, b.Addrs()[0], nil)
	const max = int32(^uint32(0) >> 1)
	require.Zero(t, produce(t, c, produceReq(-1, "t", 0, batch(2, 5, 0, max-1))).ErrorCode)
	assert.Zero(t, produce(t, c, produceReq(-1, "t", 0, batch(1, 5, 0, 0))).ErrorCode)
	assert.Equal(t, int64(3), b.Records("t", 0))
}

// TestSinkDoesNotAllocatePerRecord: without Store, appending a batch
// costs the same allocations whatever its record count.
func TestSinkDoesNotAllocatePerRecord(t *testing.T) {
	b := start(t, Config{Topics: map[string]int32{"t": 1}})
	allocs := func(n int) float64 {
		rp := protocol.ProduceRequestPartition{Index: 0, Records: plain(n)}
		var out protocol.ProduceResponsePartition
		return testing.AllocsPerRun(100, func() { b.appendPartition(0, "t", &rp, 12, &out) })
	}
	assert.Zero(t, allocs(1))
	assert.Zero(t, allocs(500))
}

// TestConnClosesOnUnknownAPI: a request with no default answer closes the
// connection, as Kafka does; a Handler may answer it.
func TestConnClosesOnUnknownAPI(t *testing.T) {
	b := start(t, Config{})
	c := dial(t, b.Addrs()[0], nil)
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	_, err := c.Do(ctx, &protocol.FindCoordinatorRequest{CoordinatorKey: "g"})
	require.Error(t, err)
	waitClosed(t, c)
	assert.NotErrorIs(t, c.Err(), conn.ErrClosed)
}
