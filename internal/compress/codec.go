package compress

import (
	"errors"
	"fmt"
	"strings"
)

// Codec is a Kafka compression codec. Its value is the codec's number in the
// low three bits of a record batch's attributes.
type Codec int8

// The codecs Kafka defines, numbered as in the batch attributes.
const (
	None   Codec = 0
	Gzip   Codec = 1
	Snappy Codec = 2
	LZ4    Codec = 3
	Zstd   Codec = 4
)

// MaxDecompressedSize bounds the output of one [Decompress] call. Kafka's
// own limits (message.max.bytes, max.request.size) sit far below it, so only
// a corrupt or hostile batch reaches it.
const MaxDecompressedSize = 256 << 20

// maxOutput is the bound actually enforced; tests lower it to exercise the
// limit without producing 256 MiB.
var maxOutput = MaxDecompressedSize

// Sentinel errors. Decompression failures wrap ErrCorrupt or ErrTooLarge;
// level validation returns a *LevelError, which matches ErrInvalidLevel.
var (
	ErrUnknownCodec = errors.New("compress: unknown codec")
	ErrInvalidLevel = errors.New("compress: invalid compression level")
	ErrCorrupt      = errors.New("compress: corrupt compressed data")
	ErrTooLarge     = errors.New("compress: decompressed data exceeds limit")
)

// LevelError reports a compression level outside the range the Java client
// accepts, naming the Java property so that users of FromProperties know
// which setting to fix. It matches ErrInvalidLevel with errors.Is.
type LevelError struct {
	Property string // e.g. compression.lz4.level
	Level    int    // the rejected level
	Min, Max int    // the valid range, inclusive
}

func (e *LevelError) Error() string {
	return fmt.Sprintf("compress: %s=%d out of range [%d, %d]", e.Property, e.Level, e.Min, e.Max)
}

// Is reports that every LevelError matches ErrInvalidLevel.
func (e *LevelError) Is(target error) bool { return target == ErrInvalidLevel }

var codecNames = [...]string{None: "none", Gzip: "gzip", Snappy: "snappy", LZ4: "lz4", Zstd: "zstd"}

// ParseCodec returns the codec named as in Java's compression.type: "none",
// "gzip", "snappy", "lz4" or "zstd" (case-insensitive). It is safe for
// concurrent use.
func ParseCodec(name string) (Codec, error) {
	for c, n := range codecNames {
		if strings.EqualFold(name, n) {
			return Codec(c), nil
		}
	}
	return None, fmt.Errorf("%w: compression.type=%q (want none, gzip, snappy, lz4 or zstd)", ErrUnknownCodec, name)
}

// String returns the codec's compression.type name, or "codec(n)" for a
// number Kafka does not define.
func (c Codec) String() string {
	if c >= 0 && int(c) < len(codecNames) {
		return codecNames[c]
	}
	return fmt.Sprintf("codec(%d)", int8(c))
}

// Compressor compresses with one codec at one level. It is safe for
// concurrent use: each call borrows a pooled encoder, so a warm Compressor
// allocates (almost) nothing. Create one per (codec, level) and share it.
type Compressor struct {
	codec Codec
	level int // the validated Java level, defaults applied
	gz    *gzipPool
	lz    *lz4Pool
	zs    *zstdPool
}

// NewCompressor returns a Compressor for codec c at the given level, using
// the Java property's range and default (level 0 means the default; see the
// package documentation for the ranges and the level mapping). Snappy and
// None take no level; a non-zero one is rejected.
func NewCompressor(c Codec, level int) (*Compressor, error) {
	cp := &Compressor{codec: c}
	switch c {
	case None, Snappy:
		if level != 0 {
			return nil, &LevelError{Property: "compression." + c.String() + ".level", Level: level}
		}
	case Gzip:
		if level == 0 || level == -1 {
			level = gzipDefaultLevel
		}
		if level < 1 || level > 9 {
			return nil, &LevelError{Property: "compression.gzip.level", Level: level, Min: 1, Max: 9}
		}
		cp.gz = newGzipPool(level)
	case LZ4:
		if level == 0 {
			level = lz4DefaultLevel
		}
		if level < 1 || level > 17 {
			return nil, &LevelError{Property: "compression.lz4.level", Level: level, Min: 1, Max: 17}
		}
		cp.lz = newLZ4Pool(level)
	case Zstd:
		if level == 0 {
			level = zstdDefaultLevel
		}
		if level < zstdMinLevel || level > zstdMaxLevel {
			return nil, &LevelError{Property: "compression.zstd.level", Level: level, Min: zstdMinLevel, Max: zstdMaxLevel}
		}
		cp.zs = newZstdPool(level)
	default:
		return nil, fmt.Errorf("%w: %d", ErrUnknownCodec, int8(c))
	}
	cp.level = level
	return cp, nil
}

// Codec returns the codec c compresses with. A nil Compressor reports None.
func (c *Compressor) Codec() Codec {
	if c == nil {
		return None
	}
	return c.codec
}

// Level returns the effective Java level, the default applied (0 for None
// and Snappy).
func (c *Compressor) Level() int { return c.level }

// Compress appends the compressed form of src to dst and returns the
// extended slice. It is safe for concurrent use and does not block beyond
// the CPU work. With None it appends src unchanged.
func (c *Compressor) Compress(dst, src []byte) ([]byte, error) {
	switch c.codec {
	case None:
		return append(dst, src...), nil
	case Gzip:
		return c.gz.compress(dst, src)
	case Snappy:
		return snappyCompress(dst, src), nil
	case LZ4:
		return c.lz.compress(dst, src)
	case Zstd:
		return c.zs.compress(dst, src), nil
	}
	return dst, fmt.Errorf("%w: %d", ErrUnknownCodec, int8(c.codec))
}

// Decompress appends the decompressed form of src, compressed with codec c,
// to dst and returns the extended slice. It is safe for concurrent use and
// pools its decoders. Output beyond [MaxDecompressedSize] fails with an
// error matching ErrTooLarge; malformed input fails with one matching
// ErrCorrupt. Neither panics on any input.
func Decompress(dst []byte, c Codec, src []byte) ([]byte, error) {
	switch c {
	case None:
		if len(src) > maxOutput {
			return dst, ErrTooLarge
		}
		return append(dst, src...), nil
	case Gzip:
		return gzipDecompress(dst, src)
	case Snappy:
		return snappyDecompress(dst, src)
	case LZ4:
		return lz4Decompress(dst, src)
	case Zstd:
		return zstdDecompress(dst, src)
	}
	return dst, fmt.Errorf("%w: %d", ErrUnknownCodec, int8(c))
}
