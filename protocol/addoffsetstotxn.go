package protocol

// AddOffsetsToTxn (key 25) tells the transaction coordinator that the open
// transaction will also commit consumer offsets for a group
// (sendOffsetsToTransaction in the Java client). The coordinator adds the
// group's __consumer_offsets partition to the transaction, so the offsets,
// sent afterwards with TxnOffsetCommit to the group coordinator, become
// visible exactly when the transaction commits. It must precede
// TxnOffsetCommit for that group in the same transaction.

// AddOffsetsToTxnRequest adds a consumer group's offsets to a transaction.
// A value is not safe for concurrent use.
type AddOffsetsToTxnRequest struct {
	TransactionalID string
	ProducerID      int64
	ProducerEpoch   int16
	// GroupID is the consumer group whose offsets the transaction commits.
	GroupID string
}

// Key returns KeyAddOffsetsToTxn.
func (*AddOffsetsToTxnRequest) Key() Key { return KeyAddOffsetsToTxn }

// ResponseKind returns a new, empty *AddOffsetsToTxnResponse.
func (*AddOffsetsToTxnRequest) ResponseKind() Response { return &AddOffsetsToTxnResponse{} }

// AppendTo appends the request body encoded at version v to dst.
func (req *AddOffsetsToTxnRequest) AppendTo(dst []byte, v int16) []byte {
	flex := v >= 3
	dst = AppendStringF(dst, req.TransactionalID, flex)
	dst = AppendInt64(dst, req.ProducerID)
	dst = AppendInt16(dst, req.ProducerEpoch)
	dst = AppendStringF(dst, req.GroupID, flex)
	return AppendEmptyTags(dst, flex)
}

// Decode reads the request body at version v from r.
func (req *AddOffsetsToTxnRequest) Decode(r *Reader, v int16) {
	flex := v >= 3
	req.TransactionalID = r.StringF(flex)
	req.ProducerID = r.Int64()
	req.ProducerEpoch = r.Int16()
	req.GroupID = r.StringF(flex)
	r.SkipTags(flex)
}

// AddOffsetsToTxnResponse is the answer to an [AddOffsetsToTxnRequest]. A
// value is not safe for concurrent use.
type AddOffsetsToTxnResponse struct {
	ThrottleTimeMillis int32
	ErrorCode          int16
}

// Key returns KeyAddOffsetsToTxn.
func (*AddOffsetsToTxnResponse) Key() Key { return KeyAddOffsetsToTxn }

// AppendTo appends the response body encoded at version v to dst.
func (resp *AddOffsetsToTxnResponse) AppendTo(dst []byte, v int16) []byte {
	dst = AppendInt32(dst, resp.ThrottleTimeMillis)
	dst = AppendInt16(dst, resp.ErrorCode)
	return AppendEmptyTags(dst, v >= 3)
}

// Decode reads the response body at version v from r.
func (resp *AddOffsetsToTxnResponse) Decode(r *Reader, v int16) {
	resp.ThrottleTimeMillis = r.Int32()
	resp.ErrorCode = r.Int16()
	r.SkipTags(v >= 3)
}
