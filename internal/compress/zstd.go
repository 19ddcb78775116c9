package compress

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Java's default compression.zstd.level and zstd's level range
// (ZSTD_minCLevel is -(1<<17), ZSTD_maxCLevel 22), which Java validates.
const (
	zstdDefaultLevel = 3
	zstdMinLevel     = -1 << 17
	zstdMaxLevel     = 22
)

// zstdWindow caps the encoder's window. A batch is at most a few MiB
// (max.request.size defaults to 1 MiB), and each encoder's memory scales
// with its window, so a small one makes pooled encoders cheap to create and
// hold without costing ratio on batch-sized inputs.
const zstdWindow = 1 << 20

// zstdMaxRatio bounds zstd's expansion: every block has a 3-byte header and
// at least one byte of content and yields at most 128 KiB, so a frame can
// never produce more than 32 KiB per input byte. A header claiming more is
// corrupt; checking it first stops a 20-byte input from making the decoder
// preallocate its claimed size.
const zstdMaxRatio = 32 << 10

// zstdPool holds the zstd encoders of one Compressor (one level).
type zstdPool struct {
	level zstd.EncoderLevel
	pool  sync.Pool
}

func newZstdPool(level int) *zstdPool {
	p := &zstdPool{level: zstd.EncoderLevelFromZstd(level)}
	p.pool.New = func() any {
		e, err := zstd.NewWriter(nil,
			zstd.WithEncoderLevel(p.level),
			zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(zstdWindow),
			// An empty records section still gets a real frame, which
			// every zstd decoder (zstd-jni included) accepts.
			zstd.WithZeroFrames(true),
		)
		if err != nil {
			panic(fmt.Sprintf("compress: zstd encoder with fixed options: %v", err))
		}
		return e
	}
	return p
}

func (p *zstdPool) compress(dst, src []byte) []byte {
	e := p.pool.Get().(*zstd.Encoder)
	dst = e.EncodeAll(src, dst)
	p.pool.Put(e)
	return dst
}

// zstdDecoder is shared: a zstd.Decoder runs up to its concurrency of
// DecodeAll calls at once and owns no goroutines when used only that way.
var zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
	d, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithDecoderMaxMemory(MaxDecompressedSize),
	)
	if err != nil {
		panic(fmt.Sprintf("compress: zstd decoder with fixed options: %v", err))
	}
	return d
})

func zstdDecompress(dst, src []byte) ([]byte, error) {
	var h zstd.Header
	if err := h.Decode(src); err != nil {
		return dst, corrupt("zstd", err)
	}
	if h.HasFCS && h.FrameContentSize > uint64(zstdMaxRatio)*uint64(len(src)) {
		return dst, fmt.Errorf("%w: zstd: %d-byte frame claims %d bytes", ErrCorrupt, len(src), h.FrameContentSize)
	}
	if h.HasFCS && h.FrameContentSize > uint64(maxOutput) {
		return dst, fmt.Errorf("%w: zstd frame of %d bytes", ErrTooLarge, h.FrameContentSize)
	}
	start := len(dst)
	out, err := zstdDecoder().DecodeAll(src, dst)
	if err != nil {
		if err == zstd.ErrDecoderSizeExceeded {
			return dst[:start], fmt.Errorf("%w: zstd output over %d bytes", ErrTooLarge, maxOutput)
		}
		return dst[:start], corrupt("zstd", err)
	}
	if len(out)-start > maxOutput {
		return out[:start], fmt.Errorf("%w: zstd output over %d bytes", ErrTooLarge, maxOutput)
	}
	return out, nil
}
