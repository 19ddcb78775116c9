package protocol

// ReadBatch is the inverse of BatchBuilder, for tests, the mock broker,
// diagnostics, and splitting a batch the broker rejected as too large. It is
// strict where Kafka is strict — magic 2, a Length that fits, a matching
// CRC-32C, exactly RecordCount records filling the records section — and it
// assumes the bytes may be hostile: every count is checked against the bytes
// that could hold it before anything is allocated, and decompression is
// bounded by compress.MaxDecompressedSize.

import (
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/tributary-go/tributary/internal/compress"
)

// ErrCRCMismatch is matched by the error ReadBatch returns when a batch's
// stored CRC differs from the CRC of its bytes. That error also matches
// [ErrMalformed].
var ErrCRCMismatch = errors.New("protocol: record batch CRC mismatch")

// CRCError reports a record batch whose stored CRC-32C does not match its
// contents. It matches both [ErrCRCMismatch] and [ErrMalformed].
type CRCError struct {
	Stored   uint32 // the CRC field in the header
	Computed uint32 // CRC-32C of Attributes through the end of the batch
}

func (e *CRCError) Error() string {
	return fmt.Sprintf("protocol: record batch CRC mismatch: stored %#08x, computed %#08x", e.Stored, e.Computed)
}

// Is reports that a CRCError matches ErrCRCMismatch and ErrMalformed.
func (e *CRCError) Is(target error) bool { return target == ErrCRCMismatch || target == ErrMalformed }

// RecordBatch is a decoded v2 record batch. Its fields mirror the header;
// Records holds the decoded records.
type RecordBatch struct {
	BaseOffset           int64
	Length               int32
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	BaseTimestamp        int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	NumRecords           int32
	Records              []Record
}

// Record is one decoded record. Key and Value are nil for null; for an
// uncompressed batch they alias the bytes given to ReadBatch, for a
// compressed one a buffer owned by the RecordBatch.
type Record struct {
	Attributes     int8
	TimestampDelta int64
	OffsetDelta    int32
	Key, Value     []byte
	Headers        []Header
}

// Codec returns the compression codec named by the batch's attributes.
func (b *RecordBatch) Codec() compress.Codec { return compress.Codec(b.Attributes & attrCodecMask) }

// Transactional reports whether the batch is part of a transaction.
func (b *RecordBatch) Transactional() bool { return b.Attributes&attrTransactional != 0 }

// Control reports whether the batch holds control records (transaction
// markers).
func (b *RecordBatch) Control() bool { return b.Attributes&attrControl != 0 }

// Smallest possible encodings, used to bound counts by the bytes left.
const (
	minRecordSize = 7 // length, attributes, two deltas, key, value, header count
	minHeaderSize = 2 // key length and value length
)

// ReadBatch decodes the one v2 record batch at the start of b and returns
// it with the number of bytes it occupied. It verifies the magic byte, the
// Length field and the CRC-32C, decompresses the records section (bounded
// by compress.MaxDecompressedSize), and decodes every record. Every error
// matches [ErrMalformed]; a CRC mismatch is a [*CRCError]. ReadBatch is safe
// for concurrent use and never panics, whatever b holds.
func ReadBatch(b []byte) (RecordBatch, int, error) {
	var rb RecordBatch
	if len(b) < BatchHeaderSize {
		return rb, 0, &DecodeError{Offset: 0, Reason: fmt.Sprintf("record batch of %d bytes is shorter than its header", len(b))}
	}
	var r Reader
	r.Reset(b)
	rb.BaseOffset = r.Int64()
	rb.Length = r.Int32()
	if rb.Length < BatchHeaderSize-lengthFieldEnd {
		return rb, 0, &DecodeError{Offset: offLength, Reason: fmt.Sprintf("record batch length %d below header size", rb.Length)}
	}
	total := lengthFieldEnd + int(rb.Length)
	if total > len(b) {
		return rb, 0, &DecodeError{Offset: offLength, Reason: fmt.Sprintf("record batch length %d exceeds %d bytes present", rb.Length, len(b)-lengthFieldEnd)}
	}
	r.Reset(b[:total])
	r.Skip(lengthFieldEnd)
	rb.PartitionLeaderEpoch = r.Int32()
	rb.Magic = r.Int8()
	if rb.Magic != 2 {
		return rb, 0, &DecodeError{Offset: offMagic, Reason: fmt.Sprintf("record batch magic %d, want 2", rb.Magic)}
	}
	rb.CRC = r.Uint32()
	if sum := crc32.Checksum(b[offAttributes:total], castagnoli); sum != rb.CRC {
		return rb, 0, &CRCError{Stored: rb.CRC, Computed: sum}
	}
	rb.Attributes = r.Int16()
	rb.LastOffsetDelta = r.Int32()
	rb.BaseTimestamp = r.Int64()
	rb.MaxTimestamp = r.Int64()
	rb.ProducerID = r.Int64()
	rb.ProducerEpoch = r.Int16()
	rb.BaseSequence = r.Int32()
	rb.NumRecords = r.Int32()

	section := b[BatchHeaderSize:total]
	if codec := rb.Codec(); codec != compress.None {
		if codec > compress.Zstd {
			return rb, 0, &DecodeError{Offset: offAttributes, Reason: fmt.Sprintf("unknown compression codec %d", codec)}
		}
		plain, err := compress.Decompress(nil, codec, section)
		if err != nil {
			return rb, 0, fmt.Errorf("%w: record batch records section: %w", ErrMalformed, err)
		}
		section = plain
	}
	records, err := readRecords(section, rb.NumRecords)
	if err != nil {
		return rb, 0, err
	}
	rb.Records = records
	return rb, total, nil
}

// ReadBatches decodes a run of back-to-back v2 batches, such as one
// partition's records in a Produce request. Trailing bytes that do not form
// a whole batch are an error. It is safe for concurrent use.
func ReadBatches(b []byte) ([]RecordBatch, error) {
	var out []RecordBatch
	for off := 0; off < len(b); {
		rb, n, err := ReadBatch(b[off:])
		if err != nil {
			return out, fmt.Errorf("batch at byte %d: %w", off, err)
		}
		out = append(out, rb)
		off += n
	}
	return out, nil
}

// readRecords decodes exactly n records filling section.
func readRecords(section []byte, n int32) ([]Record, error) {
	if n < 0 || int(n) > len(section)/minRecordSize {
		return nil, &DecodeError{Offset: offRecordCount, Reason: fmt.Sprintf("record count %d impossible in %d bytes", n, len(section))}
	}
	if n == 0 {
		if len(section) != 0 {
			return nil, &DecodeError{Offset: BatchHeaderSize, Reason: "records section holds bytes but record count is 0"}
		}
		return nil, nil
	}
	records := make([]Record, n)
	var r, body Reader
	r.Reset(section)
	for i := range records {
		size := r.Varint()
		if size < 0 {
			r.fail(fmt.Sprintf("record %d has negative length %d", i, size))
		}
		body.Reset(r.take(int(size)))
		if r.err != nil {
			break
		}
		readRecord(&body, &records[i])
		if err := body.Complete(); err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
	}
	if err := r.Complete(); err != nil {
		return nil, err
	}
	return records, nil
}

// readRecord decodes one record body (after its length prefix).
func readRecord(r *Reader, rec *Record) {
	rec.Attributes = r.Int8()
	rec.TimestampDelta = r.Varlong()
	rec.OffsetDelta = r.Varint()
	rec.Key = readVarBytes(r)
	rec.Value = readVarBytes(r)
	n := r.Varint()
	if r.err != nil {
		return
	}
	if n < 0 || int(n) > r.Remaining()/minHeaderSize {
		r.fail(fmt.Sprintf("header count %d impossible in %d bytes", n, r.Remaining()))
		return
	}
	if n == 0 {
		return
	}
	rec.Headers = make([]Header, n)
	for i := range rec.Headers {
		kn := r.Varint()
		if kn < 0 {
			r.fail("null or negative header key length")
			return
		}
		rec.Headers[i].Key = string(r.take(int(kn)))
		rec.Headers[i].Value = readVarBytes(r)
	}
}

// readVarBytes reads bytes with a zigzag varint length, nil for -1 (null);
// an empty value is a non-nil empty slice.
func readVarBytes(r *Reader) []byte {
	n := r.Varint()
	if n < 0 {
		if n != -1 {
			r.fail(fmt.Sprintf("negative length %d", n))
		}
		return nil
	}
	b := r.take(int(n))
	if b == nil && r.err == nil {
		return []byte{}
	}
	return b
}
