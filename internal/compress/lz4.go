package compress

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/pierrec/lz4/v4"
)

// lz4DefaultLevel is Java's default compression.lz4.level.
const lz4DefaultLevel = 9

// lz4Level maps a Kafka lz4 level onto pierrec/lz4. Java (Lz4BlockOutputStream)
// uses lz4-java's fast compressor at the default level 9 and its
// high-compression compressor at any other level (1–17). We do the same:
// 9 is lz4.Fast; other levels pick one of pierrec's nine HC levels, with
// 10–17 saturating at Level9.
func lz4Level(level int) lz4.CompressionLevel {
	if level == lz4DefaultLevel {
		return lz4.Fast
	}
	levels := [...]lz4.CompressionLevel{
		lz4.Level1, lz4.Level2, lz4.Level3, lz4.Level4, lz4.Level5,
		lz4.Level6, lz4.Level7, lz4.Level8, lz4.Level9,
	}
	return levels[min(level, len(levels))-1]
}

// lz4Encoder pairs a pooled lz4.Writer with its output.
type lz4Encoder struct {
	w   *lz4.Writer
	out appendWriter
}

// lz4Pool holds the lz4 writers of one Compressor (one level).
type lz4Pool struct {
	opts []lz4.Option
	pool sync.Pool
}

func newLZ4Pool(level int) *lz4Pool {
	p := &lz4Pool{opts: []lz4.Option{
		// Kafka's frame: 64 KiB independent blocks (pierrec always
		// writes independent blocks), no block or content checksums, no
		// content size, and one goroutine per writer.
		lz4.BlockSizeOption(lz4.Block64Kb),
		lz4.BlockChecksumOption(false),
		lz4.ChecksumOption(false),
		lz4.ConcurrencyOption(1),
		lz4.CompressionLevelOption(lz4Level(level)),
	}}
	p.pool.New = func() any {
		e := &lz4Encoder{}
		e.w = lz4.NewWriter(&e.out)
		return e
	}
	return p
}

func (p *lz4Pool) compress(dst, src []byte) ([]byte, error) {
	e := p.pool.Get().(*lz4Encoder)
	e.out.b = dst
	// Reset keeps options, but a writer that failed is left in an error
	// state; re-applying after Reset guarantees a clean, Kafka-framed writer.
	e.w.Reset(&e.out)
	err := e.w.Apply(p.opts...)
	if err == nil {
		_, err = e.w.Write(src)
		if cerr := e.w.Close(); err == nil {
			err = cerr
		}
	}
	dst = e.out.b
	e.out.b = nil
	p.pool.Put(e)
	return dst, err
}

type lz4Decoder struct {
	src bytes.Reader
	r   *lz4.Reader
}

var lz4Decoders = sync.Pool{New: func() any {
	d := &lz4Decoder{}
	d.r = lz4.NewReader(&d.src)
	return d
}}

func lz4Decompress(dst, src []byte) ([]byte, error) {
	if len(src) == 0 {
		// pierrec reads no bytes as zero frames; Kafka always has one.
		return dst, fmt.Errorf("%w: lz4: empty input", ErrCorrupt)
	}
	d := lz4Decoders.Get().(*lz4Decoder)
	defer lz4Decoders.Put(d)
	d.src.Reset(src)
	d.r.Reset(&d.src)
	out, err := readBounded(dst, d.r, len(src), "lz4")
	d.src.Reset(nil)
	return out, err
}
