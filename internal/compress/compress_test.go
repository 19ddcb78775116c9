package compress

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/stretchr/testify/require"
)

var allCodecs = []Codec{None, Gzip, Snappy, LZ4, Zstd}

// jsonRecords returns about n bytes of JSON-ish record values, the kind of
// payload a producer batches.
func jsonRecords(n int) []byte {
	rng := rand.New(rand.NewPCG(42, 42))
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"user":"user-%d","event":"%s","amount":%d.%02d,"ts":%d}`+"\n",
			i, rng.IntN(1000), []string{"click", "view", "purchase", "login"}[rng.IntN(4)],
			rng.IntN(10000), rng.IntN(100), 1_700_000_000_000+rng.Int64N(1e9))
	}
	return b.Bytes()[:n]
}

func randomBytes(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// inputs are the round-trip payloads: edge sizes, incompressible noise and
// compressible text past one lz4 block and several snappy chunks.
func inputs() []struct {
	name string
	data []byte
} {
	return []struct {
		name string
		data []byte
	}{
		{"empty", []byte{}},
		{"one byte", []byte{'x'}},
		{"random 1KiB", randomBytes(1<<10, 1)},
		{"random 100KiB", randomBytes(100<<10, 2)},
		{"json 16KiB", jsonRecords(16 << 10)},
		{"json 300KiB", jsonRecords(300 << 10)},
		{"zeros 1MiB", make([]byte, 1<<20)},
	}
}

func mustCompressor(t testing.TB, c Codec, level int) *Compressor {
	t.Helper()
	cp, err := NewCompressor(c, level)
	require.NoError(t, err)
	return cp
}

func TestRoundTrip(t *testing.T) {
	for _, c := range allCodecs {
		cp := mustCompressor(t, c, 0)
		for _, in := range inputs() {
			t.Run(c.String()+"/"+in.name, func(t *testing.T) {
				prefix := []byte("keep me")
				comp, err := cp.Compress(append([]byte(nil), prefix...), in.data)
				require.NoError(t, err)
				require.Equal(t, prefix, comp[:len(prefix)], "Compress appends")
				comp = comp[len(prefix):]

				out, err := Decompress(append([]byte(nil), prefix...), c, comp)
				require.NoError(t, err)
				require.Equal(t, prefix, out[:len(prefix)], "Decompress appends")
				require.True(t, bytes.Equal(in.data, out[len(prefix):]))

				require.True(t, bytes.Equal(in.data, independentDecode(t, c, comp)), "an independent decoder reads our output")
			})
		}
	}
}

// independentDecode decodes with the libraries directly (stdlib gzip, a
// plain lz4.NewReader, a fresh zstd decoder, hand-parsed xerial frames).
func independentDecode(t *testing.T, c Codec, src []byte) []byte {
	t.Helper()
	switch c {
	case None:
		return src
	case Gzip:
		r, err := stdgzip.NewReader(bytes.NewReader(src))
		require.NoError(t, err)
		out, err := io.ReadAll(r)
		require.NoError(t, err)
		return out
	case Snappy:
		require.GreaterOrEqual(t, len(src), 16)
		require.Equal(t, []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1}, src[:16])
		out := []byte{}
		for rest := src[16:]; len(rest) > 0; {
			require.GreaterOrEqual(t, len(rest), 4)
			n := int(binary.BigEndian.Uint32(rest))
			require.LessOrEqual(t, 4+n, len(rest))
			chunk, err := snappy.Decode(nil, rest[4:4+n])
			require.NoError(t, err)
			require.LessOrEqual(t, len(chunk), 32<<10, "snappy-java's 32 KiB chunks")
			out = append(out, chunk...)
			rest = rest[4+n:]
		}
		return out
	case LZ4:
		out, err := io.ReadAll(lz4.NewReader(bytes.NewReader(src)))
		require.NoError(t, err)
		return out
	case Zstd:
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

// xxh32 is XXH32 for inputs under 16 bytes, written from the xxHash spec,
// to check the lz4 frame's header checksum independently.
func xxh32(b []byte, seed uint32) uint32 {
	const p1, p2, p3, p4, p5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393
	if len(b) >= 16 {
		panic("xxh32 test helper handles short inputs only")
	}
	h := seed + p5 + uint32(len(b))
	for ; len(b) >= 4; b = b[4:] {
		h += binary.LittleEndian.Uint32(b) * p3
		h = bits.RotateLeft32(h, 17) * p4
	}
	for _, c := range b {
		h += uint32(c) * p5
		h = bits.RotateLeft32(h, 11) * p1
	}
	h ^= h >> 15
	h *= p2
	h ^= h >> 13
	h *= p3
	h ^= h >> 16
	return h
}

func TestXXH32Vectors(t *testing.T) {
	require.Equal(t, uint32(0x02CC5D05), xxh32(nil, 0))
	require.Equal(t, uint32(0x32D153FF), xxh32([]byte("abc"), 0))
}

// TestLZ4Frame walks our lz4 output by hand: Kafka's header bytes, 64 KiB
// blocks that each decode alone (independent), no checksums, an end mark.
func TestLZ4Frame(t *testing.T) {
	for _, level := range []int{0, 1, 9, 17} {
		for _, in := range inputs() {
			t.Run(fmt.Sprintf("level %d/%s", level, in.name), func(t *testing.T) {
				out, err := mustCompressor(t, LZ4, level).Compress(nil, in.data)
				require.NoError(t, err)
				require.GreaterOrEqual(t, len(out), 7+4)
				require.Equal(t, uint32(0x184D2204), binary.LittleEndian.Uint32(out))
				flg, bd := out[4], out[5]
				require.Equal(t, byte(0x60), flg, "FLG: version 01, independent blocks, no checksums, no content size")
				require.Equal(t, byte(0x40), bd, "BD: 64 KiB max block size")
				require.Equal(t, byte(xxh32(out[4:6], 0)>>8), out[6], "header checksum")

				var plain []byte
				blocks := 0
				rest := out[7:]
				for {
					require.GreaterOrEqual(t, len(rest), 4)
					word := binary.LittleEndian.Uint32(rest)
					rest = rest[4:]
					if word == 0 {
						break
					}
					size := int(word &^ (1 << 31))
					require.LessOrEqual(t, size, len(rest))
					if word&(1<<31) != 0 {
						plain = append(plain, rest[:size]...) // stored uncompressed
					} else {
						buf := make([]byte, 64<<10)
						n, err := lz4.UncompressBlock(rest[:size], buf)
						require.NoError(t, err, "block %d must decode without earlier blocks", blocks)
						plain = append(plain, buf[:n]...)
					}
					rest = rest[size:]
					blocks++
				}
				require.Empty(t, rest, "no content checksum after the end mark")
				require.True(t, bytes.Equal(in.data, plain))
				require.Equal(t, (len(in.data)+(64<<10)-1)/(64<<10), blocks)
			})
		}
	}
}

func TestZstdFrameHasContentSize(t *testing.T) {
	out, err := mustCompressor(t, Zstd, 0).Compress(nil, jsonRecords(20_000))
	require.NoError(t, err)
	var h zstd.Header
	require.NoError(t, h.Decode(out))
	require.True(t, h.HasFCS)
	require.EqualValues(t, 20_000, h.FrameContentSize)
}

// TestSnappyReadsBothFramings: raw blocks (librdkafka) and xerial frames
// with any chunking (Java) decode; an empty xerial stream is empty.
func TestSnappyReadsBothFramings(t *testing.T) {
	data := jsonRecords(100_000)
	xerial := func(chunk int) []byte {
		out := []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1}
		for rest := data; len(rest) > 0; {
			c := rest[:min(chunk, len(rest))]
			rest = rest[len(c):]
			enc := snappy.Encode(nil, c)
			out = binary.BigEndian.AppendUint32(out, uint32(len(enc)))
			out = append(out, enc...)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		src  []byte
		want []byte
	}{
		{"raw", snappy.Encode(nil, data), data},
		{"raw empty", snappy.Encode(nil, nil), []byte{}},
		{"xerial 32KiB chunks", xerial(32 << 10), data},
		{"xerial 1000-byte chunks", xerial(1000), data},
		{"xerial one chunk", xerial(1 << 20), data},
		{"xerial header only", xerial(1)[:16], []byte{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Decompress(nil, Snappy, tc.src)
			require.NoError(t, err)
			require.True(t, bytes.Equal(tc.want, out))
		})
	}
}

func TestNewCompressorLevels(t *testing.T) {
	for _, tc := range []struct {
		codec     Codec
		level     int
		wantLevel int
		property  string // empty when valid
	}{
		{None, 0, 0, ""},
		{None, 1, 0, "compression.none.level"},
		{Snappy, 0, 0, ""},
		{Snappy, 3, 0, "compression.snappy.level"},
		{Gzip, 0, 6, ""},
		{Gzip, -1, 6, ""},
		{Gzip, 1, 1, ""},
		{Gzip, 9, 9, ""},
		{Gzip, 10, 0, "compression.gzip.level"},
		{Gzip, -2, 0, "compression.gzip.level"},
		{LZ4, 0, 9, ""},
		{LZ4, 1, 1, ""},
		{LZ4, 17, 17, ""},
		{LZ4, 18, 0, "compression.lz4.level"},
		{LZ4, -1, 0, "compression.lz4.level"},
		{Zstd, 0, 3, ""},
		{Zstd, -131072, -131072, ""},
		{Zstd, -5, -5, ""},
		{Zstd, 22, 22, ""},
		{Zstd, 23, 0, "compression.zstd.level"},
		{Zstd, -131073, 0, "compression.zstd.level"},
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.codec, tc.level), func(t *testing.T) {
			cp, err := NewCompressor(tc.codec, tc.level)
			if tc.property == "" {
				require.NoError(t, err)
				require.Equal(t, tc.codec, cp.Codec())
				require.Equal(t, tc.wantLevel, cp.Level())
				// Every valid level must produce readable output.
				out, err := cp.Compress(nil, jsonRecords(5000))
				require.NoError(t, err)
				back, err := Decompress(nil, tc.codec, out)
				require.NoError(t, err)
				require.Equal(t, jsonRecords(5000), back)
				return
			}
			require.ErrorIs(t, err, ErrInvalidLevel)
			var le *LevelError
			require.ErrorAs(t, err, &le)
			require.Equal(t, tc.property, le.Property)
			require.Contains(t, err.Error(), tc.property)
		})
	}
	t.Run("unknown codec", func(t *testing.T) {
		_, err := NewCompressor(Codec(5), 0)
		require.ErrorIs(t, err, ErrUnknownCodec)
		_, err = Decompress(nil, Codec(7), []byte{1})
		require.ErrorIs(t, err, ErrUnknownCodec)
	})
}

func TestParseCodec(t *testing.T) {
	for _, tc := range []struct {
		name string
		want Codec
		ok   bool
	}{
		{"none", None, true}, {"gzip", Gzip, true}, {"snappy", Snappy, true},
		{"lz4", LZ4, true}, {"zstd", Zstd, true}, {"ZSTD", Zstd, true},
		{"", 0, false}, {"lzo", 0, false}, {"gzip ", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCodec(tc.name)
			if !tc.ok {
				require.ErrorIs(t, err, ErrUnknownCodec)
				require.Contains(t, err.Error(), "compression.type")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, c)
			require.Equal(t, strings.ToLower(tc.name), c.String())
		})
	}
	require.Equal(t, "codec(9)", Codec(9).String())
	require.Equal(t, None, (*Compressor)(nil).Codec())
}

// TestDecompressCorrupt: truncated, garbage and bit-flipped input fails
// cleanly (or, for a flip that happens to stay valid, decodes) — never a
// panic, never silent truncation.
func TestDecompressCorrupt(t *testing.T) {
	data := jsonRecords(70_000)
	for _, c := range allCodecs[1:] {
		good, err := mustCompressor(t, c, 0).Compress(nil, data)
		require.NoError(t, err)
		t.Run(c.String()+"/truncated", func(t *testing.T) {
			cuts := []int{0, 1, 3, 6, 10, 16, 17, 20, len(good) / 3, len(good) / 2, len(good) - 5, len(good) - 1}
			for _, n := range cuts {
				out, err := Decompress(nil, c, good[:n])
				if c == Snappy && n == 16 {
					// A xerial header and no chunks is a valid empty stream.
					require.NoError(t, err)
					require.Empty(t, out)
					continue
				}
				require.ErrorIs(t, err, ErrCorrupt, "cut at %d of %d", n, len(good))
			}
		})
		t.Run(c.String()+"/garbage", func(t *testing.T) {
			for i := range 50 {
				_, err := Decompress(nil, c, randomBytes(1+i*37, uint64(i)))
				require.Error(t, err)
			}
		})
		t.Run(c.String()+"/bit flips", func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, 9))
			for range 300 {
				bad := append([]byte(nil), good...)
				bad[rng.IntN(len(bad))] ^= 1 << rng.IntN(8)
				out, err := Decompress(nil, c, bad)
				if err == nil {
					require.LessOrEqual(t, len(out), maxOutput)
				}
			}
		})
	}
}

// TestDecompressBounded lowers the bound and checks every codec refuses to
// produce more, and that a tiny input claiming a huge size is refused
// without allocating it.
func TestDecompressBounded(t *testing.T) {
	saved := maxOutput
	maxOutput = 1 << 20
	t.Cleanup(func() { maxOutput = saved })
	big := make([]byte, 3<<20)
	for _, c := range allCodecs {
		t.Run(c.String(), func(t *testing.T) {
			comp, err := mustCompressor(t, c, 0).Compress(nil, big)
			require.NoError(t, err)
			_, err = Decompress(nil, c, comp)
			require.ErrorIs(t, err, ErrTooLarge)
			exact, err := mustCompressor(t, c, 0).Compress(nil, big[:1<<20])
			require.NoError(t, err)
			out, err := Decompress(nil, c, exact)
			require.NoError(t, err, "exactly the bound is allowed")
			require.Len(t, out, 1<<20)
		})
	}
	t.Run("snappy block claiming 100MiB", func(t *testing.T) {
		src := binary.AppendUvarint(nil, 100<<20)
		src = append(src, 0, 'x')
		_, err := Decompress(nil, Snappy, src)
		require.ErrorIs(t, err, ErrCorrupt)
	})
	t.Run("zstd frame claiming 200MiB", func(t *testing.T) {
		var h zstd.Header
		h.HasFCS, h.FrameContentSize, h.WindowSize = true, 200<<20, 1<<20
		src, err := h.AppendTo(nil)
		require.NoError(t, err)
		src = append(src, 1, 0, 0) // an empty last raw block
		allocs := testing.AllocsPerRun(10, func() {
			_, err = Decompress(nil, Zstd, src)
		})
		require.ErrorIs(t, err, ErrCorrupt)
		require.Less(t, allocs, 10.0, "refused before allocating")
	})
}

// poolsRetain reports whether a sync.Pool hands back what was just put in.
// Under the race detector Put drops items at random, so pooled allocation
// counts only mean something when this holds.
func poolsRetain() bool {
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

// TestSteadyStateAllocs measures Compress and Decompress into a reused dst
// once the pools are warm.
func TestSteadyStateAllocs(t *testing.T) {
	src := jsonRecords(16 << 10)
	for _, c := range allCodecs {
		cp := mustCompressor(t, c, 0)
		comp, err := cp.Compress(nil, src)
		require.NoError(t, err)
		dst := make([]byte, 0, 64<<10)
		t.Run(c.String(), func(t *testing.T) {
			compress := testing.AllocsPerRun(50, func() {
				if _, err := cp.Compress(dst[:0], src); err != nil {
					panic(err)
				}
			})
			decompress := testing.AllocsPerRun(50, func() {
				if _, err := Decompress(dst[:0], c, comp); err != nil {
					panic(err)
				}
			})
			t.Logf("%s: %.1f allocs per Compress, %.1f per Decompress", c, compress, decompress)
			if !poolsRetain() {
				t.Skip("sync.Pool drops items under the race detector; run without -race for counts")
			}
			require.LessOrEqual(t, compress, 1.0)
			require.LessOrEqual(t, decompress, 2.0)
		})
	}
}

// TestConcurrentUse shares one Compressor across goroutines (run with
// -race).
func TestConcurrentUse(t *testing.T) {
	for _, c := range allCodecs[1:] {
		t.Run(c.String(), func(t *testing.T) {
			cp := mustCompressor(t, c, 0)
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for g := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 20 {
						in := jsonRecords(1000 + g*100 + i)
						out, err := cp.Compress(nil, in)
						if err == nil {
							var back []byte
							back, err = Decompress(nil, c, out)
							if err == nil && !bytes.Equal(in, back) {
								err = errors.New("round trip mismatch")
							}
						}
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
		})
	}
}

// FuzzDecompress feeds arbitrary bytes to every codec's decoder: errors are
// fine, panics and oversized output are not.
func FuzzDecompress(f *testing.F) {
	// A smaller output bound keeps each input fast: bombs are still
	// exercised (they hit the bound), but at 4 MiB instead of 256 MiB, which
	// otherwise stalls the fuzzing engine on a single input.
	defer func(old int) { maxOutput = old }(maxOutput)
	maxOutput = 4 << 20
	for _, c := range allCodecs {
		cp := mustCompressor(f, c, 0)
		for _, in := range [][]byte{nil, []byte("a"), jsonRecords(3000)} {
			out, err := cp.Compress(nil, in)
			require.NoError(f, err)
			f.Add(uint8(c), out)
		}
	}
	f.Add(uint8(Snappy), snappy.Encode(nil, jsonRecords(500)))
	f.Fuzz(func(t *testing.T, codec uint8, src []byte) {
		c := Codec(codec % 5)
		out, err := Decompress(nil, c, src)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%s: error matches neither ErrCorrupt nor ErrTooLarge: %v", c, err)
			}
			return
		}
		if len(out) > maxOutput {
			t.Fatalf("%s: %d bytes out", c, len(out))
		}
	})
}
