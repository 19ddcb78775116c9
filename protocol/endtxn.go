package protocol

// EndTxn (key 26) asks the transaction coordinator to commit or abort the
// producer's open transaction. The coordinator writes the commit or abort
// markers to every partition added to the transaction (AddPartitionsToTxn,
// AddOffsetsToTxn, or implicitly by Produce v12) and replies once the
// decision is durable, not once every marker is written; the next
// transaction's first request may therefore see CONCURRENT_TRANSACTIONS for
// a short while, which is retriable.
//
// From v5 (KIP-890, transactions v2) the coordinator bumps the producer
// epoch at the end of every transaction and returns the id and epoch the
// producer must use next; before v5 the response has no such fields and
// they decode as -1 (the producer keeps what it has).

// EndTxnRequest commits or aborts a transaction. A value is not safe for
// concurrent use.
type EndTxnRequest struct {
	TransactionalID string
	ProducerID      int64
	ProducerEpoch   int16
	// Committed is true to commit, false to abort.
	Committed bool
}

// Key returns KeyEndTxn.
func (*EndTxnRequest) Key() Key { return KeyEndTxn }

// ResponseKind returns a new, empty *EndTxnResponse.
func (*EndTxnRequest) ResponseKind() Response { return NewEndTxnResponse() }

// AppendTo appends the request body encoded at version v to dst.
func (req *EndTxnRequest) AppendTo(dst []byte, v int16) []byte {
	flex := v >= 3
	dst = AppendStringF(dst, req.TransactionalID, flex)
	dst = AppendInt64(dst, req.ProducerID)
	dst = AppendInt16(dst, req.ProducerEpoch)
	dst = AppendBool(dst, req.Committed)
	return AppendEmptyTags(dst, flex)
}

// Decode reads the request body at version v from r.
func (req *EndTxnRequest) Decode(r *Reader, v int16) {
	flex := v >= 3
	req.TransactionalID = r.StringF(flex)
	req.ProducerID = r.Int64()
	req.ProducerEpoch = r.Int16()
	req.Committed = r.Bool()
	r.SkipTags(flex)
}

// EndTxnResponse is the answer to an [EndTxnRequest]. Use
// [NewEndTxnResponse] for a value with Kafka's defaults. A value is not
// safe for concurrent use.
type EndTxnResponse struct {
	ThrottleTimeMillis int32
	ErrorCode          int16
	// ProducerID is the id for the next transaction (v5+; -1 before).
	ProducerID int64
	// ProducerEpoch is the epoch for the next transaction (v5+; -1 before).
	ProducerEpoch int16
}

// NewEndTxnResponse returns an empty response with Kafka's defaults
// (ProducerID and ProducerEpoch -1).
func NewEndTxnResponse() *EndTxnResponse {
	return &EndTxnResponse{ProducerID: -1, ProducerEpoch: -1}
}

// Key returns KeyEndTxn.
func (*EndTxnResponse) Key() Key { return KeyEndTxn }

// AppendTo appends the response body encoded at version v to dst.
func (resp *EndTxnResponse) AppendTo(dst []byte, v int16) []byte {
	dst = AppendInt32(dst, resp.ThrottleTimeMillis)
	dst = AppendInt16(dst, resp.ErrorCode)
	if v >= 5 {
		dst = AppendInt64(dst, resp.ProducerID)
		dst = AppendInt16(dst, resp.ProducerEpoch)
	}
	return AppendEmptyTags(dst, v >= 3)
}

// Decode reads the response body at version v from r. Before v5,
// ProducerID and ProducerEpoch decode as -1.
func (resp *EndTxnResponse) Decode(r *Reader, v int16) {
	*resp = EndTxnResponse{ProducerID: -1, ProducerEpoch: -1}
	resp.ThrottleTimeMillis = r.Int32()
	resp.ErrorCode = r.Int16()
	if v >= 5 {
		resp.ProducerID = r.Int64()
		resp.ProducerEpoch = r.Int16()
	}
	r.SkipTags(v >= 3)
}
