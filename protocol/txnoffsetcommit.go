package protocol

// TxnOffsetCommit (key 28) stages consumer offsets inside a transaction
// (the read-process-write pattern). It goes to the group coordinator, not
// the transaction coordinator, after AddOffsetsToTxn has tied the group to
// the transaction; the offsets become visible to the group only when the
// transaction commits, and vanish if it aborts.
//
// From v3 (KIP-447) the request also carries the consumer's group
// generation, member id and group instance id, so the coordinator can fence
// a zombie producer whose consumer has been kicked out of the group
// (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID). Kafka's
// defaults for a producer that does not know its group metadata are
// generation -1, member id "" and a null instance id.

// TxnOffsetCommitRequest stages offsets in a transaction. Use
// [NewTxnOffsetCommitRequest] for a value with Kafka's defaults. A value is
// not safe for concurrent use.
type TxnOffsetCommitRequest struct {
	TransactionalID string
	GroupID         string
	ProducerID      int64
	ProducerEpoch   int16
	// GenerationID is the consumer's group generation, -1 if unknown (v3+).
	GenerationID int32
	// MemberID is the consumer's member id, "" if unknown (v3+).
	MemberID string
	// GroupInstanceID is the static member id, if any (v3+).
	GroupInstanceID *string
	Topics          []TxnOffsetCommitRequestTopic
}

// TxnOffsetCommitRequestTopic holds the offsets to commit for one topic.
type TxnOffsetCommitRequestTopic struct {
	Name       string
	Partitions []TxnOffsetCommitRequestPartition
}

// TxnOffsetCommitRequestPartition is the offset to commit for one
// partition.
type TxnOffsetCommitRequestPartition struct {
	PartitionIndex int32
	// CommittedOffset is the next offset the group should consume.
	CommittedOffset int64
	// CommittedLeaderEpoch is the leader epoch of the last consumed
	// record, -1 if unknown (v2+).
	CommittedLeaderEpoch int32
	CommittedMetadata    *string
}

// NewTxnOffsetCommitRequest returns a request with Kafka's defaults:
// GenerationID -1, empty MemberID and null GroupInstanceID.
func NewTxnOffsetCommitRequest() *TxnOffsetCommitRequest {
	return &TxnOffsetCommitRequest{GenerationID: -1}
}

// Key returns KeyTxnOffsetCommit.
func (*TxnOffsetCommitRequest) Key() Key { return KeyTxnOffsetCommit }

// ResponseKind returns a new, empty *TxnOffsetCommitResponse.
func (*TxnOffsetCommitRequest) ResponseKind() Response { return &TxnOffsetCommitResponse{} }

// AppendTo appends the request body encoded at version v to dst.
func (req *TxnOffsetCommitRequest) AppendTo(dst []byte, v int16) []byte {
	flex := v >= 3
	dst = AppendStringF(dst, req.TransactionalID, flex)
	dst = AppendStringF(dst, req.GroupID, flex)
	dst = AppendInt64(dst, req.ProducerID)
	dst = AppendInt16(dst, req.ProducerEpoch)
	if v >= 3 {
		dst = AppendInt32(dst, req.GenerationID)
		dst = AppendCompactString(dst, req.MemberID)
		dst = AppendCompactNullableString(dst, req.GroupInstanceID)
	}
	dst = AppendArrayLen(dst, len(req.Topics), flex)
	for i := range req.Topics {
		t := &req.Topics[i]
		dst = AppendStringF(dst, t.Name, flex)
		dst = AppendArrayLen(dst, len(t.Partitions), flex)
		for j := range t.Partitions {
			p := &t.Partitions[j]
			dst = AppendInt32(dst, p.PartitionIndex)
			dst = AppendInt64(dst, p.CommittedOffset)
			if v >= 2 {
				dst = AppendInt32(dst, p.CommittedLeaderEpoch)
			}
			dst = AppendNullableStringF(dst, p.CommittedMetadata, flex)
			dst = AppendEmptyTags(dst, flex)
		}
		dst = AppendEmptyTags(dst, flex)
	}
	return AppendEmptyTags(dst, flex)
}

// Decode reads the request body at version v from r. Fields that do not
// exist at v keep Kafka's defaults.
func (req *TxnOffsetCommitRequest) Decode(r *Reader, v int16) {
	*req = TxnOffsetCommitRequest{GenerationID: -1}
	flex := v >= 3
	req.TransactionalID = r.StringF(flex)
	req.GroupID = r.StringF(flex)
	req.ProducerID = r.Int64()
	req.ProducerEpoch = r.Int16()
	if v >= 3 {
		req.GenerationID = r.Int32()
		req.MemberID = r.CompactString()
		req.GroupInstanceID = r.CompactNullableString()
	}
	if n := nonNullArrayLen(r, flex); n > 0 {
		req.Topics = make([]TxnOffsetCommitRequestTopic, n)
		for i := range req.Topics {
			t := &req.Topics[i]
			t.Name = r.StringF(flex)
			if m := nonNullArrayLen(r, flex); m > 0 {
				t.Partitions = make([]TxnOffsetCommitRequestPartition, m)
				for j := range t.Partitions {
					p := &t.Partitions[j]
					p.PartitionIndex = r.Int32()
					p.CommittedOffset = r.Int64()
					p.CommittedLeaderEpoch = -1
					if v >= 2 {
						p.CommittedLeaderEpoch = r.Int32()
					}
					p.CommittedMetadata = r.NullableStringF(flex)
					r.SkipTags(flex)
				}
			}
			r.SkipTags(flex)
		}
	}
	r.SkipTags(flex)
}

// TxnOffsetCommitResponse is the answer to a [TxnOffsetCommitRequest]. A
// value is not safe for concurrent use.
type TxnOffsetCommitResponse struct {
	ThrottleTimeMillis int32
	Topics             []TxnOffsetCommitResponseTopic
}

// TxnOffsetCommitResponseTopic holds the results for one topic.
type TxnOffsetCommitResponseTopic struct {
	Name       string
	Partitions []TxnOffsetCommitResponsePartition
}

// TxnOffsetCommitResponsePartition is the result for one partition.
type TxnOffsetCommitResponsePartition struct {
	PartitionIndex int32
	ErrorCode      int16
}

// Key returns KeyTxnOffsetCommit.
func (*TxnOffsetCommitResponse) Key() Key { return KeyTxnOffsetCommit }

// AppendTo appends the response body encoded at version v to dst.
func (resp *TxnOffsetCommitResponse) AppendTo(dst []byte, v int16) []byte {
	flex := v >= 3
	dst = AppendInt32(dst, resp.ThrottleTimeMillis)
	dst = AppendArrayLen(dst, len(resp.Topics), flex)
	for i := range resp.Topics {
		t := &resp.Topics[i]
		dst = AppendStringF(dst, t.Name, flex)
		dst = AppendArrayLen(dst, len(t.Partitions), flex)
		for _, p := range t.Partitions {
			dst = AppendInt32(dst, p.PartitionIndex)
			dst = AppendInt16(dst, p.ErrorCode)
			dst = AppendEmptyTags(dst, flex)
		}
		dst = AppendEmptyTags(dst, flex)
	}
	return AppendEmptyTags(dst, flex)
}

// Decode reads the response body at version v from r.
func (resp *TxnOffsetCommitResponse) Decode(r *Reader, v int16) {
	*resp = TxnOffsetCommitResponse{}
	flex := v >= 3
	resp.ThrottleTimeMillis = r.Int32()
	if n := nonNullArrayLen(r, flex); n > 0 {
		resp.Topics = make([]TxnOffsetCommitResponseTopic, n)
		for i := range resp.Topics {
			t := &resp.Topics[i]
			t.Name = r.StringF(flex)
			if m := nonNullArrayLen(r, flex); m > 0 {
				t.Partitions = make([]TxnOffsetCommitResponsePartition, m)
				for j := range t.Partitions {
					p := &t.Partitions[j]
					p.PartitionIndex = r.Int32()
					p.ErrorCode = r.Int16()
					r.SkipTags(flex)
				}
			}
			r.SkipTags(flex)
		}
	}
	r.SkipTags(flex)
}
