package protocol

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/internal/compress"
)

// btRecord is a record as a producer hands it to the builder.
type btRecord struct {
	ts         int64
	key, value []byte
	headers    []Header
}

// btCodecs lists every codec with a default-level compressor (nil for none).
func btCodecs(t testing.TB) []*compress.Compressor {
	t.Helper()
	out := []*compress.Compressor{nil}
	for _, c := range []compress.Codec{compress.Gzip, compress.Snappy, compress.LZ4, compress.Zstd} {
		cp, err := compress.NewCompressor(c, 0)
		require.NoError(t, err)
		out = append(out, cp)
	}
	return out
}

func btCodecName(c *compress.Compressor) string { return c.Codec().String() }

// btBuild builds a batch of recs with opts into a buffer of capacity cap.
func btBuild(t testing.TB, recs []btRecord, opts BatchOptions, capacity int) []byte {
	t.Helper()
	var b BatchBuilder
	b.Reset(make([]byte, 0, capacity))
	for _, r := range recs {
		b.Append(r.ts, r.key, r.value, r.headers)
	}
	out, err := b.Close(opts)
	require.NoError(t, err)
	return out
}

// btRequireRecords checks that got holds exactly recs, nulls included.
func btRequireRecords(t testing.TB, recs []btRecord, got RecordBatch) {
	t.Helper()
	require.Len(t, got.Records, len(recs))
	require.EqualValues(t, len(recs), got.NumRecords)
	for i, want := range recs {
		r := got.Records[i]
		require.Equal(t, int8(0), r.Attributes, "record %d attributes", i)
		require.Equal(t, want.ts-got.BaseTimestamp, r.TimestampDelta, "record %d timestamp delta", i)
		require.EqualValues(t, i, r.OffsetDelta, "record %d offset delta", i)
		btRequireBytes(t, want.key, r.Key, fmt.Sprintf("record %d key", i))
		btRequireBytes(t, want.value, r.Value, fmt.Sprintf("record %d value", i))
		require.Len(t, r.Headers, len(want.headers), "record %d headers", i)
		for j, h := range want.headers {
			require.Equal(t, h.Key, r.Headers[j].Key, "record %d header %d key", i, j)
			btRequireBytes(t, h.Value, r.Headers[j].Value, fmt.Sprintf("record %d header %d value", i, j))
		}
	}
}

// btRequireBytes compares bytes and nullness: nil (null) is not empty.
func btRequireBytes(t testing.TB, want, got []byte, what string) {
	t.Helper()
	require.Equal(t, want == nil, got == nil, "%s: null mismatch (want nil=%v)", what, want == nil)
	require.True(t, bytes.Equal(want, got), "%s: want %q, got %q", what, want, got)
}

// btCases are batches of varied shape, shared by the round-trip and oracle
// tests.
func btCases() []struct {
	name string
	recs []btRecord
} {
	big := bytes.Repeat([]byte("0123456789abcdef"), 10_000) // 160 KB: multi-block lz4, multi-chunk snappy
	hdrs := []Header{{Key: "h1", Value: []byte("v1")}, {Key: "", Value: nil}, {Key: "empty", Value: []byte{}}}
	many := make([]btRecord, 300)
	for i := range many {
		many[i] = btRecord{ts: 1_700_000_000_000 + int64(i%7)*1000 - 3000, key: []byte(fmt.Sprintf("key-%d", i)), value: []byte(strings.Repeat("v", i))}
	}
	return []struct {
		name string
		recs []btRecord
	}{
		{"one record", []btRecord{{ts: 1_700_000_000_000, key: []byte("k"), value: []byte("v")}}},
		{"null key and value", []btRecord{{ts: 5, key: nil, value: nil}}},
		{"empty key and value", []btRecord{{ts: 5, key: []byte{}, value: []byte{}}}},
		{"headers with null and empty values", []btRecord{{ts: 1, key: []byte("k"), value: []byte("v"), headers: hdrs}, {ts: 2, value: []byte("x"), headers: hdrs[:1]}}},
		{"timestamps out of order", []btRecord{{ts: 1000, value: []byte("a")}, {ts: 400, value: []byte("b")}, {ts: 5000, value: []byte("c")}, {ts: 4000, value: []byte("d")}}},
		{"extreme timestamps", []btRecord{{ts: math.MaxInt64 / 2, value: []byte("a")}, {ts: -math.MaxInt64 / 2, value: []byte("b")}}},
		{"large value", []btRecord{{ts: 9, key: []byte("big"), value: big}}},
		{"300 records", many},
	}
}

func TestBatchRoundTrip(t *testing.T) {
	optsCases := []struct {
		name string
		opts BatchOptions
	}{
		{"plain", BatchOptions{ProducerID: NoProducerID, ProducerEpoch: NoProducerEpoch, BaseSequence: NoSequence}},
		{"idempotent", BatchOptions{ProducerID: 1 << 40, ProducerEpoch: 7, BaseSequence: math.MaxInt32 - 5}},
		{"transactional", BatchOptions{ProducerID: 12, ProducerEpoch: 0, BaseSequence: 0, Transactional: true}},
	}
	for _, c := range btCases() {
		for _, comp := range btCodecs(t) {
			for _, oc := range optsCases {
				t.Run(c.name+"/"+btCodecName(comp)+"/"+oc.name, func(t *testing.T) {
					opts := oc.opts
					opts.Compressor = comp
					batch := btBuild(t, c.recs, opts, 64)
					got, n, err := ReadBatch(batch)
					require.NoError(t, err)
					require.Equal(t, len(batch), n)
					require.EqualValues(t, 0, got.BaseOffset)
					require.EqualValues(t, len(batch)-12, got.Length)
					require.EqualValues(t, -1, got.PartitionLeaderEpoch)
					require.EqualValues(t, 2, got.Magic)
					require.EqualValues(t, len(c.recs)-1, got.LastOffsetDelta)
					require.Equal(t, c.recs[0].ts, got.BaseTimestamp)
					maxTS := c.recs[0].ts
					for _, r := range c.recs {
						maxTS = max(maxTS, r.ts)
					}
					require.Equal(t, maxTS, got.MaxTimestamp)
					require.Equal(t, opts.ProducerID, got.ProducerID)
					require.Equal(t, opts.ProducerEpoch, got.ProducerEpoch)
					require.Equal(t, opts.BaseSequence, got.BaseSequence)
					require.Equal(t, opts.Transactional, got.Transactional())
					require.False(t, got.Control())
					require.Equal(t, got.Attributes&^int16(0x17), int16(0), "only codec and transactional bits may be set")
					btRequireRecords(t, c.recs, got)
					if got.Codec() != compress.None {
						require.Equal(t, comp.Codec(), got.Codec())
					}
				})
			}
		}
	}
}

// TestBatchCompressionKeptOnlyWhenSmaller checks both outcomes of the
// "keep the compressed form only if smaller" rule.
func TestBatchCompressionKeptOnlyWhenSmaller(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 4000)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	text := bytes.Repeat([]byte(`{"user":"alice","action":"click"} `), 100)
	for _, comp := range btCodecs(t)[1:] {
		for _, tc := range []struct {
			name      string
			value     []byte
			wantCodec compress.Codec
		}{
			{"compressible", text, comp.Codec()},
			{"incompressible", noise, compress.None},
		} {
			t.Run(btCodecName(comp)+"/"+tc.name, func(t *testing.T) {
				recs := []btRecord{{ts: 1, key: []byte("k"), value: tc.value}}
				var plain BatchBuilder
				plain.Reset(nil)
				plain.Append(1, []byte("k"), tc.value, nil)
				plainLen := plain.Len()

				batch := btBuild(t, recs, BatchOptions{Compressor: comp}, 0)
				got, _, err := ReadBatch(batch)
				require.NoError(t, err)
				require.Equal(t, tc.wantCodec, got.Codec())
				if tc.wantCodec == compress.None {
					require.Equal(t, plainLen, len(batch))
				} else {
					require.Less(t, len(batch), plainLen)
				}
				btRequireRecords(t, recs, got)
			})
		}
	}
}

func TestRecordSize(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 20_000) // 3-byte varint lengths
	headers := []Header{{Key: "a", Value: nil}, {Key: strings.Repeat("k", 200), Value: long[:300]}, {Key: "", Value: []byte{}}}
	shapes := []struct {
		name       string
		key, value []byte
		headers    []Header
	}{
		{"nulls", nil, nil, nil},
		{"empties", []byte{}, []byte{}, []Header{}},
		{"small", []byte("key"), []byte("value"), nil},
		{"long value", []byte("k"), long, nil},
		{"headers", []byte("k"), []byte("v"), headers},
		{"long everything", long[:5000], long, headers},
	}
	deltas := []struct {
		ts  int64
		off int32
	}{
		{0, 0}, {1, 1}, {-1, 63}, {63, 64}, {-64, 8191}, {1 << 20, 1 << 20},
		{math.MaxInt64, math.MaxInt32}, {math.MinInt64, math.MinInt32},
	}
	for _, s := range shapes {
		for _, d := range deltas {
			t.Run(fmt.Sprintf("%s/ts=%d/off=%d", s.name, d.ts, d.off), func(t *testing.T) {
				enc := appendRecord(nil, d.ts, d.off, s.key, s.value, s.headers)
				require.Equal(t, len(enc), RecordSize(d.ts, d.off, s.key, s.value, s.headers))
				require.GreaterOrEqual(t, EstimateRecordSize(s.key, s.value, s.headers), len(enc))
				// The length prefix counts exactly the bytes after it.
				l, n := binary.Varint(enc)
				require.Positive(t, n)
				require.EqualValues(t, len(enc)-n, l)
			})
		}
	}
}

// TestBatchBuilderGrowsBuffer checks that Append and Reset cope with a
// buffer too small for the batch (they grow it, as append does).
func TestBatchBuilderGrowsBuffer(t *testing.T) {
	for _, capacity := range []int{0, 10, BatchHeaderSize, BatchHeaderSize + 5, 4096} {
		t.Run(fmt.Sprint(capacity), func(t *testing.T) {
			recs := []btRecord{{ts: 3, key: []byte("key"), value: bytes.Repeat([]byte("v"), 500)}, {ts: 4, value: []byte("w")}}
			batch := btBuild(t, recs, BatchOptions{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}, capacity)
			got, _, err := ReadBatch(batch)
			require.NoError(t, err)
			btRequireRecords(t, recs, got)
		})
	}
}

func TestBatchBuilderLifecycle(t *testing.T) {
	t.Run("reset reuses the buffer", func(t *testing.T) {
		buf := make([]byte, 0, 1024)
		var b BatchBuilder
		b.Reset(buf)
		b.Append(10, []byte("a"), []byte("b"), nil)
		first, err := b.Close(BatchOptions{})
		require.NoError(t, err)
		require.Same(t, &buf[:1][0], &first[0])
		b.Reset(first)
		require.Equal(t, BatchHeaderSize, b.Len())
		require.Equal(t, 0, b.NumRecords())
		require.EqualValues(t, -1, b.BaseTimestamp())
		b.Append(20, nil, []byte("c"), nil)
		require.Equal(t, 1, b.NumRecords())
		require.EqualValues(t, 20, b.BaseTimestamp())
		require.Same(t, &buf[:1][0], &b.Bytes()[0])
		second, err := b.Close(BatchOptions{})
		require.NoError(t, err)
		got, _, err := ReadBatch(second)
		require.NoError(t, err)
		btRequireRecords(t, []btRecord{{ts: 20, value: []byte("c")}}, got)
	})
	t.Run("len tracks record sizes", func(t *testing.T) {
		var b BatchBuilder
		b.Reset(nil)
		want := BatchHeaderSize
		for i := range 5 {
			ts := int64(100 + i*3)
			want += RecordSize(ts-100, int32(i), []byte("k"), []byte("value"), nil)
			b.Append(ts, []byte("k"), []byte("value"), nil)
			require.Equal(t, want, b.Len())
		}
	})
	t.Run("close twice returns the same batch", func(t *testing.T) {
		var b BatchBuilder
		b.Reset(nil)
		b.Append(1, nil, []byte("v"), nil)
		gz, err := compress.NewCompressor(compress.Gzip, 0)
		require.NoError(t, err)
		one, err := b.Close(BatchOptions{Compressor: gz})
		require.NoError(t, err)
		two, err := b.Close(BatchOptions{Compressor: gz, ProducerID: 99})
		require.NoError(t, err)
		require.Equal(t, one, two)
	})
	t.Run("append after close panics", func(t *testing.T) {
		var b BatchBuilder
		b.Reset(nil)
		_, err := b.Close(BatchOptions{})
		require.NoError(t, err)
		require.Panics(t, func() { b.Append(1, nil, nil, nil) })
	})
	t.Run("zero value closes to an empty batch", func(t *testing.T) {
		var b BatchBuilder
		batch, err := b.Close(BatchOptions{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
		require.NoError(t, err)
		require.Len(t, batch, BatchHeaderSize)
		got, _, err := ReadBatch(batch)
		require.NoError(t, err)
		require.EqualValues(t, 0, got.NumRecords)
		require.EqualValues(t, -1, got.LastOffsetDelta)
		require.EqualValues(t, -1, got.BaseTimestamp)
	})
}

// TestCRC32CAnchor pins the checksum to the standard CRC-32C check value,
// so a wrong polynomial cannot hide behind a self-consistent round trip.
func TestCRC32CAnchor(t *testing.T) {
	require.Equal(t, uint32(0xE3069283), crc32.Checksum([]byte("123456789"), castagnoli))
}

// TestBatchKnownVector compares a batch byte for byte with one written out
// by hand from the v2 format, CRC included.
func TestBatchKnownVector(t *testing.T) {
	var b BatchBuilder
	b.Reset(nil)
	b.Append(1_000, []byte("k"), []byte("hello"), nil)
	b.Append(1_002, nil, []byte("v"), []Header{{Key: "h", Value: nil}})
	got, err := b.Close(BatchOptions{ProducerID: 5, ProducerEpoch: 1, BaseSequence: 10})
	require.NoError(t, err)

	want := strings.Join([]string{
		"0000000000000000", // base offset 0
		"00000049",         // length 73: 49 header bytes after this field + 13 + 11
		"ffffffff",         // partition leader epoch -1
		"02",               // magic
		"183a009c",         // CRC-32C (checked with an independent bitwise CRC-32C) of everything from attributes on
		"0000",             // attributes: no codec, create time
		"00000001",         // last offset delta 1
		"00000000000003e8", // base timestamp 1000
		"00000000000003ea", // max timestamp 1002
		"0000000000000005", // producer id 5
		"0001",             // epoch 1
		"0000000a",         // base sequence 10
		"00000002",         // 2 records
		// record 0: body len 12, attrs 0, ts delta 0, offset delta 0,
		// key len 1 "k", value len 5 "hello", 0 headers
		"18" + "00" + "00" + "00" + "02" + "6b" + "0a" + "68656c6c6f" + "00",
		// record 1: body len 10, attrs 0, ts delta 2, offset delta 1, key null,
		// value len 1 "v", 1 header: key len 1 "h", value null
		"14" + "00" + "04" + "02" + "01" + "02" + "76" + "02" + "02" + "68" + "01",
	}, "")
	require.Equal(t, want, hex.EncodeToString(got))
	require.Equal(t, uint32(0x183a009c), binary.BigEndian.Uint32(got[offCRC:]))
}

func TestRestampBatch(t *testing.T) {
	recs := []btRecord{{ts: 1, key: []byte("a"), value: []byte("b")}, {ts: 2, value: []byte("c")}}
	for _, comp := range btCodecs(t) {
		t.Run(btCodecName(comp), func(t *testing.T) {
			batch := btBuild(t, recs, BatchOptions{ProducerID: 1, ProducerEpoch: 2, BaseSequence: 3, Compressor: comp}, 0)
			before := append([]byte(nil), batch...)
			require.NoError(t, RestampBatch(batch, 777, 9, 1000))
			got, _, err := ReadBatch(batch)
			require.NoError(t, err, "CRC must be valid after restamping")
			require.EqualValues(t, 777, got.ProducerID)
			require.EqualValues(t, 9, got.ProducerEpoch)
			require.EqualValues(t, 1000, got.BaseSequence)
			btRequireRecords(t, recs, got)
			// Only the three fields and the CRC changed.
			for i := range batch {
				inField := (i >= offCRC && i < offAttributes) || (i >= offProducerID && i < offRecordCount)
				if !inField {
					require.Equal(t, before[i], batch[i], "byte %d changed", i)
				}
			}
			// Restamping back restores the original bytes exactly.
			require.NoError(t, RestampBatch(batch, 1, 2, 3))
			require.Equal(t, before, batch)
		})
	}
}

func TestRestampBatchRejects(t *testing.T) {
	good := btBuild(t, []btRecord{{ts: 1, value: []byte("v")}}, BatchOptions{}, 0)
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for _, tc := range []struct {
		name  string
		batch []byte
	}{
		{"empty", nil},
		{"short", good[:BatchHeaderSize-1]},
		{"truncated", good[:len(good)-1]},
		{"trailing byte", append(append([]byte(nil), good...), 0)},
		{"magic 1", mutate(func(b []byte) []byte { b[offMagic] = 1; return b })},
		{"negative length", mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[offLength:], 0xffffffff); return b })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := append([]byte(nil), tc.batch...)
			err := RestampBatch(tc.batch, 1, 1, 1)
			require.ErrorIs(t, err, ErrMalformed)
			require.Equal(t, before, tc.batch, "a rejected batch must not be modified")
		})
	}
}

// btPoolsRetain reports whether a sync.Pool hands back what was just put
// into it. Under the race detector Put drops items at random, so pooled
// allocation counts are only meaningful when this holds.
func btPoolsRetain() bool {
	var p sync.Pool
	for range 64 {
		x := new(int)
		p.Put(x)
		if p.Get() != x {
			return false
		}
	}
	return true
}

func TestBatchAllocs(t *testing.T) {
	key := []byte("key-000001")
	value := bytes.Repeat([]byte("x"), 100)
	headers := []Header{{Key: "trace", Value: []byte("abc")}}
	t.Run("append with room", func(t *testing.T) {
		var b BatchBuilder
		buf := make([]byte, 0, 1<<20)
		b.Reset(buf)
		allocs := testing.AllocsPerRun(1000, func() {
			if b.Len()+EstimateRecordSize(key, value, headers) > cap(buf) {
				b.Reset(buf)
			}
			b.Append(1_700_000_000_000, key, value, headers)
		})
		require.Zero(t, allocs)
	})
	t.Run("record size", func(t *testing.T) {
		allocs := testing.AllocsPerRun(1000, func() {
			_ = RecordSize(5, 9, key, value, headers) + EstimateRecordSize(key, value, headers)
		})
		require.Zero(t, allocs)
	})
	t.Run("reset append close restamp", func(t *testing.T) {
		var b BatchBuilder
		buf := make([]byte, 0, 64<<10)
		allocs := testing.AllocsPerRun(200, func() {
			b.Reset(buf)
			for range 100 {
				b.Append(1_700_000_000_000, key, value, headers)
			}
			out, err := b.Close(BatchOptions{ProducerID: 1, ProducerEpoch: 1, BaseSequence: 1})
			if err != nil {
				panic(err)
			}
			if err := RestampBatch(out, 2, 2, 2); err != nil {
				panic(err)
			}
		})
		require.Zero(t, allocs)
	})
	for _, comp := range btCodecs(t)[1:] {
		t.Run("close with "+btCodecName(comp), func(t *testing.T) {
			var b BatchBuilder
			buf := make([]byte, 0, 64<<10)
			run := func() {
				b.Reset(buf)
				for range 100 {
					b.Append(1_700_000_000_000, key, value, headers)
				}
				if _, err := b.Close(BatchOptions{Compressor: comp}); err != nil {
					panic(err)
				}
			}
			run() // warm the pools
			allocs := testing.AllocsPerRun(100, run)
			t.Logf("%s: %.2f allocs per Close", btCodecName(comp), allocs)
			if !btPoolsRetain() {
				t.Skip("sync.Pool drops items on purpose under the race detector; run without -race for the count")
			}
			// Pooled encoders and scratch: nothing per batch in steady
			// state (a GC may empty a pool now and then; allow for it).
			require.LessOrEqual(t, allocs, 1.0)
		})
	}
}

// btFuzzRecords turns fuzz bytes into records: each record takes a flags
// byte (null key, null value, header count), a signed timestamp step and
// lengths, with contents sliced from the input.
func btFuzzRecords(data []byte, baseTS int64) []btRecord {
	take := func(n int) []byte {
		n = min(n, len(data))
		b := data[:n:n]
		data = data[n:]
		return b
	}
	byteOr0 := func() int {
		if b := take(1); len(b) == 1 {
			return int(b[0])
		}
		return 0
	}
	var recs []btRecord
	ts := baseTS
	for len(data) > 0 && len(recs) < 200 {
		flags := byteOr0()
		ts += int64(int8(byteOr0())) * 977
		r := btRecord{ts: ts}
		if flags&1 == 0 {
			r.key = append([]byte{}, take(byteOr0()%40)...)
		}
		if flags&2 == 0 {
			r.value = append([]byte{}, take(byteOr0()*3)...)
		}
		for range (flags >> 2) & 3 {
			h := Header{Key: string(take(byteOr0() % 8))}
			if flags&0x10 == 0 {
				h.Value = append([]byte{}, take(byteOr0()%16)...)
			}
			r.headers = append(r.headers, h)
		}
		recs = append(recs, r)
	}
	return recs
}

// FuzzBatchRoundTrip: fuzz-generated records → build (any codec) → read →
// the same records, and the builder's Len agrees with RecordSize.
func FuzzBatchRoundTrip(f *testing.F) {
	f.Add([]byte("hello world, this is a record"), uint8(0), int64(1_700_000_000_000))
	f.Add(bytes.Repeat([]byte{0, 5, 10, 'k', 50, 'v'}, 40), uint8(1), int64(0))
	f.Add([]byte{0x1f, 0x80, 3, 'a', 'b', 'c', 0, 2, 'h'}, uint8(4), int64(-1))
	f.Add([]byte{3, 0x7f}, uint8(3), int64(math.MaxInt64))
	comps := btCodecs(f)
	f.Fuzz(func(t *testing.T, data []byte, codec uint8, baseTS int64) {
		recs := btFuzzRecords(data, baseTS)
		if len(recs) == 0 {
			return
		}
		comp := comps[int(codec)%len(comps)]
		var b BatchBuilder
		b.Reset(nil)
		size := BatchHeaderSize
		for i, r := range recs {
			size += RecordSize(r.ts-recs[0].ts, int32(i), r.key, r.value, r.headers)
			b.Append(r.ts, r.key, r.value, r.headers)
		}
		if b.Len() != size {
			t.Fatalf("Len %d, RecordSize sum %d", b.Len(), size)
		}
		out, err := b.Close(BatchOptions{ProducerID: 7, ProducerEpoch: 1, BaseSequence: int32(len(data)), Compressor: comp})
		if err != nil {
			t.Fatal(err)
		}
		got, n, err := ReadBatch(out)
		if err != nil {
			t.Fatal(err)
		}
		if n != len(out) {
			t.Fatalf("consumed %d of %d", n, len(out))
		}
		btRequireRecords(t, recs, got)
	})
}
