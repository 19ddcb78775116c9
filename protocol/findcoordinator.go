package protocol

// FindCoordinator (key 10) asks any broker which broker coordinates a
// consumer group or a transactional id. A transactional producer sends it
// before InitProducerId and again after NOT_COORDINATOR or
// COORDINATOR_NOT_AVAILABLE; for TxnOffsetCommit it looks up the group's
// coordinator as well.
//
// The message changed shape at v4 (KIP-699): v0–v3 ask about one key and
// answer with one coordinator at the top level of the response, while v4+
// ask about a batch of keys and answer with one Coordinator entry per key,
// each with its own error. The struct keeps both shapes side by side, as
// Kafka's schema does, and AppendTo writes exactly the fields that exist at
// the version it is given: a caller that negotiated v4+ fills
// CoordinatorKeys, one that negotiated v3 or lower fills CoordinatorKey.

// Coordinator key types, the values of FindCoordinatorRequest.KeyType.
const (
	CoordinatorGroup       int8 = 0 // Key is a consumer group id
	CoordinatorTransaction int8 = 1 // Key is a transactional id
)

// FindCoordinatorRequest asks which broker coordinates a group or a
// transactional id. A value is not safe for concurrent use.
type FindCoordinatorRequest struct {
	// CoordinatorKey is the group or transactional id (v0–v3). Kafka's
	// schema calls it Key, but Go forbids a field and a method of one name
	// and every Message has a Key method.
	CoordinatorKey string
	// KeyType is CoordinatorGroup or CoordinatorTransaction (v1+; v0
	// can only ask about groups).
	KeyType int8
	// CoordinatorKeys are the ids to look up, all of KeyType (v4+).
	CoordinatorKeys []string
}

// Key returns KeyFindCoordinator.
func (*FindCoordinatorRequest) Key() Key { return KeyFindCoordinator }

// ResponseKind returns a new, empty *FindCoordinatorResponse.
func (*FindCoordinatorRequest) ResponseKind() Response { return &FindCoordinatorResponse{} }

// AppendTo appends the request body encoded at version v to dst.
func (req *FindCoordinatorRequest) AppendTo(dst []byte, v int16) []byte {
	flex := v >= 3
	if v <= 3 {
		dst = AppendStringF(dst, req.CoordinatorKey, flex)
	}
	if v >= 1 {
		dst = AppendInt8(dst, req.KeyType)
	}
	if v >= 4 {
		dst = AppendArrayLen(dst, len(req.CoordinatorKeys), true)
		for _, k := range req.CoordinatorKeys {
			dst = AppendCompactString(dst, k)
		}
	}
	return AppendEmptyTags(dst, flex)
}

// Decode reads the request body at version v from r.
func (req *FindCoordinatorRequest) Decode(r *Reader, v int16) {
	*req = FindCoordinatorRequest{}
	flex := v >= 3
	if v <= 3 {
		req.CoordinatorKey = r.StringF(flex)
	}
	if v >= 1 {
		req.KeyType = r.Int8()
	}
	if v >= 4 {
		if n := nonNullArrayLen(r, true); n > 0 {
			req.CoordinatorKeys = make([]string, n)
			for i := range req.CoordinatorKeys {
				req.CoordinatorKeys[i] = r.CompactString()
			}
		}
	}
	r.SkipTags(flex)
}

// FindCoordinatorResponse is the answer to a [FindCoordinatorRequest].
// Versions 0–3 fill the top-level fields; v4+ fill Coordinators instead. A
// value is not safe for concurrent use.
type FindCoordinatorResponse struct {
	ThrottleTimeMillis int32   // v1+
	ErrorCode          int16   // v0–v3
	ErrorMessage       *string // v1–v3
	NodeID             int32   // v0–v3
	Host               string  // v0–v3
	Port               int32   // v0–v3
	// Coordinators has one entry per requested key (v4+).
	Coordinators []Coordinator
}

// Coordinator is the coordinator of one key in a v4+
// [FindCoordinatorResponse], or the error finding it.
type Coordinator struct {
	Key          string
	NodeID       int32
	Host         string
	Port         int32
	ErrorCode    int16
	ErrorMessage *string
}

// Key returns KeyFindCoordinator.
func (*FindCoordinatorResponse) Key() Key { return KeyFindCoordinator }

// AppendTo appends the response body encoded at version v to dst.
func (resp *FindCoordinatorResponse) AppendTo(dst []byte, v int16) []byte {
	flex := v >= 3
	if v >= 1 {
		dst = AppendInt32(dst, resp.ThrottleTimeMillis)
	}
	if v <= 3 {
		dst = AppendInt16(dst, resp.ErrorCode)
		if v >= 1 {
			dst = AppendNullableStringF(dst, resp.ErrorMessage, flex)
		}
		dst = AppendInt32(dst, resp.NodeID)
		dst = AppendStringF(dst, resp.Host, flex)
		dst = AppendInt32(dst, resp.Port)
	} else {
		dst = AppendArrayLen(dst, len(resp.Coordinators), true)
		for i := range resp.Coordinators {
			c := &resp.Coordinators[i]
			dst = AppendCompactString(dst, c.Key)
			dst = AppendInt32(dst, c.NodeID)
			dst = AppendCompactString(dst, c.Host)
			dst = AppendInt32(dst, c.Port)
			dst = AppendInt16(dst, c.ErrorCode)
			dst = AppendCompactNullableString(dst, c.ErrorMessage)
			dst = AppendEmptyTags(dst, true)
		}
	}
	return AppendEmptyTags(dst, flex)
}

// Decode reads the response body at version v from r.
func (resp *FindCoordinatorResponse) Decode(r *Reader, v int16) {
	*resp = FindCoordinatorResponse{}
	flex := v >= 3
	if v >= 1 {
		resp.ThrottleTimeMillis = r.Int32()
	}
	if v <= 3 {
		resp.ErrorCode = r.Int16()
		if v >= 1 {
			resp.ErrorMessage = r.NullableStringF(flex)
		}
		resp.NodeID = r.Int32()
		resp.Host = r.StringF(flex)
		resp.Port = r.Int32()
	} else if n := nonNullArrayLen(r, true); n > 0 {
		resp.Coordinators = make([]Coordinator, n)
		for i := range resp.Coordinators {
			c := &resp.Coordinators[i]
			c.Key = r.CompactString()
			c.NodeID = r.Int32()
			c.Host = r.CompactString()
			c.Port = r.Int32()
			c.ErrorCode = r.Int16()
			c.ErrorMessage = r.CompactNullableString()
			r.SkipTags(true)
		}
	}
	r.SkipTags(flex)
}
