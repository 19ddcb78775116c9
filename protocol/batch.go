package protocol

// The batch builder follows the Java producer's MemoryRecordsBuilder: each
// record is encoded straight into the batch's own buffer as it is appended,
// behind 61 reserved header bytes, so that closing a batch only has to
// (optionally) compress the records section in place and patch the header.
// There is no second copy of a batch and no per-record allocation; the
// buffer comes from the accumulator's pool, so the pool's byte count is an
// exact account of batch memory (Java's buffer.memory).
//
// Compression happens once, at Close. The records section is compressed into
// a pooled scratch buffer and copied back over the uncompressed records only
// when smaller — a compressed section that is not smaller is useless, and
// keeping the original means the batch never outgrows its buffer at Close.
//
// The CRC (CRC-32C) covers Attributes through the end, which includes the
// producer id, epoch and base sequence. RestampBatch rewrites those and
// recomputes the CRC in place, which is how an idempotent producer assigns
// sequences at drain time or re-stamps a batch after an epoch bump without
// rebuilding it.

import (
	"encoding/binary"
	"hash/crc32"
	"sync"

	"github.com/tributary-go/tributary/internal/compress"
)

// BatchHeaderSize is the size of a v2 record batch header: everything
// before the first record.
const BatchHeaderSize = 61

// Values a batch carries when its producer is not idempotent.
const (
	NoProducerID    int64 = -1
	NoProducerEpoch int16 = -1
	NoSequence      int32 = -1
)

// Byte offsets of the v2 batch header fields.
const (
	offBaseOffset      = 0
	offLength          = 8
	offLeaderEpoch     = 12
	offMagic           = 16
	offCRC             = 17
	offAttributes      = 21
	offLastOffsetDelta = 23
	offBaseTimestamp   = 27
	offMaxTimestamp    = 35
	offProducerID      = 43
	offProducerEpoch   = 51
	offBaseSequence    = 53
	offRecordCount     = 57
)

// Batch attribute bits.
const (
	attrCodecMask     = 0x07
	attrLogAppendTime = 0x08
	attrTransactional = 0x10
	attrControl       = 0x20
)

// lengthFieldEnd is where the bytes counted by the Length field begin.
const lengthFieldEnd = offLength + 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// BatchOptions are the producer-level fields written when a batch closes.
// A producer that is not idempotent passes [NoProducerID], [NoProducerEpoch]
// and [NoSequence]; the zero value is producer id 0, a valid id.
type BatchOptions struct {
	ProducerID    int64
	ProducerEpoch int16
	BaseSequence  int32
	Transactional bool
	// Compressor compresses the records section; nil means none.
	Compressor *compress.Compressor
}

// BatchBuilder encodes a v2 (magic 2) record batch into a caller-supplied
// buffer. It is not safe for concurrent use: the accumulator guards each
// open batch with its partition's lock. The zero value is ready after Reset.
type BatchBuilder struct {
	buf           []byte
	numRecords    int32
	baseTimestamp int64
	maxTimestamp  int64
	closed        bool
}

// Reset starts a new batch in buf: buf[:0] is reused and its capacity is
// the batch's memory. Reset reserves the 61-byte header, growing buf only
// if its capacity is below that.
func (b *BatchBuilder) Reset(buf []byte) {
	if cap(buf) < BatchHeaderSize {
		buf = make([]byte, 0, BatchHeaderSize)
	}
	*b = BatchBuilder{buf: buf[:BatchHeaderSize], baseTimestamp: -1, maxTimestamp: -1}
}

// AppendFields appends a record whose RecordFieldsSize is fields, but only
// if the batch stays within limit bytes; it reports whether it appended.
// The first record of a batch is always appended. It computes the record's
// size once for both the check and the encoding, and does not allocate
// when the buffer has room.
func (b *BatchBuilder) AppendFields(timestampMillis int64, fields int, key, value []byte, headers []Header, limit int) bool {
	if b.closed {
		panic("protocol: BatchBuilder.AppendFields after Close")
	}
	delta, body := b.recordBody(timestampMillis, fields)
	if b.numRecords > 0 && len(b.buf)+VarintLen(int32(body))+body > limit {
		return false
	}
	if b.numRecords == 0 {
		b.baseTimestamp, b.maxTimestamp = timestampMillis, timestampMillis
	} else if timestampMillis > b.maxTimestamp {
		b.maxTimestamp = timestampMillis
	}
	b.buf = appendRecordBody(b.buf, body, delta, b.numRecords, key, value, headers)
	b.numRecords++
	return true
}

// recordBody returns the next record's timestamp delta and the length of
// its body (everything after its length varint).
func (b *BatchBuilder) recordBody(timestampMillis int64, fields int) (int64, int) {
	base := timestampMillis
	if b.numRecords > 0 {
		base = b.baseTimestamp
	}
	delta := timestampMillis - base
	return delta, 1 + VarlongLen(delta) + VarintLen(b.numRecords) + fields
}

// LenWith returns what Len would be after AppendFields appended a record
// with this timestamp and RecordFieldsSize, exactly: the accumulator checks
// it against the buffer's capacity to decide whether to grow it first.
func (b *BatchBuilder) LenWith(timestampMillis int64, fields int) int {
	_, body := b.recordBody(timestampMillis, fields)
	return len(b.buf) + VarintLen(int32(body)) + body
}

// Grow moves the open batch into buf, whose capacity becomes the batch's
// memory: the bytes written so far (header reservation and records) are
// copied, and appends carry on in buf. The caller returns the old buffer
// to its pool. Grow reports false, and changes nothing, when buf is too
// small for the bytes written or the batch is closed. It does not allocate.
func (b *BatchBuilder) Grow(buf []byte) bool {
	if b.closed || cap(buf) < len(b.buf) {
		return false
	}
	b.buf = append(buf[:0], b.buf...)
	return true
}

// Append adds a record with the given CreateTime timestamp (milliseconds).
// The first record's timestamp becomes the batch's base timestamp and each
// record's offset delta is its index. Append does not allocate when the
// buffer has room for [RecordSize] more bytes; otherwise buf grows as
// append grows it. The record's slices are copied, not retained. Append
// panics if called after Close, which would corrupt the batch.
func (b *BatchBuilder) Append(timestampMillis int64, key, value []byte, headers []Header) {
	if b.closed {
		panic("protocol: BatchBuilder.Append after Close")
	}
	if b.numRecords == 0 {
		b.baseTimestamp = timestampMillis
		b.maxTimestamp = timestampMillis
	} else if timestampMillis > b.maxTimestamp {
		b.maxTimestamp = timestampMillis
	}
	b.buf = appendRecord(b.buf, timestampMillis-b.baseTimestamp, b.numRecords, key, value, headers)
	b.numRecords++
}

// Len returns the number of bytes written so far, header included: the
// size of the batch if it were closed uncompressed now.
func (b *BatchBuilder) Len() int { return len(b.buf) }

// NumRecords returns the number of records appended.
func (b *BatchBuilder) NumRecords() int { return int(b.numRecords) }

// BaseTimestamp returns the first record's timestamp, or -1 before any.
func (b *BatchBuilder) BaseTimestamp() int64 { return b.baseTimestamp }

// Bytes returns the builder's buffer: the batch so far, or the finished
// batch after Close. The caller returns it to its pool when done.
func (b *BatchBuilder) Bytes() []byte { return b.buf }

// scratchPool holds compression scratch buffers shared by all builders.
var scratchPool = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledScratch keeps one outsized batch from pinning a huge scratch
// buffer in the pool forever.
const maxPooledScratch = 4 << 20

// Close finishes the batch and returns it; the result aliases the buffer
// passed to Reset (possibly grown). With a compressor the records section
// is compressed, and the compressed form replaces it only when smaller.
// Close then writes the header: base offset 0, partition leader epoch -1,
// the CRC and the fields from opts. The error is a compression failure,
// after which the batch is left uncompressed and unclosed. Closing twice
// returns the same batch. Close does not allocate without compression.
func (b *BatchBuilder) Close(opts BatchOptions) ([]byte, error) {
	if b.closed {
		return b.buf, nil
	}
	if len(b.buf) < BatchHeaderSize {
		b.Reset(b.buf) // the zero value: an empty batch
	}
	var attrs int16
	if c := opts.Compressor; c != nil && c.Codec() != compress.None {
		smaller, err := b.compressRecords(c)
		if err != nil {
			return nil, err
		}
		if smaller {
			attrs |= int16(c.Codec()) & attrCodecMask
		}
	}
	if opts.Transactional {
		attrs |= attrTransactional
	}
	h := b.buf[:BatchHeaderSize]
	binary.BigEndian.PutUint64(h[offBaseOffset:], 0)
	binary.BigEndian.PutUint32(h[offLength:], uint32(len(b.buf)-lengthFieldEnd))
	binary.BigEndian.PutUint32(h[offLeaderEpoch:], 0xFFFFFFFF) // -1: the broker sets it
	h[offMagic] = 2
	binary.BigEndian.PutUint16(h[offAttributes:], uint16(attrs))
	binary.BigEndian.PutUint32(h[offLastOffsetDelta:], uint32(b.numRecords-1))
	binary.BigEndian.PutUint64(h[offBaseTimestamp:], uint64(b.baseTimestamp))
	binary.BigEndian.PutUint64(h[offMaxTimestamp:], uint64(b.maxTimestamp))
	binary.BigEndian.PutUint64(h[offProducerID:], uint64(opts.ProducerID))
	binary.BigEndian.PutUint16(h[offProducerEpoch:], uint16(opts.ProducerEpoch))
	binary.BigEndian.PutUint32(h[offBaseSequence:], uint32(opts.BaseSequence))
	binary.BigEndian.PutUint32(h[offRecordCount:], uint32(b.numRecords))
	binary.BigEndian.PutUint32(h[offCRC:], crc32.Checksum(b.buf[offAttributes:], castagnoli))
	b.closed = true
	return b.buf, nil
}

// compressRecords compresses the records section into pooled scratch and,
// when the result is smaller, copies it back over the records. It reports
// whether it did.
func (b *BatchBuilder) compressRecords(c *compress.Compressor) (bool, error) {
	records := b.buf[BatchHeaderSize:]
	sp := scratchPool.Get().(*[]byte)
	out, err := c.Compress((*sp)[:0], records)
	smaller := err == nil && len(out) < len(records)
	if smaller {
		b.buf = b.buf[:BatchHeaderSize+copy(records, out)]
	}
	if cap(out) <= maxPooledScratch {
		*sp = out[:0]
	} else {
		*sp = nil
	}
	scratchPool.Put(sp)
	return smaller, err
}

// RestampBatch rewrites the producer id, epoch and base sequence of a
// closed batch in place and recomputes its CRC. An idempotent producer uses
// it to assign sequences at drain time and to re-stamp a batch after an
// epoch bump. It checks that batch is one whole v2 batch first and returns
// an error matching [ErrMalformed] if not. It does not allocate on success
// and is safe for concurrent use on distinct batches.
func RestampBatch(batch []byte, producerID int64, epoch int16, baseSequence int32) error {
	if len(batch) < BatchHeaderSize {
		return &DecodeError{Offset: 0, Reason: "record batch shorter than its 61-byte header"}
	}
	if m := int8(batch[offMagic]); m != 2 {
		return &DecodeError{Offset: offMagic, Reason: "record batch magic is not 2"}
	}
	if n := int64(int32(binary.BigEndian.Uint32(batch[offLength:]))); n != int64(len(batch)-lengthFieldEnd) {
		return &DecodeError{Offset: offLength, Reason: "record batch length does not match its bytes"}
	}
	binary.BigEndian.PutUint64(batch[offProducerID:], uint64(producerID))
	binary.BigEndian.PutUint16(batch[offProducerEpoch:], uint16(epoch))
	binary.BigEndian.PutUint32(batch[offBaseSequence:], uint32(baseSequence))
	binary.BigEndian.PutUint32(batch[offCRC:], crc32.Checksum(batch[offAttributes:], castagnoli))
	return nil
}

// AddSequence advances a producer sequence by n records, wrapping past
// math.MaxInt32 to 0 as Kafka does.
func AddSequence(seq int32, n int) int32 {
	s := int64(seq) + int64(n)
	const max = int64(^uint32(0) >> 1)
	if s > max {
		s -= max + 1
	}
	return int32(s)
}
