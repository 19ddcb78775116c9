package protocol

// Metadata (key 3) tells a producer which brokers exist and which broker
// leads each partition. Its request has three meanings for "which topics",
// and the encoding of each changed over time:
//
//   - all topics: an empty array at v0, a null array from v1;
//   - no topics (brokers and cluster only): an empty array, v1+ only;
//   - these topics: a non-empty array.
//
// MetadataRequest models that as nil (all) versus empty non-nil (none), so a
// caller writes the intent once and AppendTo picks the wire form. From v10
// a topic may be named by ID instead (Name null); from v12 a response topic
// may come back with a null name when it was requested by ID.

// MetadataRequest asks a broker for cluster and topic metadata. A value is
// not safe for concurrent use.
type MetadataRequest struct {
	// Topics lists the topics wanted. nil asks for all topics; an empty,
	// non-nil slice asks for none (v1+; at v0 it also means all topics,
	// because v0 cannot express "none").
	Topics []MetadataRequestTopic

	// AllowAutoTopicCreation lets the broker create missing topics
	// (v4+; brokers behave as if it were true before v4).
	AllowAutoTopicCreation bool
	// IncludeClusterAuthorizedOperations asks for the cluster's authorized
	// operations bitfield (v8–v10).
	IncludeClusterAuthorizedOperations bool
	// IncludeTopicAuthorizedOperations asks for each topic's authorized
	// operations bitfield (v8+).
	IncludeTopicAuthorizedOperations bool
}

// MetadataRequestTopic names one topic in a [MetadataRequest].
type MetadataRequestTopic struct {
	TopicID [16]byte // v10+; zero when naming the topic
	// Name is the topic name. It may be nil from v10 when TopicID is set;
	// before v10 nil is sent as "".
	Name *string
}

// Key returns KeyMetadata.
func (*MetadataRequest) Key() Key { return KeyMetadata }

// ResponseKind returns a new, empty *MetadataResponse.
func (*MetadataRequest) ResponseKind() Response { return NewMetadataResponse() }

// AppendTo appends the request body encoded at version v to dst.
func (req *MetadataRequest) AppendTo(dst []byte, v int16) []byte {
	flex := v >= 9
	if v >= 1 && req.Topics == nil {
		dst = AppendNullableArrayLen(dst, -1, flex)
	} else {
		dst = AppendArrayLen(dst, len(req.Topics), flex)
	}
	for i := range req.Topics {
		t := &req.Topics[i]
		if v >= 10 {
			dst = AppendUUID(dst, t.TopicID)
			dst = AppendNullableStringF(dst, t.Name, flex)
		} else {
			dst = AppendStringF(dst, derefString(t.Name), flex)
		}
		dst = AppendEmptyTags(dst, flex)
	}
	if v >= 4 {
		dst = AppendBool(dst, req.AllowAutoTopicCreation)
	}
	if v >= 8 && v <= 10 {
		dst = AppendBool(dst, req.IncludeClusterAuthorizedOperations)
	}
	if v >= 8 {
		dst = AppendBool(dst, req.IncludeTopicAuthorizedOperations)
	}
	return AppendEmptyTags(dst, flex)
}

// Decode reads the request body at version v from r. At v0 an empty topic
// array decodes as nil, since it means all topics.
func (req *MetadataRequest) Decode(r *Reader, v int16) {
	*req = MetadataRequest{}
	flex := v >= 9
	n := r.ArrayLen(flex)
	switch {
	case n < 0 && v == 0 && r.err == nil:
		r.fail("null topic array at v0")
	case n > 0:
		req.Topics = make([]MetadataRequestTopic, n)
	case n == 0 && v >= 1:
		req.Topics = []MetadataRequestTopic{}
	}
	for i := range req.Topics {
		t := &req.Topics[i]
		if v >= 10 {
			t.TopicID = r.UUID()
			t.Name = r.NullableStringF(flex)
		} else {
			s := r.StringF(flex)
			t.Name = &s
		}
		r.SkipTags(flex)
	}
	if v >= 4 {
		req.AllowAutoTopicCreation = r.Bool()
	}
	if v >= 8 && v <= 10 {
		req.IncludeClusterAuthorizedOperations = r.Bool()
	}
	if v >= 8 {
		req.IncludeTopicAuthorizedOperations = r.Bool()
	}
	r.SkipTags(flex)
}

// AuthorizedOperationsUnknown is the default of the authorized-operations
// bitfields in a [MetadataResponse]: the broker did not compute them.
const AuthorizedOperationsUnknown int32 = -2147483648

// MetadataResponse is a broker's answer to a [MetadataRequest]. Use
// [NewMetadataResponse] for a value with Kafka's defaults. A value is not
// safe for concurrent use.
type MetadataResponse struct {
	ThrottleTimeMillis int32 // v3+
	Brokers            []MetadataBroker
	ClusterID          *string // v2+
	ControllerID       int32   // v1+; -1 when unknown
	Topics             []MetadataTopic
	// ClusterAuthorizedOperations is the cluster's authorized-operations
	// bitfield (v8–v10), AuthorizedOperationsUnknown when not requested.
	ClusterAuthorizedOperations int32
	// ErrorCode is the top-level error (v13+, KIP-1102), e.g.
	// REBOOTSTRAP_REQUIRED: the client must re-bootstrap.
	ErrorCode int16
}

// MetadataBroker is one broker in a [MetadataResponse].
type MetadataBroker struct {
	NodeID int32
	Host   string
	Port   int32
	Rack   *string // v1+
}

// MetadataTopic is one topic in a [MetadataResponse].
type MetadataTopic struct {
	ErrorCode int16
	// Name is the topic name; it may be nil from v12 when the topic was
	// requested by ID. Before v12 decoding always sets it and encoding sends
	// nil as "".
	Name       *string
	TopicID    [16]byte // v10+
	IsInternal bool     // v1+
	Partitions []MetadataPartition
	// TopicAuthorizedOperations is the topic's authorized-operations
	// bitfield (v8+), AuthorizedOperationsUnknown when not requested.
	TopicAuthorizedOperations int32
}

// MetadataPartition is one partition of a [MetadataTopic].
type MetadataPartition struct {
	ErrorCode       int16
	PartitionIndex  int32
	LeaderID        int32 // -1 when there is no leader
	LeaderEpoch     int32 // v7+; -1 when unknown
	ReplicaNodes    []int32
	IsrNodes        []int32
	OfflineReplicas []int32 // v5+
}

// NewMetadataResponse returns an empty response with Kafka's defaults.
func NewMetadataResponse() *MetadataResponse {
	return &MetadataResponse{ControllerID: -1, ClusterAuthorizedOperations: AuthorizedOperationsUnknown}
}

// Key returns KeyMetadata.
func (*MetadataResponse) Key() Key { return KeyMetadata }

// AppendTo appends the response body encoded at version v to dst.
func (resp *MetadataResponse) AppendTo(dst []byte, v int16) []byte {
	flex := v >= 9
	if v >= 3 {
		dst = AppendInt32(dst, resp.ThrottleTimeMillis)
	}
	dst = AppendArrayLen(dst, len(resp.Brokers), flex)
	for i := range resp.Brokers {
		b := &resp.Brokers[i]
		dst = AppendInt32(dst, b.NodeID)
		dst = AppendStringF(dst, b.Host, flex)
		dst = AppendInt32(dst, b.Port)
		if v >= 1 {
			dst = AppendNullableStringF(dst, b.Rack, flex)
		}
		dst = AppendEmptyTags(dst, flex)
	}
	if v >= 2 {
		dst = AppendNullableStringF(dst, resp.ClusterID, flex)
	}
	if v >= 1 {
		dst = AppendInt32(dst, resp.ControllerID)
	}
	dst = AppendArrayLen(dst, len(resp.Topics), flex)
	for i := range resp.Topics {
		dst = resp.Topics[i].appendTo(dst, v, flex)
	}
	if v >= 8 && v <= 10 {
		dst = AppendInt32(dst, resp.ClusterAuthorizedOperations)
	}
	if v >= 13 {
		dst = AppendInt16(dst, resp.ErrorCode)
	}
	return AppendEmptyTags(dst, flex)
}

func (t *MetadataTopic) appendTo(dst []byte, v int16, flex bool) []byte {
	dst = AppendInt16(dst, t.ErrorCode)
	if v >= 12 {
		dst = AppendNullableStringF(dst, t.Name, flex)
	} else {
		dst = AppendStringF(dst, derefString(t.Name), flex)
	}
	if v >= 10 {
		dst = AppendUUID(dst, t.TopicID)
	}
	if v >= 1 {
		dst = AppendBool(dst, t.IsInternal)
	}
	dst = AppendArrayLen(dst, len(t.Partitions), flex)
	for i := range t.Partitions {
		p := &t.Partitions[i]
		dst = AppendInt16(dst, p.ErrorCode)
		dst = AppendInt32(dst, p.PartitionIndex)
		dst = AppendInt32(dst, p.LeaderID)
		if v >= 7 {
			dst = AppendInt32(dst, p.LeaderEpoch)
		}
		dst = appendInt32Array(dst, p.ReplicaNodes, flex)
		dst = appendInt32Array(dst, p.IsrNodes, flex)
		if v >= 5 {
			dst = appendInt32Array(dst, p.OfflineReplicas, flex)
		}
		dst = AppendEmptyTags(dst, flex)
	}
	if v >= 8 {
		dst = AppendInt32(dst, t.TopicAuthorizedOperations)
	}
	return AppendEmptyTags(dst, flex)
}

// Decode reads the response body at version v from r. Fields absent at v
// take Kafka's defaults; unknown tagged fields are skipped.
func (resp *MetadataResponse) Decode(r *Reader, v int16) {
	*resp = MetadataResponse{ControllerID: -1, ClusterAuthorizedOperations: AuthorizedOperationsUnknown}
	flex := v >= 9
	if v >= 3 {
		resp.ThrottleTimeMillis = r.Int32()
	}
	if n := nonNullArrayLen(r, flex); n > 0 {
		resp.Brokers = make([]MetadataBroker, n)
		for i := range resp.Brokers {
			b := &resp.Brokers[i]
			b.NodeID = r.Int32()
			b.Host = r.StringF(flex)
			b.Port = r.Int32()
			if v >= 1 {
				b.Rack = r.NullableStringF(flex)
			}
			r.SkipTags(flex)
		}
	}
	if v >= 2 {
		resp.ClusterID = r.NullableStringF(flex)
	}
	if v >= 1 {
		resp.ControllerID = r.Int32()
	}
	if n := nonNullArrayLen(r, flex); n > 0 {
		resp.Topics = make([]MetadataTopic, n)
		for i := range resp.Topics {
			resp.Topics[i].decode(r, v, flex)
		}
	}
	if v >= 8 && v <= 10 {
		resp.ClusterAuthorizedOperations = r.Int32()
	}
	if v >= 13 {
		resp.ErrorCode = r.Int16()
	}
	r.SkipTags(flex)
}

func (t *MetadataTopic) decode(r *Reader, v int16, flex bool) {
	*t = MetadataTopic{TopicAuthorizedOperations: AuthorizedOperationsUnknown}
	t.ErrorCode = r.Int16()
	if v >= 12 {
		t.Name = r.NullableStringF(flex)
	} else {
		s := r.StringF(flex)
		t.Name = &s
	}
	if v >= 10 {
		t.TopicID = r.UUID()
	}
	if v >= 1 {
		t.IsInternal = r.Bool()
	}
	if n := nonNullArrayLen(r, flex); n > 0 {
		t.Partitions = make([]MetadataPartition, n)
		for i := range t.Partitions {
			p := &t.Partitions[i]
			p.ErrorCode = r.Int16()
			p.PartitionIndex = r.Int32()
			p.LeaderID = r.Int32()
			p.LeaderEpoch = -1
			if v >= 7 {
				p.LeaderEpoch = r.Int32()
			}
			p.ReplicaNodes = readInt32Array(r, flex)
			p.IsrNodes = readInt32Array(r, flex)
			if v >= 5 {
				p.OfflineReplicas = readInt32Array(r, flex)
			}
			r.SkipTags(flex)
		}
	}
	if v >= 8 {
		t.TopicAuthorizedOperations = r.Int32()
	}
	r.SkipTags(flex)
}

// appendInt32Array appends a non-nullable []int32.
func appendInt32Array(dst []byte, s []int32, flex bool) []byte {
	dst = AppendArrayLen(dst, len(s), flex)
	for _, x := range s {
		dst = AppendInt32(dst, x)
	}
	return dst
}

// readInt32Array reads a non-nullable []int32; empty reads as nil.
func readInt32Array(r *Reader, flex bool) []int32 {
	n := nonNullArrayLen(r, flex)
	if n == 0 || n*4 > r.Remaining() {
		// Check the full size up front so a hostile count cannot make us
		// allocate four times the frame.
		if n > 0 {
			r.fail("int32 array longer than the input")
		}
		return nil
	}
	s := make([]int32, n)
	for i := range s {
		s[i] = r.Int32()
	}
	return s
}

// derefString returns *s, or "" for nil.
func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
