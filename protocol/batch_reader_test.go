package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/internal/compress"
)

// btReseal recomputes a batch's CRC with hash/crc32 directly, so a test can
// corrupt a field behind the CRC and still reach the check it targets.
func btReseal(b []byte) []byte {
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

// btRawBatch assembles a batch by hand around an arbitrary records section.
func btRawBatch(attrs int16, count int32, section []byte) []byte {
	b := make([]byte, 61, 61+len(section))
	binary.BigEndian.PutUint32(b[8:], uint32(49+len(section)))
	binary.BigEndian.PutUint32(b[12:], 0xffffffff)
	b[16] = 2
	binary.BigEndian.PutUint16(b[21:], uint16(attrs))
	binary.BigEndian.PutUint32(b[23:], uint32(count-1))
	binary.BigEndian.PutUint64(b[43:], 0xffffffffffffffff)
	binary.BigEndian.PutUint16(b[51:], 0xffff)
	binary.BigEndian.PutUint32(b[53:], 0xffffffff)
	binary.BigEndian.PutUint32(b[57:], uint32(count))
	return btReseal(append(b, section...))
}

// btVarints zigzag-encodes values into a records section, for hand-made
// records.
func btVarints(vals ...int64) []byte {
	var out []byte
	for _, v := range vals {
		out = binary.AppendVarint(out, v)
	}
	return out
}

func TestReadBatchRejects(t *testing.T) {
	good := btBuild(t, []btRecord{{ts: 1, key: []byte("k"), value: []byte("v")}, {ts: 2, value: []byte("w")}}, BatchOptions{}, 0)
	clone := func() []byte { return append([]byte(nil), good...) }
	validRecord := append(btVarints(7), append(btVarints(0, 0, 0), append(btVarints(1), 'k')...)...)
	validRecord = append(validRecord, btVarints(-1, 0)...) // null value, no headers; body 7 bytes
	require.Len(t, validRecord, 8)

	for _, tc := range []struct {
		name  string
		batch []byte
		is    error // nil: ErrMalformed is enough
	}{
		{"empty", nil, nil},
		{"one byte short of a header", good[:60], nil},
		{"truncated", good[:len(good)-1], nil},
		{"length below header", func() []byte { b := clone(); binary.BigEndian.PutUint32(b[8:], 48); return b }(), nil},
		{"negative length", func() []byte { b := clone(); binary.BigEndian.PutUint32(b[8:], 0x80000000); return b }(), nil},
		{"magic 1", func() []byte { b := clone(); b[16] = 1; return b }(), nil},
		{"magic 3", func() []byte { b := clone(); b[16] = 3; return b }(), nil},
		{"flipped record byte", func() []byte { b := clone(); b[len(b)-1] ^= 1; return b }(), ErrCRCMismatch},
		{"flipped producer id", func() []byte { b := clone(); b[45] ^= 0x80; return b }(), ErrCRCMismatch},
		{"flipped attributes", func() []byte { b := clone(); b[22] ^= 0x10; return b }(), ErrCRCMismatch},
		{"codec 5", btRawBatch(5, 1, validRecord), nil},
		{"codec 7", btRawBatch(7, 1, validRecord), nil},
		{"gzip garbage", btRawBatch(int16(compress.Gzip), 1, []byte("not gzip at all")), compress.ErrCorrupt},
		{"zstd garbage", btRawBatch(int16(compress.Zstd), 1, []byte{1, 2, 3}), compress.ErrCorrupt},
		{"count above records", btRawBatch(0, 2, validRecord), nil},
		{"count below records", btRawBatch(0, 1, append(append([]byte(nil), validRecord...), validRecord...)), nil},
		{"count zero with bytes", btRawBatch(0, 0, validRecord), nil},
		{"negative count", btRawBatch(0, -1, validRecord), nil},
		{"huge count", btRawBatch(0, 1<<30, validRecord), nil},
		{"negative record length", btRawBatch(0, 1, append(btVarints(-3), validRecord[1:]...)), nil},
		{"record length past end", btRawBatch(0, 1, append(btVarints(9), validRecord[1:]...)), nil},
		{"record with a trailing byte", btRawBatch(0, 1, append(append(btVarints(8), validRecord[1:]...), 0)), nil},
		{"key length -2", btRawBatch(0, 1, append(btVarints(6, 0, 0, 0, -2, -1), 0)), nil},
		{"null header key", btRawBatch(0, 1, btVarints(8, 0, 0, 0, -1, -1, 1, -1, -1)), nil},
		{"header count -1", btRawBatch(0, 1, btVarints(6, 0, 0, 0, -1, -1, -1)), nil},
		{"header count beyond bytes", btRawBatch(0, 1, btVarints(6, 0, 0, 0, -1, -1, 100)), nil},
		{"truncated varint", btRawBatch(0, 1, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80}), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, n, err := ReadBatch(tc.batch)
			require.ErrorIs(t, err, ErrMalformed)
			require.Zero(t, n)
			if tc.is != nil {
				require.ErrorIs(t, err, tc.is)
			}
		})
	}
}

func TestReadBatchHandMadeRecords(t *testing.T) {
	// One record with every field set by hand: attrs 0, ts delta -5, offset
	// delta 3, key "ab", empty value, header "h" → null.
	body := append(btVarints(0), btVarints(-5, 3, 2)...)
	body = append(body, 'a', 'b')
	body = append(body, btVarints(0, 1, 1)...)
	body = append(body, 'h')
	body = append(body, btVarints(-1)...)
	section := append(btVarints(int64(len(body))), body...)
	got, _, err := ReadBatch(btRawBatch(0, 1, section))
	require.NoError(t, err)
	require.Len(t, got.Records, 1)
	r := got.Records[0]
	require.EqualValues(t, -5, r.TimestampDelta)
	require.EqualValues(t, 3, r.OffsetDelta)
	require.Equal(t, []byte("ab"), r.Key)
	require.NotNil(t, r.Value)
	require.Empty(t, r.Value)
	require.Equal(t, []Header{{Key: "h", Value: nil}}, r.Headers)
}

func TestReadBatchCRCError(t *testing.T) {
	b := btBuild(t, []btRecord{{ts: 1, value: []byte("v")}}, BatchOptions{}, 0)
	stored := binary.BigEndian.Uint32(b[17:])
	b[len(b)-1] ^= 0xff
	_, _, err := ReadBatch(b)
	var ce *CRCError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, stored, ce.Stored)
	require.Equal(t, crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)), ce.Computed)
	require.ErrorIs(t, err, ErrCRCMismatch)
	require.ErrorIs(t, err, ErrMalformed)
	require.False(t, errors.Is(&DecodeError{}, ErrCRCMismatch), "other malformations are not CRC errors")
}

// TestReadBatchLeaderEpochNotInCRC: the broker rewrites the partition
// leader epoch without re-sealing, so the CRC must not cover it.
func TestReadBatchLeaderEpochNotInCRC(t *testing.T) {
	b := btBuild(t, []btRecord{{ts: 1, value: []byte("v")}}, BatchOptions{}, 0)
	binary.BigEndian.PutUint32(b[12:], 42)
	got, _, err := ReadBatch(b)
	require.NoError(t, err)
	require.EqualValues(t, 42, got.PartitionLeaderEpoch)
}

func TestReadBatches(t *testing.T) {
	gz, err := compress.NewCompressor(compress.Gzip, 0)
	require.NoError(t, err)
	one := btBuild(t, []btRecord{{ts: 1, value: []byte("a")}}, BatchOptions{}, 0)
	two := btBuild(t, []btRecord{{ts: 2, value: []byte("b")}, {ts: 3, value: []byte("c")}}, BatchOptions{Compressor: gz}, 0)
	joined := append(append([]byte(nil), one...), two...)
	for _, tc := range []struct {
		name    string
		in      []byte
		want    []int // records per batch
		wantErr bool
		errAt   int
	}{
		{"none", nil, nil, false, 0},
		{"one", one, []int{1}, false, 0},
		{"two", joined, []int{1, 2}, false, 0},
		{"trailing garbage", append(append([]byte(nil), joined...), 1, 2, 3), []int{1, 2}, true, len(joined)},
		{"second truncated", joined[:len(joined)-3], []int{1}, true, len(one)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadBatches(tc.in)
			if tc.wantErr {
				require.ErrorIs(t, err, ErrMalformed)
				require.Contains(t, err.Error(), fmt.Sprintf("batch at byte %d", tc.errAt))
			} else {
				require.NoError(t, err)
			}
			require.Len(t, got, len(tc.want))
			for i, n := range tc.want {
				require.Len(t, got[i].Records, n)
			}
		})
	}
}

// btCompressors maps a codec to a default compressor, for rebuilding.
func btCompressors(t testing.TB) map[compress.Codec]*compress.Compressor {
	m := map[compress.Codec]*compress.Compressor{}
	for _, c := range btCodecs(t)[1:] {
		m[c.Codec()] = c
	}
	return m
}

// FuzzReadBatch: arbitrary bytes never panic; whatever parses survives a
// rebuild with our builder and a re-read with the same records.
func FuzzReadBatch(f *testing.F) {
	for _, comp := range btCodecs(f) {
		for _, c := range btCases()[:6] {
			f.Add(btBuild(f, c.recs, BatchOptions{ProducerID: 1, ProducerEpoch: 1, BaseSequence: 1, Compressor: comp}, 0))
		}
	}
	f.Add(btRawBatch(0, 1, btVarints(6, 0, 0, 0, -1, -1, 0)))
	comps := btCompressors(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		btCheckReadBatch(t, in, comps)
		// Random bytes almost never carry a valid CRC, which would keep
		// the fuzzer out of everything behind the check; so also read a
		// copy with the CRC resealed over whatever Length claims.
		if len(in) >= BatchHeaderSize {
			total := 12 + int64(int32(binary.BigEndian.Uint32(in[8:])))
			if total >= BatchHeaderSize && total <= int64(len(in)) {
				sealed := append([]byte(nil), in...)
				binary.BigEndian.PutUint32(sealed[17:], crc32.Checksum(sealed[21:total], crc32.MakeTable(crc32.Castagnoli)))
				btCheckReadBatch(t, sealed, comps)
			}
		}
	})
}

// btCheckReadBatch reads in; if it parses, rebuilds it with our builder
// and checks the rebuild reads back as the same records.
func btCheckReadBatch(t *testing.T, in []byte, comps map[compress.Codec]*compress.Compressor) {
	rb, n, err := ReadBatch(in)
	if err != nil {
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("error does not match ErrMalformed: %v", err)
		}
		return
	}
	if n < BatchHeaderSize || n > len(in) {
		t.Fatalf("consumed %d of %d", n, len(in))
	}
	if len(rb.Records) == 0 {
		return
	}
	var b BatchBuilder
	b.Reset(nil)
	for _, r := range rb.Records {
		b.Append(rb.BaseTimestamp+r.TimestampDelta, r.Key, r.Value, r.Headers)
	}
	out, err := b.Close(BatchOptions{ProducerID: rb.ProducerID, ProducerEpoch: rb.ProducerEpoch, BaseSequence: rb.BaseSequence, Compressor: comps[rb.Codec()]})
	if err != nil {
		t.Fatal(err)
	}
	again, _, err := ReadBatch(out)
	if err != nil {
		t.Fatalf("re-reading our rebuild: %v", err)
	}
	if len(again.Records) != len(rb.Records) {
		t.Fatalf("%d records, then %d", len(rb.Records), len(again.Records))
	}
	for i, r := range rb.Records {
		a := again.Records[i]
		if again.BaseTimestamp+a.TimestampDelta != rb.BaseTimestamp+r.TimestampDelta {
			t.Fatalf("record %d timestamp changed", i)
		}
		if !btSameBytes(r.Key, a.Key) || !btSameBytes(r.Value, a.Value) || len(r.Headers) != len(a.Headers) {
			t.Fatalf("record %d changed: %+v vs %+v", i, r, a)
		}
		for j, h := range r.Headers {
			if h.Key != a.Headers[j].Key || !btSameBytes(h.Value, a.Headers[j].Value) {
				t.Fatalf("record %d header %d changed", i, j)
			}
		}
	}
}

// btSameBytes is bytes.Equal that also tells null from empty.
func btSameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }
