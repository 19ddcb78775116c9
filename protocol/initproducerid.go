package protocol

// InitProducerId (key 22) is how a producer obtains the producer id and
// epoch that make its batches idempotent, and, with a transactional id, how
// it registers with its transaction coordinator (fencing any older instance
// with the same id).
//
// The request's ProducerID and ProducerEpoch (v3+, KIP-360) carry the id and
// epoch the producer already holds, so the broker can bump the epoch instead
// of handing out a new id after UNKNOWN_PRODUCER_ID or
// OUT_OF_ORDER_SEQUENCE_NUMBER. "No current id" is -1/-1, not 0/0: 0 is a
// real producer id, so the zero value of InitProducerIDRequest is a trap at
// v3+ and [NewInitProducerIDRequest] exists to avoid it.
//
// An idempotent-only producer sends a null TransactionalID and may send the
// request to any broker; a transactional one must send it to its
// transaction coordinator (see FindCoordinator). An empty but non-null
// transactional id is rejected with INVALID_REQUEST.

// InitProducerIDRequest asks for a producer id and epoch. Use
// [NewInitProducerIDRequest] for a value with Kafka's defaults. A value is
// not safe for concurrent use.
type InitProducerIDRequest struct {
	// TransactionalID is nil for an idempotent-only producer.
	TransactionalID *string
	// TransactionTimeoutMillis bounds how long a transaction may stay open
	// before the coordinator aborts it (transaction.timeout.ms). Idempotent
	// producers send -1 by convention; brokers ignore it without an id.
	TransactionTimeoutMillis int32
	// ProducerID is the id the producer holds, or -1 for none (v3+).
	ProducerID int64
	// ProducerEpoch is the epoch the producer holds, or -1 for none (v3+).
	ProducerEpoch int16
}

// NewInitProducerIDRequest returns a request with Kafka's defaults: no
// transactional id, and ProducerID and ProducerEpoch -1 (no current id).
func NewInitProducerIDRequest() *InitProducerIDRequest {
	return &InitProducerIDRequest{ProducerID: -1, ProducerEpoch: -1}
}

// Key returns KeyInitProducerID.
func (*InitProducerIDRequest) Key() Key { return KeyInitProducerID }

// ResponseKind returns a new, empty *InitProducerIDResponse.
func (*InitProducerIDRequest) ResponseKind() Response { return NewInitProducerIDResponse() }

// AppendTo appends the request body encoded at version v to dst. Fields
// that do not exist at v are not written.
func (req *InitProducerIDRequest) AppendTo(dst []byte, v int16) []byte {
	flex := v >= 2
	dst = AppendNullableStringF(dst, req.TransactionalID, flex)
	dst = AppendInt32(dst, req.TransactionTimeoutMillis)
	if v >= 3 {
		dst = AppendInt64(dst, req.ProducerID)
		dst = AppendInt16(dst, req.ProducerEpoch)
	}
	return AppendEmptyTags(dst, flex)
}

// Decode reads the request body at version v from r. Fields that do not
// exist at v keep Kafka's defaults.
func (req *InitProducerIDRequest) Decode(r *Reader, v int16) {
	*req = InitProducerIDRequest{ProducerID: -1, ProducerEpoch: -1}
	flex := v >= 2
	req.TransactionalID = r.NullableStringF(flex)
	req.TransactionTimeoutMillis = r.Int32()
	if v >= 3 {
		req.ProducerID = r.Int64()
		req.ProducerEpoch = r.Int16()
	}
	r.SkipTags(flex)
}

// InitProducerIDResponse is the answer to an [InitProducerIDRequest]. A
// value is not safe for concurrent use.
type InitProducerIDResponse struct {
	ThrottleTimeMillis int32
	ErrorCode          int16
	// ProducerID is the id to stamp on batches; -1 when ErrorCode is set.
	ProducerID    int64
	ProducerEpoch int16
}

// NewInitProducerIDResponse returns an empty response with Kafka's
// defaults (ProducerID -1).
func NewInitProducerIDResponse() *InitProducerIDResponse {
	return &InitProducerIDResponse{ProducerID: -1}
}

// Key returns KeyInitProducerID.
func (*InitProducerIDResponse) Key() Key { return KeyInitProducerID }

// AppendTo appends the response body encoded at version v to dst.
func (resp *InitProducerIDResponse) AppendTo(dst []byte, v int16) []byte {
	dst = AppendInt32(dst, resp.ThrottleTimeMillis)
	dst = AppendInt16(dst, resp.ErrorCode)
	dst = AppendInt64(dst, resp.ProducerID)
	dst = AppendInt16(dst, resp.ProducerEpoch)
	return AppendEmptyTags(dst, v >= 2)
}

// Decode reads the response body at version v from r.
func (resp *InitProducerIDResponse) Decode(r *Reader, v int16) {
	resp.ThrottleTimeMillis = r.Int32()
	resp.ErrorCode = r.Int16()
	resp.ProducerID = r.Int64()
	resp.ProducerEpoch = r.Int16()
	r.SkipTags(v >= 2)
}
