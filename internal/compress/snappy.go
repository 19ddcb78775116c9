package compress

// Snappy has two framings in Kafka. Java writes xerial framing (snappy-java's
// SnappyOutputStream): a 16-byte header — the magic 0x82 "SNAPPY" 0x00, then
// version 1 and minimum compatible version 1 as big-endian int32s — followed
// by chunks, each a big-endian int32 length and one raw snappy block of up
// to 32 KiB of input. librdkafka writes a single raw snappy block instead.
//
// We write xerial framing. It is what the Java producer writes, every client
// reads it, and old consumers that only understand the Java output keep
// working; the 16-byte header and 4 bytes per 32 KiB chunk are noise next to
// a batch. We read both: input that starts with the xerial magic is framed,
// anything else is one raw block — the same rule Java, librdkafka and
// franz-go apply.

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/golang/snappy"
)

var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const (
	xerialHeaderSize = 16
	// xerialChunk is snappy-java's default block size, the input size of
	// each chunk Java writes.
	xerialChunk = 32 << 10
	// snappyMaxRatio bounds how much a raw snappy block can expand: the
	// densest element, a 3-byte copy, yields 64 bytes (about 21x). A block
	// claiming more than this is corrupt, and rejecting it up front stops a
	// 10-byte input from making us allocate its claimed size.
	snappyMaxRatio = 32
)

// snappyCompress appends src in xerial framing. It allocates only when dst
// lacks room, encoding each chunk straight into dst's spare capacity.
func snappyCompress(dst, src []byte) []byte {
	dst = append(dst, xerialMagic...)
	dst = binary.BigEndian.AppendUint32(dst, 1) // version
	dst = binary.BigEndian.AppendUint32(dst, 1) // minimum compatible version
	for len(src) > 0 {
		chunk := src[:min(len(src), xerialChunk)]
		src = src[len(chunk):]
		at := len(dst)
		need := 4 + snappy.MaxEncodedLen(len(chunk))
		dst = growLen(dst, need)
		enc := snappy.Encode(dst[at+4:at+need], chunk)
		binary.BigEndian.PutUint32(dst[at:], uint32(len(enc)))
		dst = dst[:at+4+len(enc)]
	}
	return dst
}

// growLen extends dst's length by n, reallocating only without room.
func growLen(dst []byte, n int) []byte {
	if cap(dst)-len(dst) < n {
		dst = append(dst[:cap(dst)], make([]byte, n-(cap(dst)-len(dst)))...)
		return dst
	}
	return dst[:len(dst)+n]
}

func snappyDecompress(dst, src []byte) ([]byte, error) {
	if !bytes.HasPrefix(src, xerialMagic) {
		return snappyDecodeBlock(dst, src, len(dst))
	}
	if len(src) < xerialHeaderSize {
		return dst, fmt.Errorf("%w: snappy: truncated xerial header", ErrCorrupt)
	}
	start := len(dst)
	src = src[xerialHeaderSize:]
	for len(src) > 0 {
		if len(src) < 4 {
			return dst[:start], fmt.Errorf("%w: snappy: truncated xerial chunk length", ErrCorrupt)
		}
		n := binary.BigEndian.Uint32(src)
		src = src[4:]
		if uint64(n) > uint64(len(src)) {
			return dst[:start], fmt.Errorf("%w: snappy: xerial chunk of %d bytes, %d left", ErrCorrupt, n, len(src))
		}
		var err error
		if dst, err = snappyDecodeBlock(dst, src[:n], start); err != nil {
			return dst[:start], err
		}
		src = src[n:]
	}
	return dst, nil
}

// snappyDecodeBlock appends one raw snappy block to dst; start is where
// this Decompress call's output began, for the size bound.
func snappyDecodeBlock(dst, src []byte, start int) ([]byte, error) {
	n, err := snappy.DecodedLen(src)
	if err != nil {
		return dst, corrupt("snappy", err)
	}
	if n > snappyMaxRatio*len(src) {
		return dst, fmt.Errorf("%w: snappy: block of %d bytes claims %d", ErrCorrupt, len(src), n)
	}
	if len(dst)-start+n > maxOutput {
		return dst, fmt.Errorf("%w: snappy output over %d bytes", ErrTooLarge, maxOutput)
	}
	at := len(dst)
	dst = growLen(dst, n)
	// Decode writes into dst[at:] because it is exactly the decoded length.
	if _, err := snappy.Decode(dst[at:], src); err != nil {
		return dst[:at], corrupt("snappy", err)
	}
	return dst, nil
}
