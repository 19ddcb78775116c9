package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// Tests of the primitive encoders (encode.go) and the Reader (reader.go).
// The varint tests use encoding/binary as the independent implementation:
// Kafka's varints are LEB128 with zigzag for signed values, which is
// exactly what binary.AppendUvarint and binary.AppendVarint write.

// ptInt64Edges are boundary values for 64-bit varints: every width
// change of the zigzag and plain encodings, and the extremes.
func ptInt64Edges() []int64 {
	vs := []int64{0, 1, -1, 2, -2, 63, -64, 64, -65, math.MaxInt32, math.MinInt32,
		math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1}
	for shift := 6; shift < 63; shift += 7 {
		b := int64(1) << shift
		vs = append(vs, b-1, b, b+1, -b, -b-1, -b+1)
	}
	return vs
}

// ptInt32Edges narrows ptInt64Edges to int32 plus the 32-bit extremes.
func ptInt32Edges() []int32 {
	var vs []int32
	for _, v := range ptInt64Edges() {
		if v >= math.MinInt32 && v <= math.MaxInt32 {
			vs = append(vs, int32(v))
		}
	}
	return vs
}

// ptRandInt64 returns a value with a random bit length, so every varint
// width gets exercised, not just the 10-byte ones uniform values favour.
func ptRandInt64(rng *rand.Rand) int64 {
	return int64(rng.Uint64() >> rng.IntN(64))
}

func TestVarintMatchesBinary(t *testing.T) {
	rng := newRand(1)
	vals := ptInt32Edges()
	for range 5000 {
		vals = append(vals, int32(ptRandInt64(rng)), -int32(ptRandInt64(rng)))
	}
	for _, v := range vals {
		got := AppendVarint(nil, v)
		want := binary.AppendVarint(nil, int64(v))
		if !bytes.Equal(got, want) {
			t.Fatalf("AppendVarint(%d) = %x, binary says %x", v, got, want)
		}
		if VarintLen(v) != len(got) {
			t.Fatalf("VarintLen(%d) = %d, encoded %d bytes", v, VarintLen(v), len(got))
		}
		r := NewReader(got)
		if back := r.Varint(); back != v || r.Complete() != nil {
			t.Fatalf("Varint round trip of %d: got %d, err %v", v, back, r.Complete())
		}
	}
}

func TestVarlongMatchesBinary(t *testing.T) {
	rng := newRand(2)
	vals := ptInt64Edges()
	for range 5000 {
		vals = append(vals, ptRandInt64(rng), -ptRandInt64(rng))
	}
	for _, v := range vals {
		got := AppendVarlong(nil, v)
		want := binary.AppendVarint(nil, v)
		if !bytes.Equal(got, want) {
			t.Fatalf("AppendVarlong(%d) = %x, binary says %x", v, got, want)
		}
		if VarlongLen(v) != len(got) {
			t.Fatalf("VarlongLen(%d) = %d, encoded %d bytes", v, VarlongLen(v), len(got))
		}
		r := NewReader(got)
		if back := r.Varlong(); back != v || r.Complete() != nil {
			t.Fatalf("Varlong round trip of %d: got %d, err %v", v, back, r.Complete())
		}
	}
}

func TestUvarintMatchesBinary(t *testing.T) {
	rng := newRand(3)
	var vals []uint64
	for _, v := range ptInt64Edges() {
		vals = append(vals, uint64(v))
	}
	for range 5000 {
		vals = append(vals, uint64(ptRandInt64(rng))<<rng.IntN(2))
	}
	for _, v := range vals {
		got := AppendUvarlong(nil, v)
		require.Equal(t, binary.AppendUvarint(nil, v), got, "AppendUvarlong(%d)", v)
		r := NewReader(got)
		require.Equal(t, v, r.Uvarlong())
		require.NoError(t, r.Complete())

		v32 := uint32(v)
		got = AppendUvarint(nil, v32)
		require.Equal(t, binary.AppendUvarint(nil, uint64(v32)), got, "AppendUvarint(%d)", v32)
		require.Equal(t, len(got), UvarintLen(v32), "UvarintLen(%d)", v32)
		r = NewReader(got)
		require.Equal(t, v32, r.Uvarint())
		require.NoError(t, r.Complete())
	}
}

// TestReaderVarintsAgainstBinary feeds random byte strings, including
// non-minimal and overlong encodings, to our readers and binary.Uvarint.
// Where binary reads a value that fits, ours must read the same value and
// length; everything else must be an error, never a silent wrap.
func TestReaderVarintsAgainstBinary(t *testing.T) {
	rng := newRand(4)
	for i := range 20000 {
		n := 1 + rng.IntN(12)
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(rng.Uint32())
			if rng.IntN(3) != 0 && j < n-1 {
				b[j] |= 0x80 // make long varints common
			}
		}
		want, wn := binary.Uvarint(b)

		r := NewReader(b)
		got := r.Uvarlong()
		if wn > 0 {
			if r.Err() != nil || got != want || r.Offset() != wn {
				t.Fatalf("case %d %x: Uvarlong = %d (%d bytes, err %v), binary %d (%d bytes)", i, b, got, r.Offset(), r.Err(), want, wn)
			}
		} else if r.Err() == nil {
			t.Fatalf("case %d %x: Uvarlong accepted what binary rejects (n=%d)", i, b, wn)
		}

		r = NewReader(b)
		got32 := r.Uvarint()
		if wn > 0 && wn <= 5 && want <= math.MaxUint32 {
			if r.Err() != nil || uint64(got32) != want || r.Offset() != wn {
				t.Fatalf("case %d %x: Uvarint = %d (%d bytes, err %v), binary %d (%d bytes)", i, b, got32, r.Offset(), r.Err(), want, wn)
			}
		} else if r.Err() == nil {
			t.Fatalf("case %d %x: Uvarint accepted %d (%d bytes) beyond 32 bits", i, b, want, wn)
		}
	}
}

func TestReaderVarintLimits(t *testing.T) {
	uv := func(r *Reader) any { return r.Uvarint() }
	ul := func(r *Reader) any { return r.Uvarlong() }
	tests := []struct {
		name string
		in   string
		read func(r *Reader) any
		want any // nil: must fail
	}{
		{"uvarint max", "ffffffff0f", uv, uint32(math.MaxUint32)},
		{"uvarint 33 bits", "ffffffff1f", uv, nil},
		{"uvarint 6 bytes", "808080808000", uv, nil},
		{"uvarint truncated", "80", uv, nil},
		{"uvarint empty", "", uv, nil},
		{"uvarint non-minimal zero", "8000", uv, uint32(0)},
		{"uvarlong max", "ffffffffffffffffff01", ul, uint64(math.MaxUint64)},
		{"uvarlong 65 bits", "ffffffffffffffffff02", ul, nil},
		{"uvarlong 11 bytes", "8080808080808080808000", ul, nil},
		{"varint min", "ffffffff0f", func(r *Reader) any { return r.Varint() }, int32(math.MinInt32)},
		{"varint max", "feffffff0f", func(r *Reader) any { return r.Varint() }, int32(math.MaxInt32)},
		{"varlong min", "ffffffffffffffffff01", func(r *Reader) any { return r.Varlong() }, int64(math.MinInt64)},
		{"varlong max", "feffffffffffffffff01", func(r *Reader) any { return r.Varlong() }, int64(math.MaxInt64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(mustHex(t, tt.in))
			got := tt.read(r)
			if tt.want == nil {
				require.ErrorIs(t, r.Err(), ErrMalformed)
				require.Zero(t, got)
				return
			}
			require.NoError(t, r.Complete())
			require.Equal(t, tt.want, got)
		})
	}
}

func TestFixedWidthRoundTrip(t *testing.T) {
	rng := newRand(5)
	for range 500 {
		i8, i16, i32, i64 := int8(rng.Uint32()), randInt16(rng), randInt32(rng), randInt64(rng)
		u32, f64, bl, id := rng.Uint32(), math.Float64frombits(rng.Uint64()), randBool(rng), randUUID(rng)
		var b []byte
		b = AppendInt8(b, i8)
		b = AppendInt16(b, i16)
		b = AppendInt32(b, i32)
		b = AppendInt64(b, i64)
		b = AppendUint32(b, u32)
		b = AppendFloat64(b, f64)
		b = AppendBool(b, bl)
		b = AppendUUID(b, id)
		require.Len(t, b, 1+2+4+8+4+8+1+16)
		require.Equal(t, i32, int32(binary.BigEndian.Uint32(b[3:])), "big-endian int32")

		r := NewReader(b)
		require.Equal(t, i8, r.Int8())
		require.Equal(t, i16, r.Int16())
		require.Equal(t, i32, r.Int32())
		require.Equal(t, i64, r.Int64())
		require.Equal(t, u32, r.Uint32())
		require.Equal(t, math.Float64bits(f64), math.Float64bits(r.Float64()))
		require.Equal(t, bl, r.Bool())
		require.Equal(t, id, r.UUID())
		require.NoError(t, r.Complete())
	}
}

// TestLengthPrefixedForms round-trips every string and bytes form, with
// null, empty and non-empty values, and pins the wire bytes of each.
func TestLengthPrefixedForms(t *testing.T) {
	s := "aé"
	empty := ""
	type enc func([]byte) []byte
	type dec func(*Reader) any
	tests := []struct {
		name string
		enc  enc
		wire string
		dec  dec
		want any
	}{
		{"string", func(d []byte) []byte { return AppendString(d, s) }, "0003 61c3a9",
			func(r *Reader) any { return r.String() }, s},
		{"string empty", func(d []byte) []byte { return AppendString(d, "") }, "0000",
			func(r *Reader) any { return r.String() }, ""},
		{"nullable string", func(d []byte) []byte { return AppendNullableString(d, &s) }, "0003 61c3a9",
			func(r *Reader) any { return r.NullableString() }, &s},
		{"nullable string empty", func(d []byte) []byte { return AppendNullableString(d, &empty) }, "0000",
			func(r *Reader) any { return r.NullableString() }, &empty},
		{"nullable string null", func(d []byte) []byte { return AppendNullableString(d, nil) }, "ffff",
			func(r *Reader) any { return r.NullableString() }, (*string)(nil)},
		{"compact string", func(d []byte) []byte { return AppendCompactString(d, s) }, "04 61c3a9",
			func(r *Reader) any { return r.CompactString() }, s},
		{"compact string empty", func(d []byte) []byte { return AppendCompactString(d, "") }, "01",
			func(r *Reader) any { return r.CompactString() }, ""},
		{"compact nullable string", func(d []byte) []byte { return AppendCompactNullableString(d, &s) }, "04 61c3a9",
			func(r *Reader) any { return r.CompactNullableString() }, &s},
		{"compact nullable string empty", func(d []byte) []byte { return AppendCompactNullableString(d, &empty) }, "01",
			func(r *Reader) any { return r.CompactNullableString() }, &empty},
		{"compact nullable string null", func(d []byte) []byte { return AppendCompactNullableString(d, nil) }, "00",
			func(r *Reader) any { return r.CompactNullableString() }, (*string)(nil)},
		{"string F classic", func(d []byte) []byte { return AppendStringF(d, s, false) }, "0003 61c3a9",
			func(r *Reader) any { return r.StringF(false) }, s},
		{"string F compact", func(d []byte) []byte { return AppendStringF(d, s, true) }, "04 61c3a9",
			func(r *Reader) any { return r.StringF(true) }, s},
		{"nullable string F classic null", func(d []byte) []byte { return AppendNullableStringF(d, nil, false) }, "ffff",
			func(r *Reader) any { return r.NullableStringF(false) }, (*string)(nil)},
		{"nullable string F compact empty", func(d []byte) []byte { return AppendNullableStringF(d, &empty, true) }, "01",
			func(r *Reader) any { return r.NullableStringF(true) }, &empty},

		{"bytes", func(d []byte) []byte { return AppendBytes(d, []byte{1, 2}) }, "00000002 0102",
			func(r *Reader) any { return r.Bytes() }, []byte{1, 2}},
		{"bytes empty", func(d []byte) []byte { return AppendBytes(d, []byte{}) }, "00000000",
			func(r *Reader) any { return r.Bytes() }, []byte{}},
		{"bytes nil writes empty", func(d []byte) []byte { return AppendBytes(d, nil) }, "00000000",
			func(r *Reader) any { return r.Bytes() }, []byte{}},
		{"nullable bytes null", func(d []byte) []byte { return AppendNullableBytes(d, nil) }, "ffffffff",
			func(r *Reader) any { return r.Bytes() }, []byte(nil)},
		{"nullable bytes empty", func(d []byte) []byte { return AppendNullableBytes(d, []byte{}) }, "00000000",
			func(r *Reader) any { return r.Bytes() }, []byte{}},
		{"compact bytes", func(d []byte) []byte { return AppendCompactBytes(d, []byte{1, 2}) }, "03 0102",
			func(r *Reader) any { return r.CompactBytes() }, []byte{1, 2}},
		{"compact bytes empty", func(d []byte) []byte { return AppendCompactBytes(d, nil) }, "01",
			func(r *Reader) any { return r.CompactBytes() }, []byte{}},
		{"compact nullable bytes null", func(d []byte) []byte { return AppendCompactNullableBytes(d, nil) }, "00",
			func(r *Reader) any { return r.CompactBytes() }, []byte(nil)},
		{"compact nullable bytes empty", func(d []byte) []byte { return AppendCompactNullableBytes(d, []byte{}) }, "01",
			func(r *Reader) any { return r.CompactBytes() }, []byte{}},
		{"bytes F classic", func(d []byte) []byte { return AppendBytesF(d, []byte{9}, false) }, "00000001 09",
			func(r *Reader) any { return r.BytesF(false) }, []byte{9}},
		{"bytes F compact", func(d []byte) []byte { return AppendBytesF(d, []byte{9}, true) }, "02 09",
			func(r *Reader) any { return r.BytesF(true) }, []byte{9}},
		{"nullable bytes F classic null", func(d []byte) []byte { return AppendNullableBytesF(d, nil, false) }, "ffffffff",
			func(r *Reader) any { return r.BytesF(false) }, []byte(nil)},
		{"nullable bytes F compact null", func(d []byte) []byte { return AppendNullableBytesF(d, nil, true) }, "00",
			func(r *Reader) any { return r.BytesF(true) }, []byte(nil)},

		{"array classic empty", func(d []byte) []byte { return AppendArrayLen(d, 0, false) }, "00000000",
			func(r *Reader) any { return r.ArrayLen(false) }, 0},
		{"array compact empty", func(d []byte) []byte { return AppendArrayLen(d, 0, true) }, "01",
			func(r *Reader) any { return r.ArrayLen(true) }, 0},
		{"nullable array classic null", func(d []byte) []byte { return AppendNullableArrayLen(d, -1, false) }, "ffffffff",
			func(r *Reader) any { return r.ArrayLen(false) }, -1},
		{"nullable array compact null", func(d []byte) []byte { return AppendNullableArrayLen(d, -1, true) }, "00",
			func(r *Reader) any { return r.ArrayLen(true) }, -1},
		{"nullable array compact empty", func(d []byte) []byte { return AppendNullableArrayLen(d, 0, true) }, "01",
			func(r *Reader) any { return r.ArrayLen(true) }, 0},
		{"nullable array classic empty", func(d []byte) []byte { return AppendNullableArrayLen(d, 0, false) }, "00000000",
			func(r *Reader) any { return r.ArrayLen(false) }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := mustHex(t, tt.wire)
			prefix := []byte{0xaa} // encoders must append, not overwrite
			got := tt.enc(prefix)
			require.Equal(t, append([]byte{0xaa}, wire...), got)
			r := NewReader(wire)
			require.Equal(t, tt.want, tt.dec(r)) // distinguishes nil from empty
			require.NoError(t, r.Complete())
		})
	}
}

// TestReaderArrayLenBound checks that an array length is accepted only
// when at least one byte per element remains, the bound that lets decoders
// make([]T, n) safely.
func TestReaderArrayLenBound(t *testing.T) {
	for _, flex := range []bool{false, true} {
		t.Run(fmt.Sprintf("flexible=%v", flex), func(t *testing.T) {
			b := AppendArrayLen(nil, 2, flex)
			r := NewReader(append(b, 1, 2))
			require.Equal(t, 2, r.ArrayLen(flex))
			require.NoError(t, r.Err())

			r = NewReader(append(b, 1))
			require.Equal(t, -1, r.ArrayLen(flex))
			require.ErrorIs(t, r.Err(), ErrMalformed)
		})
	}
	r := NewReader(mustHex(t, "fffffffe"))
	require.Equal(t, -1, r.ArrayLen(false))
	require.ErrorIs(t, r.Err(), ErrMalformed, "lengths below -1 are malformed")
}

// TestReaderBytesAlias documents that the Bytes family aliases the input
// while strings are copied.
func TestReaderBytesAlias(t *testing.T) {
	in := AppendString(AppendBytes(nil, []byte("xy")), "ab")
	r := NewReader(in)
	b := r.Bytes()
	s := r.String()
	in[4], in[8] = 'Q', 'Q'
	require.Equal(t, []byte("Qy"), b)
	require.Equal(t, "ab", s)
}

func TestReaderKeepsFirstError(t *testing.T) {
	r := NewReader([]byte{0x00, 0x05, 'a'}) // string claims 5 bytes, has 1
	require.Equal(t, "", r.String())
	first := r.Err()
	require.ErrorIs(t, first, ErrMalformed)
	var de *DecodeError
	require.ErrorAs(t, first, &de)
	require.Equal(t, 2, de.Offset, "offset of the failing read")

	off := r.Offset()
	// Every later read returns a zero value and leaves the error alone.
	require.Zero(t, r.Int8())
	require.Zero(t, r.Int64())
	require.Zero(t, r.Uvarint())
	// reader.go's NullableString returns a pointer to "" rather than nil
	// after an error (its n == 0 path skips the error check); reported to
	// the lead. The value is meaningless once Err is set, so only its
	// contents are checked here.
	require.Equal(t, "", derefOr(r.NullableString(), ""))
	require.Nil(t, r.CompactNullableString())
	require.Nil(t, r.Bytes())
	require.Equal(t, -1, r.ArrayLen(true))
	r.Tags(func(uint32, *Reader) bool { t.Fatal("tag callback after error"); return true })
	r.Fail(errors.New("later"))
	require.Same(t, first, r.Err())
	require.Equal(t, off, r.Offset())
	require.Same(t, first, r.Complete())

	r.Reset([]byte{1})
	require.NoError(t, r.Err())
	require.True(t, r.Bool())
	require.NoError(t, r.Complete())
}

func TestReaderCompleteTrailing(t *testing.T) {
	r := NewReader([]byte{0, 1, 2})
	r.Int16()
	require.Equal(t, 1, r.Remaining())
	require.ErrorIs(t, r.Complete(), ErrMalformed)
	require.NoError(t, r.Err(), "Complete reports trailing bytes without failing the reader")
}

// ptSequence is one encoding of every primitive in a row, for truncation
// tests.
func ptSequence() []byte {
	s := "kafka"
	var b []byte
	b = AppendInt8(b, -3)
	b = AppendInt16(b, 300)
	b = AppendInt32(b, -70000)
	b = AppendInt64(b, math.MinInt64)
	b = AppendVarint(b, -1000)
	b = AppendVarlong(b, 1<<40)
	b = AppendUvarint(b, 1<<30)
	b = AppendUUID(b, [16]byte{1})
	b = AppendString(b, s)
	b = AppendNullableString(b, &s)
	b = AppendCompactString(b, s)
	b = AppendCompactNullableString(b, &s)
	b = AppendBytes(b, []byte(s))
	b = AppendCompactBytes(b, []byte(s))
	b = AppendArrayLen(b, 1, false)
	b = AppendInt8(b, 0)
	b = AppendArrayLen(b, 1, true)
	b = AppendInt8(b, 0)
	b = AppendUvarint(b, 1)
	b = AppendTag(b, 7, []byte{1, 2, 3})
	return b
}

// ptReadSequence reads what ptSequence wrote.
func ptReadSequence(r *Reader) {
	r.Int8()
	r.Int16()
	r.Int32()
	r.Int64()
	r.Varint()
	r.Varlong()
	r.Uvarint()
	r.UUID()
	_ = r.String()
	r.NullableString()
	r.CompactString()
	r.CompactNullableString()
	r.Bytes()
	r.CompactBytes()
	r.ArrayLen(false)
	r.Int8()
	r.ArrayLen(true)
	r.Int8()
	r.SkipTags(true)
}

func TestReaderTruncatedEverywhere(t *testing.T) {
	full := ptSequence()
	r := NewReader(full)
	ptReadSequence(r)
	require.NoError(t, r.Complete(), "the whole sequence reads back")
	for cut := range len(full) {
		r := NewReader(full[:cut])
		ptReadSequence(r)
		if !errors.Is(r.Err(), ErrMalformed) {
			t.Fatalf("cut at %d of %d: err %v, want ErrMalformed", cut, len(full), r.Err())
		}
	}
}

// TestReaderHugeLengths feeds length prefixes that claim far more than the
// input holds. Each must fail with ErrMalformed, and must do so without
// allocating anything near the claimed size. The allocations that remain
// are the error itself: reader.go builds each *DecodeError with
// fmt.Sprintf, which costs up to four small allocations (two boxed ints,
// the string, the error). Formatting lazily in Error() would make that one;
// until then the count bound is four, and the bytes bound is what proves
// nothing was sized from the hostile length.
func TestReaderHugeLengths(t *testing.T) {
	const maxAllocs, maxBytesPerRun = 4, 512
	fc, ap := new(FindCoordinatorResponse), new(AddPartitionsToTxnRequest)
	tests := []struct {
		name  string
		in    string
		read  func(r *Reader)
		extra float64 // allocations the input legitimately asks for
	}{
		{"string", "7fff 61", func(r *Reader) { _ = r.String() }, 0},
		{"nullable string", "7fff 61", func(r *Reader) { r.NullableString() }, 0},
		{"compact string", "ffffffff0f 61", func(r *Reader) { r.CompactString() }, 0},
		{"compact nullable string", "ffffffff0f 61", func(r *Reader) { r.CompactNullableString() }, 0},
		{"bytes", "7fffffff 61", func(r *Reader) { r.Bytes() }, 0},
		{"compact bytes", "ffffffff0f 61", func(r *Reader) { r.CompactBytes() }, 0},
		{"array", "7fffffff 61", func(r *Reader) { r.ArrayLen(false) }, 0},
		{"compact array", "ffffffff0f 61", func(r *Reader) { r.ArrayLen(true) }, 0},
		{"tag count", "ffffffff0f 61", func(r *Reader) { r.SkipTags(true) }, 0},
		{"tag size", "01 00 ffffffff0f 61", func(r *Reader) { r.SkipTags(true) }, 0},
		{"message array", "00000000 ffffffff0f 61", func(r *Reader) { fc.Decode(r, 4) }, 0},
		// One legitimate allocation precedes the hostile length here: the
		// one-element topics slice.
		{"message int32 array", "0001 74 0000000000000001 0001 00000001 0001 74 7fffffff 61",
			func(r *Reader) { ap.Decode(r, 0) }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := mustHex(t, tt.in)
			var r Reader
			r.Reset(in)
			tt.read(&r)
			require.ErrorIs(t, r.Err(), ErrMalformed)

			allocs := testing.AllocsPerRun(100, func() { r.Reset(in); tt.read(&r) })
			require.LessOrEqual(t, allocs, maxAllocs+tt.extra)

			const runs = 1000
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range runs {
				r.Reset(in)
				tt.read(&r)
			}
			runtime.ReadMemStats(&after)
			perRun := (after.TotalAlloc - before.TotalAlloc) / runs
			require.LessOrEqual(t, perRun, uint64(maxBytesPerRun), "bytes allocated per decode")
		})
	}
}

// TestReaderTags checks that unknown tags are skipped whole, known ones get
// a reader over exactly their body, and errors inside a body surface.
func TestReaderTags(t *testing.T) {
	var b []byte
	b = AppendUvarint(b, 3)
	b = AppendTag(b, 0, []byte{0, 42})
	b = AppendTag(b, 5, []byte("unknown body"))
	b = AppendTag(b, 300, nil) // a two-byte tag number with an empty body
	b = AppendInt8(b, 9)       // the field after the tag section

	t.Run("skip all", func(t *testing.T) {
		r := NewReader(b)
		r.SkipTags(true)
		require.Equal(t, int8(9), r.Int8())
		require.NoError(t, r.Complete())
	})
	t.Run("not flexible reads nothing", func(t *testing.T) {
		r := NewReader([]byte{9})
		r.SkipTags(false)
		require.Equal(t, int8(9), r.Int8())
	})
	t.Run("known and unknown", func(t *testing.T) {
		r := NewReader(b)
		var seen []uint32
		var known int16
		r.Tags(func(tag uint32, body *Reader) bool {
			seen = append(seen, tag)
			if tag != 0 {
				return false
			}
			known = body.Int16()
			require.Zero(t, body.Remaining())
			return true
		})
		require.Equal(t, []uint32{0, 5, 300}, seen)
		require.Equal(t, int16(42), known)
		require.Equal(t, int8(9), r.Int8())
		require.NoError(t, r.Complete())
	})
	t.Run("error in body", func(t *testing.T) {
		r := NewReader(b)
		r.Tags(func(tag uint32, body *Reader) bool {
			body.Int64() // reads past a 2-byte body
			return true
		})
		require.ErrorIs(t, r.Err(), ErrMalformed)
	})
	t.Run("empty section", func(t *testing.T) {
		require.Equal(t, []byte{0xaa, 0}, AppendEmptyTags([]byte{0xaa}, true))
		require.Equal(t, []byte{0xaa}, AppendEmptyTags([]byte{0xaa}, false))
	})
}

// ptOps are the Reader calls FuzzReader can make, indexed by an op byte.
var ptOps = []func(r *Reader, arg byte){
	func(r *Reader, _ byte) { r.Bool() },
	func(r *Reader, _ byte) { r.Int8() },
	func(r *Reader, _ byte) { r.Int16() },
	func(r *Reader, _ byte) { r.Int32() },
	func(r *Reader, _ byte) { r.Int64() },
	func(r *Reader, _ byte) { r.Uint32() },
	func(r *Reader, _ byte) { r.Float64() },
	func(r *Reader, _ byte) { r.Uvarint() },
	func(r *Reader, _ byte) { r.Uvarlong() },
	func(r *Reader, _ byte) { r.Varint() },
	func(r *Reader, _ byte) { r.Varlong() },
	func(r *Reader, _ byte) { r.UUID() },
	func(r *Reader, arg byte) { r.Skip(int(int8(arg))) },
	func(r *Reader, _ byte) { _ = r.String() },
	func(r *Reader, _ byte) { r.NullableString() },
	func(r *Reader, _ byte) { r.CompactString() },
	func(r *Reader, _ byte) { r.CompactNullableString() },
	func(r *Reader, arg byte) { r.StringF(arg&1 == 1) },
	func(r *Reader, arg byte) { r.NullableStringF(arg&1 == 1) },
	func(r *Reader, _ byte) { r.Bytes() },
	func(r *Reader, _ byte) { r.CompactBytes() },
	func(r *Reader, arg byte) { r.BytesF(arg&1 == 1) },
	func(r *Reader, arg byte) {
		if n := r.ArrayLen(arg&1 == 1); n > r.Remaining() {
			panic(fmt.Sprintf("ArrayLen %d exceeds %d remaining", n, r.Remaining()))
		}
	},
	func(r *Reader, arg byte) { r.SkipTags(arg&1 == 1) },
	func(r *Reader, arg byte) {
		r.Tags(func(tag uint32, body *Reader) bool {
			if tag%2 == 0 {
				body.Int16()
				return true
			}
			return false
		})
	},
}

// FuzzReader drives a fuzzer-chosen sequence of Reader calls over
// fuzzer-chosen input: no call may panic, the offset never passes the end,
// and once an error is set it is the error for good and reading stops.
func FuzzReader(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, ptSequence())
	f.Add([]byte{13, 14, 15, 16, 19, 20, 22, 23}, []byte{0, 1, 'a', 0, 0, 2, 'b', 0, 0, 0, 0, 1, 'c', 3, 0, 1})
	f.Add([]byte{24, 0, 24, 1}, []byte{2, 0, 2, 0, 1, 3, 1, 5})
	f.Fuzz(func(t *testing.T, ops, in []byte) {
		r := NewReader(in)
		var firstErr error
		for i := 0; i < len(ops); i += 2 {
			op, arg := ops[i], byte(0)
			if i+1 < len(ops) {
				arg = ops[i+1]
			}
			before := r.Offset()
			ptOps[int(op)%len(ptOps)](r, arg)
			if r.Offset() < before {
				t.Fatalf("offset went back from %d to %d", before, r.Offset())
			}
			if r.Offset() > len(in) || r.Remaining() < 0 {
				t.Fatalf("offset %d past end %d", r.Offset(), len(in))
			}
			if firstErr != nil {
				if r.Err() != firstErr {
					t.Fatalf("error changed from %v to %v", firstErr, r.Err())
				}
				if r.Offset() != before {
					t.Fatalf("read on after error: offset %d → %d", before, r.Offset())
				}
			}
			if r.Err() != nil && firstErr == nil {
				firstErr = r.Err()
				if !errors.Is(firstErr, ErrMalformed) {
					t.Fatalf("error %v does not match ErrMalformed", firstErr)
				}
			}
		}
	})
}

func BenchmarkAppendVarint(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 64)
	for i := range b.N {
		buf = AppendVarint(buf[:0], int32(i*7919))
		buf = AppendVarlong(buf, int64(i)*-104729)
	}
}

func BenchmarkReaderVarint(b *testing.B) {
	b.ReportAllocs()
	buf := AppendVarlong(AppendVarint(nil, -123456), 1<<50)
	var r Reader
	for range b.N {
		r.Reset(buf)
		r.Varint()
		r.Varlong()
	}
}
