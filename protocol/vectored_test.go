package protocol

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestProduceRequestVectoredOracle: the vectored form of a Produce frame,
// flattened, is byte for byte the flat AppendRequest frame and the frame
// kmsg's own RequestFormatter builds for the same request; kmsg decodes its
// body back to the request; and every splice refers to the caller's Records
// (the same memory, not a copy) of at least min bytes, with nothing under
// min spliced.
func TestProduceRequestVectoredOracle(t *testing.T) {
	id := "cli"
	for _, v := range versionsOf(t, KeyProduce) {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			rng := newRand(uint64(v) + 1000)
			for i := range oracleIters {
				req := randProduceRequest(rng)
				min := []int{0, 1, 8, 20, 40, math.MaxInt}[i%6]
				h := RequestHeader{Key: KeyProduce, Version: v, CorrelationID: randInt32(rng), ClientID: &id}

				// A non-empty prefix in both buffers: offsets are absolute,
				// as in a writer's buffer that holds several requests.
				prefix := []byte{1, 2, 3}
				framing, sp := AppendRequestVectored(append([]byte(nil), prefix...), nil, h, &req, min)
				flat := AppendRequest(append([]byte(nil), prefix...), h, &req)
				got := Flatten(nil, framing, sp)
				require.Equal(t, flat, got, "flattened vectored frame (min %d) against the flat one", min)

				k := kmsg.NewPtrProduceRequest()
				k.SetVersion(v)
				k.TransactionID, k.Acks, k.TimeoutMillis = req.TransactionalID, req.Acks, req.TimeoutMillis
				for _, t := range req.Topics {
					kt := kmsg.NewProduceRequestTopic()
					kt.Topic = t.Name
					for _, p := range t.Partitions {
						kp := kmsg.NewProduceRequestTopicPartition()
						kp.Partition, kp.Records = p.Index, p.Records
						kt.Partitions = append(kt.Partitions, kp)
					}
					k.Topics = append(k.Topics, kt)
				}
				frame := got[len(prefix):]
				want := kmsg.NewRequestFormatter(kmsg.FormatterClientID(id)).AppendRequest(nil, k, h.CorrelationID)
				require.Equal(t, want, frame, "kmsg's frame for the same request (min %d)", min)

				require.Equal(t, len(frame)-4, int(binary.BigEndian.Uint32(frame)), "size field")
				var r Reader
				r.Reset(frame[4:])
				DecodeRequestHeader(&r)
				require.NoError(t, r.Err())
				dk := kmsg.NewPtrProduceRequest()
				decodeKmsg(t, dk, frame[4+r.Offset():], v)
				require.Equal(t, req, produceRequestFromKmsg(dk), "kmsg decoding the flattened v%d body", v)

				// Splices: in offset order, each one of the request's
				// Records slices by identity, and exactly those of >= min
				// bytes.
				var long [][]byte
				for _, t := range req.Topics {
					for _, p := range t.Partitions {
						if len(p.Records) > 0 && len(p.Records) >= min {
							long = append(long, p.Records)
						}
					}
				}
				require.Len(t, sp, len(long))
				last := len(prefix)
				for j, s := range sp {
					require.GreaterOrEqual(t, s.At, last)
					require.LessOrEqual(t, s.At, len(framing))
					last = s.At
					require.Equal(t, unsafe.SliceData(long[j]), unsafe.SliceData(s.Bytes), "splice %d must alias the batch, not copy it", j)
					require.Len(t, s.Bytes, len(long[j]))
				}
			}
		})
	}
}

// TestAppendRequestVectoredFallsBack: a body that is not a VectorAppender
// is encoded flat, with no splices.
func TestAppendRequestVectoredFallsBack(t *testing.T) {
	req := &MetadataRequest{}
	h := RequestHeader{Key: KeyMetadata, Version: 12, CorrelationID: 3}
	framing, sp := AppendRequestVectored(nil, nil, h, req, 0)
	require.Empty(t, sp)
	require.Equal(t, AppendRequest(nil, h, req), framing)
}

func TestProduceRequestVectoredAllocs(t *testing.T) {
	req := benchProduceRequest(3, 4, 512)
	for _, v := range versionsOf(t, KeyProduce) {
		buf := make([]byte, 0, 4<<10)
		sp := make([]Splice, 0, 16)
		h := RequestHeader{Key: KeyProduce, Version: v, CorrelationID: 1}
		allocs := testing.AllocsPerRun(100, func() { buf, sp = AppendRequestVectored(buf[:0], sp[:0], h, req, 256) })
		require.Zero(t, allocs, "AppendRequestVectored v%d allocations", v)
		require.Len(t, sp, 12)
	}
}

// BenchmarkProduceRequestEncodeVectored is BenchmarkProduceRequestEncode's
// request (32 batches of 1 KiB) encoded with the batches spliced: the
// framing only.
func BenchmarkProduceRequestEncodeVectored(b *testing.B) {
	req := benchProduceRequest(4, 8, 1024)
	h := RequestHeader{Key: KeyProduce, Version: 11, CorrelationID: 1}
	buf, sp := AppendRequestVectored(nil, nil, h, req, 512)
	b.SetBytes(int64(len(AppendRequest(nil, h, req))))
	b.ReportAllocs()
	for b.Loop() {
		buf, sp = AppendRequestVectored(buf[:0], sp[:0], h, req, 512)
	}
}
