package protocol

// A record inside a v2 batch is a run of zigzag varints and raw bytes:
//
//	Length varint (of everything after it)
//	Attributes int8 (always 0)
//	TimestampDelta varlong · OffsetDelta varint
//	KeyLength varint (-1 = null) · Key
//	ValueLength varint (-1 = null) · Value
//	HeaderCount varint · per header: KeyLength varint, Key (never null),
//	ValueLength varint (-1 = null), Value
//
// The builder needs a record's exact size before writing it (the length
// prefix comes first, and the accumulator checks room before appending), so
// sizing and encoding live side by side here and must agree byte for byte;
// the tests check that they do for every shape of record.

// Header is one record header. Its Key is never null on the wire; a nil
// Value is a null value, distinct from an empty one.
type Header struct {
	Key   string
	Value []byte
}

// Worst-case varint widths, for sizing a record before its deltas are known.
const (
	maxVarintLen  = 5
	maxVarlongLen = 10
)

// nullableLen returns the length field for b: -1 for nil (null).
func nullableLen(b []byte) int32 {
	if b == nil {
		return -1
	}
	return int32(len(b))
}

// RecordFieldsSize returns the encoded size of a record's key, value and
// headers, the part of its size that does not depend on its position in a
// batch. Callers that size and then append the same record compute it once
// and pass it to EstimateRecordSizeFields and BatchBuilder.AppendFields.
func RecordFieldsSize(key, value []byte, headers []Header) int {
	return recordFieldsSize(key, value, headers)
}

// EstimateRecordSizeFields is EstimateRecordSize from RecordFieldsSize.
func EstimateRecordSizeFields(fields int) int {
	return maxVarintLen + 1 + maxVarlongLen + maxVarintLen + fields
}

// recordFieldsSize is the size of a record's key, value and headers fields,
// the part that does not depend on the deltas.
func recordFieldsSize(key, value []byte, headers []Header) int {
	n := VarintLen(nullableLen(key)) + len(key) +
		VarintLen(nullableLen(value)) + len(value) +
		VarintLen(int32(len(headers)))
	for i := range headers {
		h := &headers[i]
		n += VarintLen(int32(len(h.Key))) + len(h.Key) +
			VarintLen(nullableLen(h.Value)) + len(h.Value)
	}
	return n
}

// RecordSize returns the exact encoded size of a record, its length prefix
// included, given its timestamp and offset deltas within the batch. It does
// not allocate and is safe for concurrent use.
func RecordSize(timestampDelta int64, offsetDelta int32, key, value []byte, headers []Header) int {
	body := 1 + VarlongLen(timestampDelta) + VarintLen(offsetDelta) + recordFieldsSize(key, value, headers)
	return VarintLen(int32(body)) + body
}

// EstimateRecordSize returns an upper bound on a record's encoded size that
// holds for any timestamp and offset delta: it assumes the widest varints
// for both deltas and for the length prefix. Use it to size a buffer for a
// batch's first record, before the base timestamp is known. It does not
// allocate and is safe for concurrent use.
func EstimateRecordSize(key, value []byte, headers []Header) int {
	return maxVarintLen + 1 + maxVarlongLen + maxVarintLen + recordFieldsSize(key, value, headers)
}

// appendRecord appends one encoded record to dst.
func appendRecord(dst []byte, timestampDelta int64, offsetDelta int32, key, value []byte, headers []Header) []byte {
	body := 1 + VarlongLen(timestampDelta) + VarintLen(offsetDelta) + recordFieldsSize(key, value, headers)
	return appendRecordBody(dst, body, timestampDelta, offsetDelta, key, value, headers)
}

// appendRecordBody appends a record whose body size (everything after the
// length prefix) is already known.
func appendRecordBody(dst []byte, body int, timestampDelta int64, offsetDelta int32, key, value []byte, headers []Header) []byte {
	dst = AppendVarint(dst, int32(body))
	dst = append(dst, 0) // attributes: unused in v2
	dst = AppendVarlong(dst, timestampDelta)
	dst = AppendVarint(dst, offsetDelta)
	dst = appendNullableVarBytes(dst, key)
	dst = appendNullableVarBytes(dst, value)
	dst = AppendVarint(dst, int32(len(headers)))
	for i := range headers {
		h := &headers[i]
		dst = AppendVarint(dst, int32(len(h.Key)))
		dst = append(dst, h.Key...)
		dst = appendNullableVarBytes(dst, h.Value)
	}
	return dst
}

// appendNullableVarBytes appends b with a zigzag varint length, -1 for nil.
func appendNullableVarBytes(dst, b []byte) []byte {
	dst = AppendVarint(dst, nullableLen(b))
	return append(dst, b...)
}
