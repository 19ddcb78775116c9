package protocol

import (
	"encoding/binary"
	"math"
)

// The encoders in this file append one Kafka primitive to dst and return the
// extended slice, in the style of strconv.AppendInt. They never allocate when
// dst has room, which is what keeps request and batch encoding allocation
// free on the hot path.
//
// Kafka has two families of length-prefixed types: classic (int16/int32
// lengths, -1 for null) and compact (unsigned varint of length+1, 0 for null),
// used by flexible versions (KIP-482). The *F helpers pick the family from a
// flexible flag so that message encoders read like the schema.

// AppendBool appends a boolean as one byte.
func AppendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// AppendInt8 appends v.
func AppendInt8(dst []byte, v int8) []byte { return append(dst, byte(v)) }

// AppendInt16 appends v big-endian.
func AppendInt16(dst []byte, v int16) []byte { return binary.BigEndian.AppendUint16(dst, uint16(v)) }

// AppendInt32 appends v big-endian.
func AppendInt32(dst []byte, v int32) []byte { return binary.BigEndian.AppendUint32(dst, uint32(v)) }

// AppendInt64 appends v big-endian.
func AppendInt64(dst []byte, v int64) []byte { return binary.BigEndian.AppendUint64(dst, uint64(v)) }

// AppendUint32 appends v big-endian.
func AppendUint32(dst []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(dst, v) }

// AppendFloat64 appends v as an IEEE 754 big-endian double.
func AppendFloat64(dst []byte, v float64) []byte {
	return binary.BigEndian.AppendUint64(dst, math.Float64bits(v))
}

// AppendUvarint appends v as an unsigned LEB128 varint.
func AppendUvarint(dst []byte, v uint32) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// AppendUvarlong appends v as an unsigned LEB128 varint of up to 10 bytes.
func AppendUvarlong(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// AppendVarint appends v zigzag-encoded, as record fields are.
func AppendVarint(dst []byte, v int32) []byte {
	return AppendUvarint(dst, uint32(v<<1)^uint32(v>>31))
}

// AppendVarlong appends v zigzag-encoded.
func AppendVarlong(dst []byte, v int64) []byte {
	return AppendUvarlong(dst, uint64(v<<1)^uint64(v>>63))
}

// VarintLen returns how many bytes AppendVarint uses for v.
func VarintLen(v int32) int { return uvarintLen(uint64(uint32(v<<1) ^ uint32(v>>31))) }

// VarlongLen returns how many bytes AppendVarlong uses for v.
func VarlongLen(v int64) int { return uvarintLen(uint64(v<<1) ^ uint64(v>>63)) }

// UvarintLen returns how many bytes AppendUvarint uses for v.
func UvarintLen(v uint32) int { return uvarintLen(uint64(v)) }

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// AppendUUID appends a 16-byte UUID.
func AppendUUID(dst []byte, u [16]byte) []byte { return append(dst, u[:]...) }

// AppendString appends s with an int16 length.
func AppendString(dst []byte, s string) []byte {
	dst = AppendInt16(dst, int16(len(s)))
	return append(dst, s...)
}

// AppendNullableString appends s with an int16 length, -1 when s is nil.
func AppendNullableString(dst []byte, s *string) []byte {
	if s == nil {
		return AppendInt16(dst, -1)
	}
	return AppendString(dst, *s)
}

// AppendCompactString appends s with a uvarint length+1.
func AppendCompactString(dst []byte, s string) []byte {
	dst = AppendUvarint(dst, uint32(len(s))+1)
	return append(dst, s...)
}

// AppendCompactNullableString appends s with a uvarint length+1, 0 when nil.
func AppendCompactNullableString(dst []byte, s *string) []byte {
	if s == nil {
		return AppendUvarint(dst, 0)
	}
	return AppendCompactString(dst, *s)
}

// AppendBytes appends b with an int32 length; nil is written as empty.
func AppendBytes(dst []byte, b []byte) []byte {
	dst = AppendInt32(dst, int32(len(b)))
	return append(dst, b...)
}

// AppendNullableBytes appends b with an int32 length, -1 when b is nil.
func AppendNullableBytes(dst []byte, b []byte) []byte {
	if b == nil {
		return AppendInt32(dst, -1)
	}
	return AppendBytes(dst, b)
}

// AppendCompactBytes appends b with a uvarint length+1.
func AppendCompactBytes(dst []byte, b []byte) []byte {
	dst = AppendUvarint(dst, uint32(len(b))+1)
	return append(dst, b...)
}

// AppendCompactNullableBytes appends b with a uvarint length+1, 0 when nil.
func AppendCompactNullableBytes(dst []byte, b []byte) []byte {
	if b == nil {
		return AppendUvarint(dst, 0)
	}
	return AppendCompactBytes(dst, b)
}

// AppendStringF appends s in compact form when flexible, classic otherwise.
func AppendStringF(dst []byte, s string, flexible bool) []byte {
	if flexible {
		return AppendCompactString(dst, s)
	}
	return AppendString(dst, s)
}

// AppendNullableStringF is AppendStringF for nullable strings.
func AppendNullableStringF(dst []byte, s *string, flexible bool) []byte {
	if flexible {
		return AppendCompactNullableString(dst, s)
	}
	return AppendNullableString(dst, s)
}

// AppendBytesF appends b in compact form when flexible, classic otherwise.
func AppendBytesF(dst []byte, b []byte, flexible bool) []byte {
	if flexible {
		return AppendCompactBytes(dst, b)
	}
	return AppendBytes(dst, b)
}

// AppendNullableBytesF is AppendBytesF for nullable bytes.
func AppendNullableBytesF(dst []byte, b []byte, flexible bool) []byte {
	if flexible {
		return AppendCompactNullableBytes(dst, b)
	}
	return AppendNullableBytes(dst, b)
}

// AppendArrayLen appends an array length: int32 classic, uvarint n+1 compact.
func AppendArrayLen(dst []byte, n int, flexible bool) []byte {
	if flexible {
		return AppendUvarint(dst, uint32(n)+1)
	}
	return AppendInt32(dst, int32(n))
}

// AppendNullableArrayLen appends an array length, or null when n < 0.
func AppendNullableArrayLen(dst []byte, n int, flexible bool) []byte {
	if n < 0 {
		if flexible {
			return AppendUvarint(dst, 0)
		}
		return AppendInt32(dst, -1)
	}
	return AppendArrayLen(dst, n, flexible)
}

// AppendEmptyTags appends an empty tagged-field section when flexible.
func AppendEmptyTags(dst []byte, flexible bool) []byte {
	if flexible {
		return append(dst, 0)
	}
	return dst
}

// AppendTag appends one tagged field: tag, size, then the already encoded
// field body. Callers write the tag count first with AppendUvarint.
func AppendTag(dst []byte, tag uint32, body []byte) []byte {
	dst = AppendUvarint(dst, tag)
	dst = AppendUvarint(dst, uint32(len(body)))
	return append(dst, body...)
}
