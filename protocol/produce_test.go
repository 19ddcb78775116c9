package protocol

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// randProduceRequest returns a request with random values; every field of
// ProduceRequest exists at every version we speak.
func randProduceRequest(rng *rand.Rand) ProduceRequest {
	req := ProduceRequest{
		TransactionalID: randNullableString(rng, 12),
		Acks:            randInt16(rng),
		TimeoutMillis:   randInt32(rng),
	}
	if n := randLen(rng, 4); n > 0 {
		req.Topics = make([]ProduceRequestTopic, n)
		for i := range req.Topics {
			t := &req.Topics[i]
			t.Name = randString(rng, 16)
			if n := randLen(rng, 4); n > 0 {
				t.Partitions = make([]ProduceRequestPartition, n)
				for j := range t.Partitions {
					t.Partitions[j] = ProduceRequestPartition{Index: randInt32(rng), Records: randNullableBytes(rng, 40)}
				}
			}
		}
	}
	return req
}

func produceRequestToKmsg(rng *rand.Rand, req *ProduceRequest, v int16) *kmsg.ProduceRequest {
	k := kmsg.NewPtrProduceRequest()
	k.Version = v
	k.TransactionID = req.TransactionalID
	k.Acks = req.Acks
	k.TimeoutMillis = req.TimeoutMillis
	flex := v >= 9
	for _, t := range req.Topics {
		kt := kmsg.NewProduceRequestTopic()
		kt.Topic = t.Name
		for _, p := range t.Partitions {
			kp := kmsg.NewProduceRequestTopicPartition()
			kp.Partition = p.Index
			kp.Records = p.Records
			if flex {
				randUnknownTags(rng, &kp.UnknownTags)
			}
			kt.Partitions = append(kt.Partitions, kp)
		}
		if flex {
			randUnknownTags(rng, &kt.UnknownTags)
		}
		k.Topics = append(k.Topics, kt)
	}
	if flex {
		randUnknownTags(rng, &k.UnknownTags)
	}
	return k
}

func produceRequestFromKmsg(k *kmsg.ProduceRequest) ProduceRequest {
	req := ProduceRequest{TransactionalID: k.TransactionID, Acks: k.Acks, TimeoutMillis: k.TimeoutMillis}
	for _, kt := range k.Topics {
		t := ProduceRequestTopic{Name: kt.Topic}
		for _, kp := range kt.Partitions {
			t.Partitions = append(t.Partitions, ProduceRequestPartition{Index: kp.Partition, Records: kp.Records})
		}
		req.Topics = append(req.Topics, t)
	}
	return req
}

// randProduceResponse returns a response holding only what version v can
// carry; absent fields keep Kafka's defaults.
func randProduceResponse(rng *rand.Rand, v int16) ProduceResponse {
	var resp ProduceResponse
	if n := randLen(rng, 4); n > 0 {
		resp.Topics = make([]ProduceResponseTopic, n)
		for i := range resp.Topics {
			t := &resp.Topics[i]
			t.Name = randString(rng, 16)
			if n := randLen(rng, 4); n > 0 {
				t.Partitions = make([]ProduceResponsePartition, n)
				for j := range t.Partitions {
					t.Partitions[j] = randProduceResponsePartition(rng, v)
				}
			}
		}
	}
	resp.ThrottleTimeMillis = randInt32(rng)
	if v >= 10 {
		if n := randLen(rng, 3); n > 0 {
			resp.NodeEndpoints = make([]NodeEndpoint, n)
			for i := range resp.NodeEndpoints {
				resp.NodeEndpoints[i] = NodeEndpoint{
					NodeID: randInt32(rng), Host: randString(rng, 20),
					Port: randInt32(rng), Rack: randNullableString(rng, 6),
				}
			}
		}
	}
	return resp
}

func randProduceResponsePartition(rng *rand.Rand, v int16) ProduceResponsePartition {
	p := ProduceResponsePartition{
		Index: randInt32(rng), ErrorCode: randInt16(rng), BaseOffset: randInt64(rng),
		LogAppendTimeMillis: -1, LogStartOffset: -1, CurrentLeader: NoLeader,
	}
	if v >= 2 {
		p.LogAppendTimeMillis = randInt64(rng)
	}
	if v >= 5 {
		p.LogStartOffset = randInt64(rng)
	}
	if v >= 8 {
		if n := randLen(rng, 3); n > 0 {
			p.RecordErrors = make([]RecordError, n)
			for i := range p.RecordErrors {
				p.RecordErrors[i] = RecordError{BatchIndex: randInt32(rng), BatchIndexErrorMessage: randNullableString(rng, 20)}
			}
		}
		p.ErrorMessage = randNullableString(rng, 20)
	}
	if v >= 10 && randBool(rng) {
		// Either half may be -1 on its own; only {-1,-1} is the default.
		p.CurrentLeader = LeaderIDAndEpoch{LeaderID: randInt32(rng), LeaderEpoch: randInt32(rng)}
	}
	return p
}

func produceResponseToKmsg(rng *rand.Rand, resp *ProduceResponse, v int16) *kmsg.ProduceResponse {
	k := kmsg.NewPtrProduceResponse()
	k.Version = v
	flex := v >= 9
	for _, t := range resp.Topics {
		kt := kmsg.NewProduceResponseTopic()
		kt.Topic = t.Name
		for _, p := range t.Partitions {
			kp := kmsg.NewProduceResponseTopicPartition()
			kp.Partition = p.Index
			kp.ErrorCode = p.ErrorCode
			kp.BaseOffset = p.BaseOffset
			kp.LogAppendTime = p.LogAppendTimeMillis
			kp.LogStartOffset = p.LogStartOffset
			for _, e := range p.RecordErrors {
				ke := kmsg.NewProduceResponseTopicPartitionErrorRecord()
				ke.RelativeOffset = e.BatchIndex
				ke.ErrorMessage = e.BatchIndexErrorMessage
				if flex {
					randUnknownTags(rng, &ke.UnknownTags)
				}
				kp.ErrorRecords = append(kp.ErrorRecords, ke)
			}
			kp.ErrorMessage = p.ErrorMessage
			kp.CurrentLeader.LeaderID = p.CurrentLeader.LeaderID
			kp.CurrentLeader.LeaderEpoch = p.CurrentLeader.LeaderEpoch
			if flex {
				randUnknownTags(rng, &kp.UnknownTags)
			}
			kt.Partitions = append(kt.Partitions, kp)
		}
		if flex {
			randUnknownTags(rng, &kt.UnknownTags)
		}
		k.Topics = append(k.Topics, kt)
	}
	k.ThrottleMillis = resp.ThrottleTimeMillis
	for _, e := range resp.NodeEndpoints {
		kb := kmsg.NewProduceResponseBroker()
		kb.NodeID, kb.Host, kb.Port, kb.Rack = e.NodeID, e.Host, e.Port, e.Rack
		if flex {
			randUnknownTags(rng, &kb.UnknownTags)
		}
		k.Brokers = append(k.Brokers, kb)
	}
	if flex {
		randUnknownTags(rng, &k.UnknownTags)
	}
	return k
}

func produceResponseFromKmsg(k *kmsg.ProduceResponse) ProduceResponse {
	resp := ProduceResponse{ThrottleTimeMillis: k.ThrottleMillis}
	for _, kt := range k.Topics {
		t := ProduceResponseTopic{Name: kt.Topic}
		for _, kp := range kt.Partitions {
			p := ProduceResponsePartition{
				Index: kp.Partition, ErrorCode: kp.ErrorCode, BaseOffset: kp.BaseOffset,
				LogAppendTimeMillis: kp.LogAppendTime, LogStartOffset: kp.LogStartOffset,
				ErrorMessage:  kp.ErrorMessage,
				CurrentLeader: LeaderIDAndEpoch{LeaderID: kp.CurrentLeader.LeaderID, LeaderEpoch: kp.CurrentLeader.LeaderEpoch},
			}
			for _, ke := range kp.ErrorRecords {
				p.RecordErrors = append(p.RecordErrors, RecordError{BatchIndex: ke.RelativeOffset, BatchIndexErrorMessage: ke.ErrorMessage})
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	for _, kb := range k.Brokers {
		resp.NodeEndpoints = append(resp.NodeEndpoints, NodeEndpoint{NodeID: kb.NodeID, Host: kb.Host, Port: kb.Port, Rack: kb.Rack})
	}
	return resp
}

func TestProduceRequestOracle(t *testing.T) {
	for _, v := range versionsOf(t, KeyProduce) {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			rng := newRand(uint64(v))
			for range oracleIters {
				want := randProduceRequest(rng)

				// Ours → kmsg.
				b := want.AppendTo(nil, v)
				k := kmsg.NewPtrProduceRequest()
				decodeKmsg(t, k, b, v)
				require.Equal(t, want, produceRequestFromKmsg(k), "kmsg decoding our v%d encoding", v)

				// kmsg (with unknown tags) → ours.
				kb := produceRequestToKmsg(rng, &want, v).AppendTo(nil)
				var got ProduceRequest
				decodeOurs(t, &got, kb, v)
				require.Equal(t, want, got, "our decoding of kmsg's v%d encoding", v)
			}
		})
	}
}

func TestProduceResponseOracle(t *testing.T) {
	for _, v := range versionsOf(t, KeyProduce) {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			rng := newRand(100 + uint64(v))
			for range oracleIters {
				want := randProduceResponse(rng, v)

				b := want.AppendTo(nil, v)
				k := kmsg.NewPtrProduceResponse()
				decodeKmsg(t, k, b, v)
				require.Equal(t, want, produceResponseFromKmsg(k), "kmsg decoding our v%d encoding", v)

				kb := produceResponseToKmsg(rng, &want, v).AppendTo(nil)
				var got ProduceResponse
				decodeOurs(t, &got, kb, v)
				require.Equal(t, want, got, "our decoding of kmsg's v%d encoding", v)
			}
		})
	}
}

// TestProduceResponseDecodeReuse checks that decoding into a value that
// held a bigger, different response gives exactly what a fresh decode does:
// reuse must not leak stale fields (e.g. a v10 CurrentLeader into a v9
// answer, or old RecordErrors).
func TestProduceResponseDecodeReuse(t *testing.T) {
	rng := newRand(7)
	var reused ProduceResponse
	for range 500 {
		v := int16(3 + rng.IntN(10))
		want := randProduceResponse(rng, v)
		b := want.AppendTo(nil, v)

		var fresh ProduceResponse
		decodeOurs(t, &fresh, b, v)
		decodeOurs(t, &reused, b, v)
		require.Equal(t, normProduceResponse(fresh), normProduceResponse(reused), "v%d", v)
		require.Equal(t, want, fresh)
	}
}

// normProduceResponse copies r with empty slices as nil: a reused value
// keeps capacity in empty slices, which is not a difference in content.
func normProduceResponse(r ProduceResponse) ProduceResponse {
	out := ProduceResponse{ThrottleTimeMillis: r.ThrottleTimeMillis, NodeEndpoints: nilIfEmpty(r.NodeEndpoints)}
	for _, t := range r.Topics {
		nt := ProduceResponseTopic{Name: t.Name}
		for _, p := range t.Partitions {
			p.RecordErrors = nilIfEmpty(p.RecordErrors)
			nt.Partitions = append(nt.Partitions, p)
		}
		out.Topics = append(out.Topics, nt)
	}
	return out
}

func TestProduceRequestGolden(t *testing.T) {
	req := ProduceRequest{
		TransactionalID: nil,
		Acks:            -1,
		TimeoutMillis:   30000,
		Topics: []ProduceRequestTopic{{
			Name:       "t1",
			Partitions: []ProduceRequestPartition{{Index: 2, Records: []byte{0xde, 0xad, 0xbe, 0xef}}},
		}},
	}
	id := "cli"
	got := AppendRequest(nil, RequestHeader{Key: KeyProduce, Version: 3, CorrelationID: 7, ClientID: &id}, &req)
	want := mustHex(t, `
		0000002d  -- size: 45 bytes follow (13 header + 32 body)
		0000      -- api_key 0 (Produce)
		0003      -- api_version 3
		00000007  -- correlation_id 7
		0003 636c69 -- client_id "cli" (int16 length, header v1: no tags)
		ffff      -- transactional_id null
		ffff      -- acks -1
		00007530  -- timeout_ms 30000
		00000001  -- 1 topic
		0002 7431 -- name "t1"
		00000001  -- 1 partition
		00000002  -- index 2
		00000004 deadbeef -- records: int32 length 4, then the bytes
	`)
	require.Equal(t, want, got)
}

func TestProduceRequestAppendAllocs(t *testing.T) {
	req := benchProduceRequest(3, 4, 512)
	txn := "txn"
	req.TransactionalID = &txn
	for _, v := range versionsOf(t, KeyProduce) {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			buf := make([]byte, 0, 16<<10)
			h := RequestHeader{Key: KeyProduce, Version: v, CorrelationID: 1, ClientID: &txn}
			body := testing.AllocsPerRun(100, func() { buf = req.AppendTo(buf[:0], v) })
			frame := testing.AllocsPerRun(100, func() { buf = AppendRequest(buf[:0], h, req) })
			require.Zero(t, body, "ProduceRequest.AppendTo allocations")
			require.Zero(t, frame, "AppendRequest allocations")
		})
	}
}

// benchProduceRequest builds a request with topics×partitions batches of
// size bytes each.
func benchProduceRequest(topics, partitions, size int) *ProduceRequest {
	req := &ProduceRequest{Acks: -1, TimeoutMillis: 30000}
	batch := bytes.Repeat([]byte{0xab}, size)
	for i := range topics {
		t := ProduceRequestTopic{Name: fmt.Sprintf("topic-%d", i)}
		for j := range partitions {
			t.Partitions = append(t.Partitions, ProduceRequestPartition{Index: int32(j), Records: batch})
		}
		req.Topics = append(req.Topics, t)
	}
	return req
}

func BenchmarkProduceRequestEncode(b *testing.B) {
	req := benchProduceRequest(4, 8, 1024)
	h := RequestHeader{Key: KeyProduce, Version: 11, CorrelationID: 1}
	buf := AppendRequest(nil, h, req)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendRequest(buf[:0], h, req)
	}
}

func BenchmarkProduceResponseDecode(b *testing.B) {
	resp := ProduceResponse{ThrottleTimeMillis: 0}
	for i := range 4 {
		t := ProduceResponseTopic{Name: fmt.Sprintf("topic-%d", i)}
		for j := range 8 {
			t.Partitions = append(t.Partitions, ProduceResponsePartition{
				Index: int32(j), BaseOffset: int64(1000 * j), LogAppendTimeMillis: -1,
				LogStartOffset: 0, CurrentLeader: NoLeader,
			})
		}
		resp.Topics = append(resp.Topics, t)
	}
	const v = 11
	enc := resp.AppendTo(nil, v)
	b.Run("fresh", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		b.ReportAllocs()
		for b.Loop() {
			var out ProduceResponse
			if err := DecodeMessage(&out, enc, v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reused", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		b.ReportAllocs()
		var out ProduceResponse
		var r Reader
		for b.Loop() {
			r.Reset(enc)
			out.Decode(&r, v)
			if err := r.Complete(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func FuzzDecodeProduceRequest(f *testing.F) {
	rng := newRand(900)
	for _, v := range versionsOf(f, KeyProduce) {
		for range 3 {
			req := randProduceRequest(rng)
			f.Add(req.AppendTo(nil, v), uint8(v-3))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		checkFuzzRoundTrip[ProduceRequest](t, data, fuzzVersion(KeyProduce, sel))
	})
}

func FuzzDecodeProduceResponse(f *testing.F) {
	rng := newRand(901)
	for _, v := range versionsOf(f, KeyProduce) {
		for range 3 {
			resp := randProduceResponse(rng, v)
			f.Add(resp.AppendTo(nil, v), uint8(v-3))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		v := fuzzVersion(KeyProduce, sel)
		checkFuzzRoundTrip[ProduceResponse](t, data, v)

		// Decoding into a value that already holds a response must give
		// what a fresh decode gives, or fail the same way.
		var fresh ProduceResponse
		errFresh := DecodeMessage(&fresh, data, v)
		reused := randProduceResponse(newRand(uint64(len(data))), 12)
		errReused := DecodeMessage(&reused, data, v)
		require.Equal(t, errFresh, errReused)
		if errFresh == nil {
			require.Equal(t, normProduceResponse(fresh), normProduceResponse(reused))
		}
	})
}

// TestDecodeHostileLengths feeds every decoder length prefixes far beyond
// the input. Each must fail with ErrMalformed and allocate next to nothing:
// lengths are checked against the bytes present before any make.
func TestDecodeHostileLengths(t *testing.T) {
	tests := []struct {
		name string
		msg  func() Message
		v    int16
		hex  string
	}{
		{"produce request topic count 2^31-1", func() Message { return new(ProduceRequest) }, 3,
			"ffff ffff 00000000 7fffffff 0001 74"},
		{"produce request records length 2^31-1", func() Message { return new(ProduceRequest) }, 3,
			"ffff ffff 00000000 00000001 0001 74 00000001 00000000 7fffffff dead"},
		{"produce request compact topic count 2^32-2", func() Message { return new(ProduceRequest) }, 9,
			"00 ffff 00000000 ffffffff0f 02 74"},
		{"produce request compact records 2^32-2", func() Message { return new(ProduceRequest) }, 9,
			"00 ffff 00000000 02 0274 02 00000000 ffffffff0f dead"},
		{"produce request string length 32767", func() Message { return new(ProduceRequest) }, 3,
			"7fff 7478"},
		{"produce response topic count 2^31-1", func() Message { return new(ProduceResponse) }, 8,
			"7fffffff 0000"},
		{"produce response partition count 2^31-1", func() Message { return new(ProduceResponse) }, 8,
			"00000001 0001 74 7fffffff 00"},
		{"produce response record errors 2^31-1", func() Message { return new(ProduceResponse) }, 8,
			"00000001 0001 74 00000001 00000000 0000 0000000000000000 ffffffffffffffff ffffffffffffffff 7fffffff 00"},
		{"produce response node endpoints tag 2^32-2", func() Message { return new(ProduceResponse) }, 10,
			"01 00000000 01 00 06 ffffffff0f 00"}, // no topics, throttle, tag 0 of 6 bytes
		{"metadata response broker count 2^31-1", func() Message { return NewMetadataResponse() }, 1,
			"7fffffff 00"},
		{"metadata response replica count beyond input", func() Message { return NewMetadataResponse() }, 0,
			// one topic, one partition, replicas claiming 1000 int32s
			// with 1003 bytes short: the count fits the remaining bytes
			// but count*4 does not.
			"00000000 00000001 0000 0001 74 00000001 0000 00000000 00000000 000003e8" + hostileFill(1000)},
		{"metadata request topic count 2^31-1", func() Message { return new(MetadataRequest) }, 1,
			"7fffffff 00"},
		{"apiversions response key count 2^31-1", func() Message { return NewAPIVersionsResponse() }, 0,
			"0000 7fffffff 0000"},
		{"apiversions response compact key count", func() Message { return NewAPIVersionsResponse() }, 3,
			"0000 ffffffff0f 0000"},
		{"apiversions tag size beyond input", func() Message { return NewAPIVersionsResponse() }, 3,
			"0000 01 00000000 01 00 ffffffff0f 00"},
		{"apiversions request name length", func() Message { return new(APIVersionsRequest) }, 3,
			"ffffffff0f 61"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustHex(t, tt.hex)
			var err error
			allocs := testing.AllocsPerRun(10, func() {
				err = DecodeMessage(tt.msg(), b, tt.v)
			})
			require.ErrorIs(t, err, ErrMalformed)
			// A few small allocations (the message, the error) are fine;
			// a slice sized from the hostile length would be one huge one,
			// which the byte bound below catches.
			require.LessOrEqual(t, allocs, 10.0)
			require.Less(t, allocBytes(func() { _ = DecodeMessage(tt.msg(), b, tt.v) }), uint64(64<<10))
		})
	}
}

// hostileFill returns n zero bytes as hex.
func hostileFill(n int) string { return strings.Repeat("00", n) }

// allocBytes returns how many heap bytes fn allocates.
func allocBytes(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
