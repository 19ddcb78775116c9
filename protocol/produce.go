package protocol

import "math"

// Produce (key 0) carries record batches to partition leaders. It is the hot
// path in both directions, and the two directions are tuned differently:
//
//   - Encoding a ProduceRequest is a straight run of appends over the
//     caller's batches, with no scratch buffers and no tagged fields, so it
//     allocates nothing once dst has room (tested with AllocsPerRun).
//     AppendVectored leaves large batches out of dst as splices, for a
//     writer that sends them with writev instead of copying (vectored.go).
//   - Decoding a ProduceResponse reuses the slices of the value it decodes
//     into, and keeps a topic name string when the new one has the same
//     bytes. A sender that keeps one ProduceResponse per connection and
//     decodes every answer into it therefore stops allocating after the
//     first few responses, except for rare error messages. The price is the
//     usual one for reuse: nothing from a previous Decode may be retained.
//
// Versions: we speak v3 (the first with v2 record batches and a
// transactional id) to v12. v9 is flexible; v10 (KIP-951) adds the tagged
// per-partition CurrentLeader and top-level NodeEndpoints, which tell the
// producer the new leader on NOT_LEADER_OR_FOLLOWER without a metadata round
// trip. v13 switches topics to IDs and is out of our range.

// ProduceRequest sends record batches to the leaders of their partitions.
// A value is not safe for concurrent use.
type ProduceRequest struct {
	TransactionalID *string // nil unless the producer is transactional
	// Acks is how many replicas must have the records before the broker
	// answers: -1 (all in-sync replicas), 0 (no answer at all) or 1 (leader).
	Acks int16
	// TimeoutMillis bounds how long the broker waits for the acks.
	TimeoutMillis int32
	Topics        []ProduceRequestTopic
}

// ProduceRequestTopic is one topic of a [ProduceRequest].
type ProduceRequestTopic struct {
	Name       string
	Partitions []ProduceRequestPartition
}

// ProduceRequestPartition is one partition of a [ProduceRequestTopic].
type ProduceRequestPartition struct {
	Index int32
	// Records is the partition's encoded record batch (nullable on the
	// wire). Decode leaves it aliasing the input buffer.
	Records []byte
}

// Key returns KeyProduce.
func (*ProduceRequest) Key() Key { return KeyProduce }

// ResponseKind returns a new, empty *ProduceResponse.
func (*ProduceRequest) ResponseKind() Response { return new(ProduceResponse) }

// AppendTo appends the request body encoded at version v to dst. It
// allocates only when dst must grow.
func (req *ProduceRequest) AppendTo(dst []byte, v int16) []byte {
	dst, _ = req.AppendVectored(dst, nil, v, math.MaxInt)
	return dst
}

// AppendVectored is AppendTo with every partition's Records of at least min
// bytes referenced as a [Splice] instead of copied (see [VectorAppender]).
// It allocates only when dst or sp must grow.
func (req *ProduceRequest) AppendVectored(dst []byte, sp []Splice, v int16, min int) ([]byte, []Splice) {
	flex := v >= 9
	dst = AppendNullableStringF(dst, req.TransactionalID, flex)
	dst = AppendInt16(dst, req.Acks)
	dst = AppendInt32(dst, req.TimeoutMillis)
	dst = AppendArrayLen(dst, len(req.Topics), flex)
	for i := range req.Topics {
		t := &req.Topics[i]
		dst = AppendStringF(dst, t.Name, flex)
		dst = AppendArrayLen(dst, len(t.Partitions), flex)
		for j := range t.Partitions {
			p := &t.Partitions[j]
			dst = AppendInt32(dst, p.Index)
			if n := len(p.Records); n > 0 && n >= min {
				dst = appendBytesLenF(dst, len(p.Records), flex)
				sp = append(sp, Splice{At: len(dst), Bytes: p.Records})
			} else {
				dst = AppendNullableBytesF(dst, p.Records, flex)
			}
			dst = AppendEmptyTags(dst, flex)
		}
		dst = AppendEmptyTags(dst, flex)
	}
	return AppendEmptyTags(dst, flex), sp
}

// Decode reads the request body at version v from r. Records alias r's
// buffer. Unknown tagged fields are skipped.
func (req *ProduceRequest) Decode(r *Reader, v int16) {
	*req = ProduceRequest{}
	flex := v >= 9
	req.TransactionalID = r.NullableStringF(flex)
	req.Acks = r.Int16()
	req.TimeoutMillis = r.Int32()
	if n := nonNullArrayLen(r, flex); n > 0 {
		req.Topics = make([]ProduceRequestTopic, n)
	}
	for i := range req.Topics {
		t := &req.Topics[i]
		t.Name = r.StringF(flex)
		if n := nonNullArrayLen(r, flex); n > 0 {
			t.Partitions = make([]ProduceRequestPartition, n)
		}
		for j := range t.Partitions {
			p := &t.Partitions[j]
			p.Index = r.Int32()
			p.Records = r.BytesF(flex)
			r.SkipTags(flex)
		}
		r.SkipTags(flex)
	}
	r.SkipTags(flex)
}

// ProduceResponse is a broker's answer to a [ProduceRequest] (none is sent
// for acks=0). The zero value is ready for Decode. A value is not safe for
// concurrent use; see Decode for its reuse of memory.
type ProduceResponse struct {
	Topics             []ProduceResponseTopic
	ThrottleTimeMillis int32 // v1+
	// NodeEndpoints (v10+, tag 0) describes the brokers named in the
	// partitions' CurrentLeader hints.
	NodeEndpoints []NodeEndpoint
}

// ProduceResponseTopic is one topic of a [ProduceResponse].
type ProduceResponseTopic struct {
	Name       string
	Partitions []ProduceResponsePartition
}

// ProduceResponsePartition is the outcome for one partition. Kafka's
// defaults are not Go's zero values: an encoder with nothing to say must set
// LogAppendTimeMillis and LogStartOffset to -1 and CurrentLeader to
// [NoLeader], or a v10+ encoding carries a leader hint naming broker 0.
type ProduceResponsePartition struct {
	Index      int32
	ErrorCode  int16
	BaseOffset int64 // offset of the batch's first record
	// LogAppendTimeMillis is the broker's timestamp for the batch when the
	// topic uses LogAppendTime, else -1 (v2+).
	LogAppendTimeMillis int64
	LogStartOffset      int64         // v5+; -1 when unknown
	RecordErrors        []RecordError // v8+; records that failed the batch
	ErrorMessage        *string       // v8+
	// CurrentLeader (v10+, tag 0) is the partition's leader as the broker
	// knows it, sent with NOT_LEADER_OR_FOLLOWER and similar errors;
	// {-1, -1} when absent.
	CurrentLeader LeaderIDAndEpoch
}

// RecordError names one record that made the broker reject its batch.
type RecordError struct {
	BatchIndex             int32 // the record's index within its batch
	BatchIndexErrorMessage *string
}

// LeaderIDAndEpoch is a partition leader hint (KIP-951).
type LeaderIDAndEpoch struct {
	LeaderID    int32
	LeaderEpoch int32
}

// NoLeader is the default LeaderIDAndEpoch: no hint. Treat it as a
// constant.
var NoLeader = LeaderIDAndEpoch{LeaderID: -1, LeaderEpoch: -1}

// NodeEndpoint is a broker's address, as sent in KIP-951 leader hints.
type NodeEndpoint struct {
	NodeID int32
	Host   string
	Port   int32
	Rack   *string
}

// Key returns KeyProduce.
func (*ProduceResponse) Key() Key { return KeyProduce }

// AppendTo appends the response body encoded at version v to dst. Tagged
// fields are written only at v10+ and only when they differ from their
// defaults.
func (resp *ProduceResponse) AppendTo(dst []byte, v int16) []byte {
	flex := v >= 9
	dst = AppendArrayLen(dst, len(resp.Topics), flex)
	for i := range resp.Topics {
		t := &resp.Topics[i]
		dst = AppendStringF(dst, t.Name, flex)
		dst = AppendArrayLen(dst, len(t.Partitions), flex)
		for j := range t.Partitions {
			dst = t.Partitions[j].appendTo(dst, v, flex)
		}
		dst = AppendEmptyTags(dst, flex)
	}
	if v >= 1 {
		dst = AppendInt32(dst, resp.ThrottleTimeMillis)
	}
	if !flex {
		return dst
	}
	if v < 10 || len(resp.NodeEndpoints) == 0 {
		return AppendEmptyTags(dst, true)
	}
	dst = AppendUvarint(dst, 1)
	return appendTaggedField(dst, 0, func(dst []byte) []byte {
		dst = AppendArrayLen(dst, len(resp.NodeEndpoints), true)
		for i := range resp.NodeEndpoints {
			e := &resp.NodeEndpoints[i]
			dst = AppendInt32(dst, e.NodeID)
			dst = AppendCompactString(dst, e.Host)
			dst = AppendInt32(dst, e.Port)
			dst = AppendCompactNullableString(dst, e.Rack)
			dst = AppendEmptyTags(dst, true)
		}
		return dst
	})
}

func (p *ProduceResponsePartition) appendTo(dst []byte, v int16, flex bool) []byte {
	dst = AppendInt32(dst, p.Index)
	dst = AppendInt16(dst, p.ErrorCode)
	dst = AppendInt64(dst, p.BaseOffset)
	if v >= 2 {
		dst = AppendInt64(dst, p.LogAppendTimeMillis)
	}
	if v >= 5 {
		dst = AppendInt64(dst, p.LogStartOffset)
	}
	if v >= 8 {
		dst = AppendArrayLen(dst, len(p.RecordErrors), flex)
		for i := range p.RecordErrors {
			e := &p.RecordErrors[i]
			dst = AppendInt32(dst, e.BatchIndex)
			dst = AppendNullableStringF(dst, e.BatchIndexErrorMessage, flex)
			dst = AppendEmptyTags(dst, flex)
		}
		dst = AppendNullableStringF(dst, p.ErrorMessage, flex)
	}
	if !flex {
		return dst
	}
	if v < 10 || p.CurrentLeader == NoLeader {
		return AppendEmptyTags(dst, true)
	}
	// One tag (0) whose body is two int32s and an empty tag section: 9 bytes.
	dst = append(dst, 1, 0, 9)
	dst = AppendInt32(dst, p.CurrentLeader.LeaderID)
	dst = AppendInt32(dst, p.CurrentLeader.LeaderEpoch)
	return AppendEmptyTags(dst, true)
}

// Decode reads the response body at version v from r. Fields absent at v
// take Kafka's defaults; unknown tagged fields are skipped.
//
// Decode reuses resp's slices (and equal topic name strings) to avoid
// allocating per response, so a caller must not keep any slice or element
// of a previous decode into the same value. Decode into a fresh value when
// results must outlive the next response.
func (resp *ProduceResponse) Decode(r *Reader, v int16) {
	flex := v >= 9
	resp.Topics = resize(resp.Topics, nonNullArrayLen(r, flex))
	for i := range resp.Topics {
		t := &resp.Topics[i]
		t.Name = readStringReuse(r, flex, t.Name)
		t.Partitions = resize(t.Partitions, nonNullArrayLen(r, flex))
		for j := range t.Partitions {
			t.Partitions[j].decode(r, v, flex)
		}
		r.SkipTags(flex)
	}
	resp.ThrottleTimeMillis = 0
	if v >= 1 {
		resp.ThrottleTimeMillis = r.Int32()
	}
	resp.NodeEndpoints = resp.NodeEndpoints[:0]
	if flex {
		r.Tags(func(tag uint32, b *Reader) bool {
			if tag != 0 || v < 10 {
				return false
			}
			resp.NodeEndpoints = resize(resp.NodeEndpoints, nonNullArrayLen(b, true))
			for i := range resp.NodeEndpoints {
				e := &resp.NodeEndpoints[i]
				e.NodeID = b.Int32()
				e.Host = readStringReuse(b, true, e.Host)
				e.Port = b.Int32()
				e.Rack = b.CompactNullableString()
				b.SkipTags(true)
			}
			requireConsumed(b)
			return true
		})
	}
}

func (p *ProduceResponsePartition) decode(r *Reader, v int16, flex bool) {
	p.Index = r.Int32()
	p.ErrorCode = r.Int16()
	p.BaseOffset = r.Int64()
	p.LogAppendTimeMillis = -1
	if v >= 2 {
		p.LogAppendTimeMillis = r.Int64()
	}
	p.LogStartOffset = -1
	if v >= 5 {
		p.LogStartOffset = r.Int64()
	}
	p.RecordErrors = p.RecordErrors[:0]
	p.ErrorMessage = nil
	if v >= 8 {
		p.RecordErrors = resize(p.RecordErrors, nonNullArrayLen(r, flex))
		for i := range p.RecordErrors {
			e := &p.RecordErrors[i]
			e.BatchIndex = r.Int32()
			e.BatchIndexErrorMessage = r.NullableStringF(flex)
			r.SkipTags(flex)
		}
		p.ErrorMessage = r.NullableStringF(flex)
	}
	p.CurrentLeader = NoLeader
	if flex {
		r.Tags(func(tag uint32, b *Reader) bool {
			if tag != 0 || v < 10 {
				return false
			}
			p.CurrentLeader.LeaderID = b.Int32()
			p.CurrentLeader.LeaderEpoch = b.Int32()
			b.SkipTags(true)
			requireConsumed(b)
			return true
		})
	}
}

// resize returns s with length n, reusing its backing array when it is big
// enough. Elements are left as they were; decoders overwrite every field.
func resize[T any](s []T, n int) []T {
	if n <= cap(s) {
		return s[:n]
	}
	return make([]T, n)
}

// readStringReuse reads a non-nullable string (null reads as "") and
// returns old when the bytes are equal, which saves an allocation for the
// topic names a producer sees over and over. The comparison string(b) == old
// does not allocate.
func readStringReuse(r *Reader, flex bool, old string) string {
	var n int
	if flex {
		n = r.compactLen()
	} else {
		n = int(r.Int16())
		if n < -1 {
			r.fail("negative string length")
		}
	}
	if n < 0 || r.err != nil {
		return ""
	}
	b := r.take(n)
	if string(b) == old {
		return old
	}
	return string(b)
}
