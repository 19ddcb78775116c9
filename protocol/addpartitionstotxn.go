package protocol

// AddPartitionsToTxn (key 24) registers partitions with the producer's open
// transaction before it first produces to them, so that the coordinator
// knows where to write commit or abort markers. A producer sends it for each
// new partition of a transaction (batched with others while a request is in
// flight), and Produce to those partitions must wait for its answer.
//
// The message has two shapes that share one API key (KIP-890):
//
//   - v0–v3, the client form: one transaction per request, described by the
//     V3AndBelow* fields; the response lists results per topic and
//     partition in ResultsByTopicV3AndBelow.
//   - v4+, the broker form: brokers verify partitions for many transactions
//     at once (Transactions, with VerifyOnly), and the response has a
//     top-level ErrorCode and ResultsByTransaction.
//
// Clients never send v4+; brokers reject client requests at those versions.
// Both shapes are implemented so that tests and tools can speak either, and
// the field names mirror Kafka's schema so the split stays obvious.
//
// With transactions v2 (Produce v12, finalized transaction.version ≥ 2) a
// producer skips this request entirely: the broker adds partitions
// implicitly on the first Produce.

// AddPartitionsToTxnRequest adds partitions to a transaction. A value is
// not safe for concurrent use.
type AddPartitionsToTxnRequest struct {
	// Transactions lists the transactions to add partitions to or verify
	// (v4+, broker to broker).
	Transactions []AddPartitionsToTxnTransaction

	V3AndBelowTransactionalID string                    // v0–v3
	V3AndBelowProducerID      int64                     // v0–v3
	V3AndBelowProducerEpoch   int16                     // v0–v3
	V3AndBelowTopics          []AddPartitionsToTxnTopic // v0–v3
}

// AddPartitionsToTxnTransaction is one transaction in a v4+
// [AddPartitionsToTxnRequest].
type AddPartitionsToTxnTransaction struct {
	TransactionalID string
	ProducerID      int64
	ProducerEpoch   int16
	// VerifyOnly asks whether the partitions are already in the
	// transaction instead of adding them.
	VerifyOnly bool
	Topics     []AddPartitionsToTxnTopic
}

// AddPartitionsToTxnTopic names partitions of one topic to add.
type AddPartitionsToTxnTopic struct {
	Name       string
	Partitions []int32
}

// Key returns KeyAddPartitionsToTxn.
func (*AddPartitionsToTxnRequest) Key() Key { return KeyAddPartitionsToTxn }

// ResponseKind returns a new, empty *AddPartitionsToTxnResponse.
func (*AddPartitionsToTxnRequest) ResponseKind() Response { return &AddPartitionsToTxnResponse{} }

// AppendTo appends the request body encoded at version v to dst: the
// Transactions array at v4+, the V3AndBelow* fields otherwise.
func (req *AddPartitionsToTxnRequest) AppendTo(dst []byte, v int16) []byte {
	flex := v >= 3
	if v >= 4 {
		dst = AppendArrayLen(dst, len(req.Transactions), true)
		for i := range req.Transactions {
			t := &req.Transactions[i]
			dst = AppendCompactString(dst, t.TransactionalID)
			dst = AppendInt64(dst, t.ProducerID)
			dst = AppendInt16(dst, t.ProducerEpoch)
			dst = AppendBool(dst, t.VerifyOnly)
			dst = appendTxnTopics(dst, t.Topics, true)
			dst = AppendEmptyTags(dst, true)
		}
	} else {
		dst = AppendStringF(dst, req.V3AndBelowTransactionalID, flex)
		dst = AppendInt64(dst, req.V3AndBelowProducerID)
		dst = AppendInt16(dst, req.V3AndBelowProducerEpoch)
		dst = appendTxnTopics(dst, req.V3AndBelowTopics, flex)
	}
	return AppendEmptyTags(dst, flex)
}

// appendTxnTopics appends an array of AddPartitionsToTxnTopic.
func appendTxnTopics(dst []byte, ts []AddPartitionsToTxnTopic, flex bool) []byte {
	dst = AppendArrayLen(dst, len(ts), flex)
	for i := range ts {
		dst = AppendStringF(dst, ts[i].Name, flex)
		dst = appendInt32Array(dst, ts[i].Partitions, flex)
		dst = AppendEmptyTags(dst, flex)
	}
	return dst
}

// Decode reads the request body at version v from r.
func (req *AddPartitionsToTxnRequest) Decode(r *Reader, v int16) {
	*req = AddPartitionsToTxnRequest{}
	flex := v >= 3
	if v >= 4 {
		if n := nonNullArrayLen(r, true); n > 0 {
			req.Transactions = make([]AddPartitionsToTxnTransaction, n)
			for i := range req.Transactions {
				t := &req.Transactions[i]
				t.TransactionalID = r.CompactString()
				t.ProducerID = r.Int64()
				t.ProducerEpoch = r.Int16()
				t.VerifyOnly = r.Bool()
				t.Topics = readTxnTopics(r, true)
				r.SkipTags(true)
			}
		}
	} else {
		req.V3AndBelowTransactionalID = r.StringF(flex)
		req.V3AndBelowProducerID = r.Int64()
		req.V3AndBelowProducerEpoch = r.Int16()
		req.V3AndBelowTopics = readTxnTopics(r, flex)
	}
	r.SkipTags(flex)
}

// readTxnTopics reads an array of AddPartitionsToTxnTopic; empty reads as
// nil.
func readTxnTopics(r *Reader, flex bool) []AddPartitionsToTxnTopic {
	n := nonNullArrayLen(r, flex)
	if n == 0 {
		return nil
	}
	ts := make([]AddPartitionsToTxnTopic, n)
	for i := range ts {
		ts[i].Name = r.StringF(flex)
		ts[i].Partitions = readInt32Array(r, flex)
		r.SkipTags(flex)
	}
	return ts
}

// AddPartitionsToTxnResponse is the answer to an
// [AddPartitionsToTxnRequest]. A value is not safe for concurrent use.
type AddPartitionsToTxnResponse struct {
	ThrottleTimeMillis int32
	// ErrorCode is an error for the whole request (v4+).
	ErrorCode int16
	// ResultsByTransaction has one entry per transaction (v4+).
	ResultsByTransaction []AddPartitionsToTxnResult
	// ResultsByTopicV3AndBelow has the per-partition results (v0–v3).
	ResultsByTopicV3AndBelow []AddPartitionsToTxnTopicResult
}

// AddPartitionsToTxnResult is the outcome for one transaction in a v4+
// [AddPartitionsToTxnResponse].
type AddPartitionsToTxnResult struct {
	TransactionalID string
	TopicResults    []AddPartitionsToTxnTopicResult
}

// AddPartitionsToTxnTopicResult is the outcome for one topic.
type AddPartitionsToTxnTopicResult struct {
	Name               string
	ResultsByPartition []AddPartitionsToTxnPartitionResult
}

// AddPartitionsToTxnPartitionResult is the outcome for one partition.
// OPERATION_NOT_ATTEMPTED means another partition in the request failed
// and this one was left alone; it is not a failure of this partition.
type AddPartitionsToTxnPartitionResult struct {
	PartitionIndex     int32
	PartitionErrorCode int16
}

// Key returns KeyAddPartitionsToTxn.
func (*AddPartitionsToTxnResponse) Key() Key { return KeyAddPartitionsToTxn }

// AppendTo appends the response body encoded at version v to dst.
func (resp *AddPartitionsToTxnResponse) AppendTo(dst []byte, v int16) []byte {
	flex := v >= 3
	dst = AppendInt32(dst, resp.ThrottleTimeMillis)
	if v >= 4 {
		dst = AppendInt16(dst, resp.ErrorCode)
		dst = AppendArrayLen(dst, len(resp.ResultsByTransaction), true)
		for i := range resp.ResultsByTransaction {
			t := &resp.ResultsByTransaction[i]
			dst = AppendCompactString(dst, t.TransactionalID)
			dst = appendTxnTopicResults(dst, t.TopicResults, true)
			dst = AppendEmptyTags(dst, true)
		}
	} else {
		dst = appendTxnTopicResults(dst, resp.ResultsByTopicV3AndBelow, flex)
	}
	return AppendEmptyTags(dst, flex)
}

// appendTxnTopicResults appends an array of AddPartitionsToTxnTopicResult.
func appendTxnTopicResults(dst []byte, ts []AddPartitionsToTxnTopicResult, flex bool) []byte {
	dst = AppendArrayLen(dst, len(ts), flex)
	for i := range ts {
		t := &ts[i]
		dst = AppendStringF(dst, t.Name, flex)
		dst = AppendArrayLen(dst, len(t.ResultsByPartition), flex)
		for _, p := range t.ResultsByPartition {
			dst = AppendInt32(dst, p.PartitionIndex)
			dst = AppendInt16(dst, p.PartitionErrorCode)
			dst = AppendEmptyTags(dst, flex)
		}
		dst = AppendEmptyTags(dst, flex)
	}
	return dst
}

// Decode reads the response body at version v from r.
func (resp *AddPartitionsToTxnResponse) Decode(r *Reader, v int16) {
	*resp = AddPartitionsToTxnResponse{}
	flex := v >= 3
	resp.ThrottleTimeMillis = r.Int32()
	if v >= 4 {
		resp.ErrorCode = r.Int16()
		if n := nonNullArrayLen(r, true); n > 0 {
			resp.ResultsByTransaction = make([]AddPartitionsToTxnResult, n)
			for i := range resp.ResultsByTransaction {
				t := &resp.ResultsByTransaction[i]
				t.TransactionalID = r.CompactString()
				t.TopicResults = readTxnTopicResults(r, true)
				r.SkipTags(true)
			}
		}
	} else {
		resp.ResultsByTopicV3AndBelow = readTxnTopicResults(r, flex)
	}
	r.SkipTags(flex)
}

// readTxnTopicResults reads an array of AddPartitionsToTxnTopicResult;
// empty arrays read as nil.
func readTxnTopicResults(r *Reader, flex bool) []AddPartitionsToTxnTopicResult {
	n := nonNullArrayLen(r, flex)
	if n == 0 {
		return nil
	}
	ts := make([]AddPartitionsToTxnTopicResult, n)
	for i := range ts {
		t := &ts[i]
		t.Name = r.StringF(flex)
		if m := nonNullArrayLen(r, flex); m > 0 {
			t.ResultsByPartition = make([]AddPartitionsToTxnPartitionResult, m)
			for j := range t.ResultsByPartition {
				p := &t.ResultsByPartition[j]
				p.PartitionIndex = r.Int32()
				p.PartitionErrorCode = r.Int16()
				r.SkipTags(flex)
			}
		}
		r.SkipTags(flex)
	}
	return ts
}
