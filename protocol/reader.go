package protocol

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Reader decodes Kafka primitives from a byte slice and keeps the first error.
//
// Decoders call a run of Reader methods without checking anything in
// between; once input runs short or a length is invalid, every later call
// returns a zero value and Err reports the first failure. This keeps message
// decoders as flat as their schemas while making hostile input harmless:
// lengths are checked against the bytes actually present before anything is
// allocated, so a length prefix claiming 2 GiB in a 20-byte frame costs
// nothing.
//
// Bytes returned by the Bytes family alias the input; strings are copied.
// A Reader is not safe for concurrent use.
type Reader struct {
	b   []byte
	off int
	err error
}

// NewReader returns a Reader over b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Reset makes r read b from the start and clears its error.
func (r *Reader) Reset(b []byte) { *r = Reader{b: b} }

// Err returns the first decoding error, or nil.
func (r *Reader) Err() error { return r.err }

// Remaining returns the number of unread bytes.
func (r *Reader) Remaining() int { return len(r.b) - r.off }

// Offset returns how many bytes have been consumed.
func (r *Reader) Offset() int { return r.off }

// Fail records err as the decoding error unless one is already set.
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Complete returns the first error, or an error if unread bytes remain.
func (r *Reader) Complete() error {
	if r.err != nil {
		return r.err
	}
	if rem := r.Remaining(); rem != 0 {
		return &DecodeError{Offset: r.off, Reason: fmt.Sprintf("%d trailing bytes", rem)}
	}
	return nil
}

func (r *Reader) fail(reason string) {
	if r.err == nil {
		r.err = &DecodeError{Offset: r.off, Reason: reason}
	}
}

// take returns the next n bytes, or nil and an error when fewer remain.
func (r *Reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.fail(fmt.Sprintf("need %d bytes, have %d", n, len(r.b)-r.off))
		return nil
	}
	s := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return s
}

// Skip discards n bytes.
func (r *Reader) Skip(n int) { r.take(n) }

// Bool reads one byte as a boolean.
func (r *Reader) Bool() bool { return r.Int8() != 0 }

// Int8 reads an int8.
func (r *Reader) Int8() int8 {
	b := r.take(1)
	if b == nil {
		return 0
	}
	return int8(b[0])
}

// Int16 reads a big-endian int16.
func (r *Reader) Int16() int16 {
	b := r.take(2)
	if b == nil {
		return 0
	}
	return int16(binary.BigEndian.Uint16(b))
}

// Int32 reads a big-endian int32.
func (r *Reader) Int32() int32 {
	b := r.take(4)
	if b == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

// Int64 reads a big-endian int64.
func (r *Reader) Int64() int64 {
	b := r.take(8)
	if b == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

// Uint32 reads a big-endian uint32.
func (r *Reader) Uint32() uint32 {
	b := r.take(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

// Float64 reads a big-endian IEEE 754 double.
func (r *Reader) Float64() float64 { return math.Float64frombits(uint64(r.Int64())) }

// Uvarlong reads an unsigned varint of at most 10 bytes.
func (r *Reader) Uvarlong() uint64 {
	if r.err != nil {
		return 0
	}
	var v uint64
	for i := 0; i < 10; i++ {
		if r.off >= len(r.b) {
			r.fail("truncated varint")
			return 0
		}
		c := r.b[r.off]
		r.off++
		if i == 9 && c > 1 {
			break
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v
		}
	}
	r.fail("varint overflows 64 bits")
	return 0
}

// Uvarint reads an unsigned varint of at most 5 bytes.
func (r *Reader) Uvarint() uint32 {
	if r.err != nil {
		return 0
	}
	var v uint32
	for i := 0; i < 5; i++ {
		if r.off >= len(r.b) {
			r.fail("truncated varint")
			return 0
		}
		c := r.b[r.off]
		r.off++
		if i == 4 && c > 0x0f {
			break
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v
		}
	}
	r.fail("varint overflows 32 bits")
	return 0
}

// Varint reads a zigzag varint.
func (r *Reader) Varint() int32 {
	u := r.Uvarint()
	return int32(u>>1) ^ -int32(u&1)
}

// Varlong reads a zigzag varlong.
func (r *Reader) Varlong() int64 {
	u := r.Uvarlong()
	return int64(u>>1) ^ -int64(u&1)
}

// UUID reads 16 bytes.
func (r *Reader) UUID() (u [16]byte) {
	copy(u[:], r.take(16))
	return u
}

// compactLen reads a uvarint length+1; -1 means null.
func (r *Reader) compactLen() int {
	n := r.Uvarint()
	return int(n) - 1
}

// String reads an int16-length string; a null string reads as "".
func (r *Reader) String() string {
	n := int(r.Int16())
	if n < 0 {
		if n != -1 {
			r.fail("negative string length")
		}
		return ""
	}
	return string(r.take(n))
}

// NullableString reads an int16-length string, nil for null.
func (r *Reader) NullableString() *string {
	n := int(r.Int16())
	if n < 0 {
		if n != -1 {
			r.fail("negative string length")
		}
		return nil
	}
	b := r.take(n)
	if r.err != nil {
		return nil
	}
	s := string(b)
	return &s
}

// CompactString reads a uvarint-length string; a null string reads as "".
func (r *Reader) CompactString() string {
	n := r.compactLen()
	if n < 0 {
		return ""
	}
	return string(r.take(n))
}

// CompactNullableString reads a uvarint-length string, nil for null.
func (r *Reader) CompactNullableString() *string {
	n := r.compactLen()
	if n < 0 || r.err != nil {
		return nil
	}
	b := r.take(n)
	if r.err != nil {
		return nil
	}
	s := string(b)
	return &s
}

// StringF reads a compact string when flexible, a classic one otherwise.
func (r *Reader) StringF(flexible bool) string {
	if flexible {
		return r.CompactString()
	}
	return r.String()
}

// NullableStringF reads a nullable compact or classic string.
func (r *Reader) NullableStringF(flexible bool) *string {
	if flexible {
		return r.CompactNullableString()
	}
	return r.NullableString()
}

// Bytes reads int32-length bytes; null reads as nil.
func (r *Reader) Bytes() []byte {
	n := int(r.Int32())
	if n < 0 {
		if n != -1 {
			r.fail("negative bytes length")
		}
		return nil
	}
	b := r.take(n)
	if b == nil && r.err == nil {
		return []byte{}
	}
	return b
}

// CompactBytes reads uvarint-length bytes; null reads as nil.
func (r *Reader) CompactBytes() []byte {
	n := r.compactLen()
	if n < 0 {
		return nil
	}
	b := r.take(n)
	if b == nil && r.err == nil {
		return []byte{}
	}
	return b
}

// BytesF reads compact bytes when flexible, classic otherwise. A null value
// reads as nil and an empty one as a non-nil empty slice.
func (r *Reader) BytesF(flexible bool) []byte {
	if flexible {
		return r.CompactBytes()
	}
	return r.Bytes()
}

// ArrayLen reads an array length (int32, or uvarint n+1 when flexible) and
// returns -1 for a null array. The length is checked against the remaining
// bytes, at least one byte per element, so callers may make([]T, n) safely.
func (r *Reader) ArrayLen(flexible bool) int {
	var n int
	if flexible {
		n = r.compactLen()
	} else {
		n = int(r.Int32())
		if n < -1 {
			r.fail("negative array length")
			return -1
		}
	}
	if r.err != nil {
		return -1
	}
	if n > r.Remaining() {
		r.fail(fmt.Sprintf("array length %d exceeds %d remaining bytes", n, r.Remaining()))
		return -1
	}
	return n
}

// SkipTags reads a tagged-field section when flexible and discards every
// field in it. Message decoders that know some tags use Tags instead.
func (r *Reader) SkipTags(flexible bool) {
	if flexible {
		r.Tags(nil)
	}
}

// Tags reads a tagged-field section, calling fn with each field's tag and a
// Reader over exactly its body. Unknown tags (fn returns false, or fn is nil)
// are skipped. Errors in a body are reported as errors of r.
func (r *Reader) Tags(fn func(tag uint32, body *Reader) bool) {
	n := r.Uvarint()
	if r.err != nil {
		return
	}
	if int(n) > r.Remaining() {
		r.fail("tag count exceeds remaining bytes")
		return
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		tag := r.Uvarint()
		size := r.Uvarint()
		body := r.take(int(size))
		if r.err != nil || fn == nil {
			continue
		}
		br := Reader{b: body}
		fn(tag, &br)
		if br.err != nil {
			r.Fail(br.err)
		}
	}
}

// DecodeError reports malformed input: where it was found and why.
type DecodeError struct {
	Offset int    // byte offset into the decoded buffer
	Reason string // what was wrong
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("protocol: malformed input at byte %d: %s", e.Offset, e.Reason)
}

// Is reports that every DecodeError matches ErrMalformed.
func (e *DecodeError) Is(target error) bool { return target == ErrMalformed }
