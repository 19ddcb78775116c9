package protocol

// These tests check the batch codec against an implementation we did not
// write: franz-go's kmsg parses and builds the v2 batch framing and each
// record, hash/crc32 computes the CRC, and the codec libraries are called
// directly (not through internal/compress) to compress and decompress the
// records section. Agreement in both directions, for every codec, is the
// evidence that our bytes are what Kafka expects.

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-go/tributary/internal/compress"
)

var boCastagnoli = crc32.MakeTable(crc32.Castagnoli)

// boRandomRecords returns n records with random nullness, sizes, headers
// and timestamps around base.
func boRandomRecords(rng *rand.Rand, n int, base int64) []btRecord {
	bytesOrNull := func(max int) []byte {
		switch rng.IntN(5) {
		case 0:
			return nil
		case 1:
			return []byte{}
		}
		b := make([]byte, rng.IntN(max)+1)
		for i := range b {
			b[i] = "abcdefgh{}\":,0123"[rng.IntN(17)] // compressible-ish
		}
		return b
	}
	recs := make([]btRecord, n)
	for i := range recs {
		r := &recs[i]
		r.ts = base + rng.Int64N(200_000) - 100_000
		r.key = bytesOrNull(30)
		r.value = bytesOrNull(600)
		for range rng.IntN(4) {
			r.headers = append(r.headers, Header{Key: string(bytesOrNull(10)), Value: bytesOrNull(20)})
		}
	}
	return recs
}

// boDecompress decompresses with the codec libraries directly, never via
// internal/compress, so a bug shared by our encoder and decoder shows.
func boDecompress(t *testing.T, c compress.Codec, src []byte) []byte {
	t.Helper()
	switch c {
	case compress.None:
		return src
	case compress.Gzip:
		r, err := stdgzip.NewReader(bytes.NewReader(src))
		require.NoError(t, err)
		out, err := io.ReadAll(r)
		require.NoError(t, err)
		return out
	case compress.Snappy:
		require.True(t, bytes.HasPrefix(src, []byte("\x82SNAPPY\x00")), "we write xerial framing")
		require.Equal(t, []byte{0, 0, 0, 1, 0, 0, 0, 1}, src[8:16], "xerial version and compat")
		var out []byte
		for rest := src[16:]; len(rest) > 0; {
			n := int(binary.BigEndian.Uint32(rest))
			chunk, err := snappy.Decode(nil, rest[4:4+n])
			require.NoError(t, err)
			out = append(out, chunk...)
			rest = rest[4+n:]
		}
		return out
	case compress.LZ4:
		out, err := io.ReadAll(lz4.NewReader(bytes.NewReader(src)))
		require.NoError(t, err)
		return out
	case compress.Zstd:
		d, err := zstd.NewReader(nil)
		require.NoError(t, err)
		defer d.Close()
		out, err := d.DecodeAll(src, nil)
		require.NoError(t, err)
		return out
	}
	t.Fatalf("codec %v", c)
	return nil
}

// boSplitRecords cuts a records section into one slice per record using
// encoding/binary's varint, for kmsg.Record.ReadFrom (which wants exactly
// one record).
func boSplitRecords(t *testing.T, section []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(section) > 0 {
		l, n := binary.Varint(section)
		require.Positive(t, n)
		end := n + int(l)
		require.LessOrEqual(t, end, len(section))
		out = append(out, section[:end])
		section = section[end:]
	}
	return out
}

// TestBatchOracleOursToKmsg: our builder → kmsg and the libraries.
func TestBatchOracleOursToKmsg(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	type tcase struct {
		name string
		recs []btRecord
	}
	var cases []tcase
	for _, c := range btCases() {
		cases = append(cases, tcase{c.name, c.recs})
	}
	for i, n := range []int{1, 2, 17, 250} {
		cases = append(cases, tcase{fmt.Sprintf("random %d/%d records", i, n), boRandomRecords(rng, n, 1_700_000_000_000)})
	}
	for _, tc := range cases {
		for _, comp := range btCodecs(t) {
			t.Run(tc.name+"/"+btCodecName(comp), func(t *testing.T) {
				opts := BatchOptions{ProducerID: 4242, ProducerEpoch: 3, BaseSequence: 99, Transactional: rng.IntN(2) == 0, Compressor: comp}
				batch := btBuild(t, tc.recs, opts, 0)

				var kb kmsg.RecordBatch
				require.NoError(t, kb.ReadFrom(batch))
				require.EqualValues(t, 0, kb.FirstOffset)
				require.EqualValues(t, len(batch)-12, kb.Length)
				require.EqualValues(t, -1, kb.PartitionLeaderEpoch)
				require.EqualValues(t, 2, kb.Magic)
				require.Equal(t, crc32.Checksum(batch[21:], boCastagnoli), uint32(kb.CRC), "CRC-32C over attributes..end")
				wantAttrs := int16(0)
				if opts.Transactional {
					wantAttrs |= 0x10
				}
				codec := compress.Codec(kb.Attributes & 7)
				if codec != compress.None {
					require.Equal(t, comp.Codec(), codec)
				}
				require.Equal(t, wantAttrs, kb.Attributes&^7)
				require.EqualValues(t, len(tc.recs)-1, kb.LastOffsetDelta)
				require.Equal(t, tc.recs[0].ts, kb.FirstTimestamp)
				maxTS := tc.recs[0].ts
				for _, r := range tc.recs {
					maxTS = max(maxTS, r.ts)
				}
				require.Equal(t, maxTS, kb.MaxTimestamp)
				require.EqualValues(t, 4242, kb.ProducerID)
				require.EqualValues(t, 3, kb.ProducerEpoch)
				require.EqualValues(t, 99, kb.FirstSequence)
				require.EqualValues(t, len(tc.recs), kb.NumRecords)
				require.Equal(t, batch, kb.AppendTo(nil), "kmsg re-encodes our batch byte for byte")

				raw := boSplitRecords(t, boDecompress(t, codec, kb.Records))
				require.Len(t, raw, len(tc.recs))
				for i, want := range tc.recs {
					var kr kmsg.Record
					require.NoError(t, kr.ReadFrom(raw[i]), "record %d", i)
					require.EqualValues(t, 0, kr.Attributes)
					require.Equal(t, want.ts-tc.recs[0].ts, kr.TimestampDelta64, "record %d", i)
					require.EqualValues(t, i, kr.OffsetDelta)
					btRequireBytes(t, want.key, kr.Key, fmt.Sprintf("record %d key", i))
					btRequireBytes(t, want.value, kr.Value, fmt.Sprintf("record %d value", i))
					require.Len(t, kr.Headers, len(want.headers))
					for j, h := range want.headers {
						require.Equal(t, h.Key, kr.Headers[j].Key)
						btRequireBytes(t, h.Value, kr.Headers[j].Value, fmt.Sprintf("record %d header %d", i, j))
					}
				}
			})
		}
	}
}

// boCompress compresses with the libraries directly, in the framings other
// producers write: raw and xerial snappy, lz4 with its library defaults
// (4 MiB blocks, content checksum), stdlib gzip, plain zstd.
func boCompress(t *testing.T, variant string, src []byte) (compress.Codec, []byte) {
	t.Helper()
	switch variant {
	case "none":
		return compress.None, src
	case "gzip":
		var buf bytes.Buffer
		w := stdgzip.NewWriter(&buf)
		_, err := w.Write(src)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		return compress.Gzip, buf.Bytes()
	case "snappy-raw":
		return compress.Snappy, snappy.Encode(nil, src)
	case "snappy-xerial":
		out := []byte("\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01")
		for len(src) > 0 {
			chunk := src[:min(len(src), 1000)] // odd chunk size on purpose
			src = src[len(chunk):]
			enc := snappy.Encode(nil, chunk)
			out = binary.BigEndian.AppendUint32(out, uint32(len(enc)))
			out = append(out, enc...)
		}
		return compress.Snappy, out
	case "lz4":
		var buf bytes.Buffer
		w := lz4.NewWriter(&buf)
		_, err := w.Write(src)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		return compress.LZ4, buf.Bytes()
	case "zstd":
		e, err := zstd.NewWriter(nil)
		require.NoError(t, err)
		defer e.Close()
		return compress.Zstd, e.EncodeAll(src, nil)
	}
	t.Fatalf("variant %s", variant)
	return 0, nil
}

// boKmsgBatch builds a batch with kmsg and the libraries, sealing the CRC
// with hash/crc32.
func boKmsgBatch(t *testing.T, recs []btRecord, variant string, pid int64, epoch int16, seq int32, attrsExtra int16) []byte {
	t.Helper()
	var section []byte
	maxTS := recs[0].ts
	for i, r := range recs {
		maxTS = max(maxTS, r.ts)
		kr := kmsg.Record{TimestampDelta64: r.ts - recs[0].ts, OffsetDelta: int32(i), Key: r.key, Value: r.value}
		for _, h := range r.headers {
			kr.Headers = append(kr.Headers, kmsg.Header{Key: h.Key, Value: h.Value})
		}
		// kmsg encodes Length as given: measure the body with a 1-byte
		// zero length, then encode for real.
		kr.Length = int32(len(kr.AppendTo(nil)) - 1)
		section = kr.AppendTo(section)
	}
	codec, blob := boCompress(t, variant, section)
	kb := kmsg.RecordBatch{
		FirstOffset:          0,
		Length:               int32(49 + len(blob)),
		PartitionLeaderEpoch: 17,
		Magic:                2,
		Attributes:           int16(codec) | attrsExtra,
		LastOffsetDelta:      int32(len(recs) - 1),
		FirstTimestamp:       recs[0].ts,
		MaxTimestamp:         maxTS,
		ProducerID:           pid,
		ProducerEpoch:        epoch,
		FirstSequence:        seq,
		NumRecords:           int32(len(recs)),
		Records:              blob,
	}
	out := kb.AppendTo(nil)
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], boCastagnoli))
	return out
}

// TestBatchOracleKmsgToOurs: kmsg and the libraries → our ReadBatch.
func TestBatchOracleKmsgToOurs(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	variants := []string{"none", "gzip", "snappy-raw", "snappy-xerial", "lz4", "zstd"}
	for _, n := range []int{1, 3, 120} {
		recs := boRandomRecords(rng, n, 1_600_000_000_000)
		for _, v := range variants {
			t.Run(fmt.Sprintf("%d records/%s", n, v), func(t *testing.T) {
				batch := boKmsgBatch(t, recs, v, 88, 4, 1234, 0x10)
				got, consumed, err := ReadBatch(batch)
				require.NoError(t, err)
				require.Equal(t, len(batch), consumed)
				require.EqualValues(t, 0, got.BaseOffset)
				require.EqualValues(t, 17, got.PartitionLeaderEpoch)
				require.EqualValues(t, len(batch)-12, got.Length)
				require.Equal(t, binary.BigEndian.Uint32(batch[17:]), got.CRC)
				require.True(t, got.Transactional())
				require.Equal(t, recs[0].ts, got.BaseTimestamp)
				require.EqualValues(t, 88, got.ProducerID)
				require.EqualValues(t, 4, got.ProducerEpoch)
				require.EqualValues(t, 1234, got.BaseSequence)
				require.EqualValues(t, n-1, got.LastOffsetDelta)
				btRequireRecords(t, recs, got)
			})
		}
	}
	t.Run("control batch", func(t *testing.T) {
		batch := boKmsgBatch(t, []btRecord{{ts: 5, key: []byte{0, 0, 0, 1}, value: []byte{0, 0, 0, 0, 0, 0}}}, "none", 1, 1, -1, 0x30)
		got, _, err := ReadBatch(batch)
		require.NoError(t, err)
		require.True(t, got.Control())
		require.True(t, got.Transactional())
	})
}

// TestBatchOracleRestamp: after RestampBatch, kmsg sees the new fields and
// an independent CRC-32C agrees with the stored one.
func TestBatchOracleRestamp(t *testing.T) {
	for _, comp := range btCodecs(t) {
		t.Run(btCodecName(comp), func(t *testing.T) {
			recs := boRandomRecords(rand.New(rand.NewPCG(1, 1)), 10, 1000)
			batch := btBuild(t, recs, BatchOptions{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, Compressor: comp}, 0)
			require.NoError(t, RestampBatch(batch, 31337, 12, 5000))
			var kb kmsg.RecordBatch
			require.NoError(t, kb.ReadFrom(batch))
			require.EqualValues(t, 31337, kb.ProducerID)
			require.EqualValues(t, 12, kb.ProducerEpoch)
			require.EqualValues(t, 5000, kb.FirstSequence)
			require.Equal(t, crc32.Checksum(batch[21:], boCastagnoli), uint32(kb.CRC))
		})
	}
}
