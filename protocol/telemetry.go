package protocol

// GetTelemetrySubscriptions (key 71) and PushTelemetry (key 72) carry
// KIP-714 client telemetry: the client asks a broker which of its metrics
// the cluster wants and how often, then pushes them, encoded as an
// OpenTelemetry (OTLP) MetricsData protobuf, at that interval. Both exist
// only in version 0, which is flexible. The field layouts follow Kafka's
// GetTelemetrySubscriptionsRequest.json, GetTelemetrySubscriptionsResponse.json,
// PushTelemetryRequest.json and PushTelemetryResponse.json.
//
// A broker advertises the two APIs only when a client-telemetry receiver
// plug-in is configured (a metric.reporters class that also implements
// org.apache.kafka.server.telemetry.ClientTelemetry), so most clusters do
// not list them in ApiVersions.

// GetTelemetrySubscriptionsRequest asks for the client's telemetry
// subscription. A value is not safe for concurrent use.
type GetTelemetrySubscriptionsRequest struct {
	// ClientInstanceID is the id the broker assigned, or all zeros on the
	// first request, asking the broker to assign one.
	ClientInstanceID [16]byte
}

// Key returns KeyGetTelemetrySubscriptions.
func (*GetTelemetrySubscriptionsRequest) Key() Key { return KeyGetTelemetrySubscriptions }

// ResponseKind returns a new, empty *GetTelemetrySubscriptionsResponse.
func (*GetTelemetrySubscriptionsRequest) ResponseKind() Response {
	return new(GetTelemetrySubscriptionsResponse)
}

// AppendTo appends the request body encoded at version v to dst.
func (req *GetTelemetrySubscriptionsRequest) AppendTo(dst []byte, v int16) []byte {
	dst = AppendUUID(dst, req.ClientInstanceID)
	return AppendEmptyTags(dst, true)
}

// Decode reads the request body at version v from r.
func (req *GetTelemetrySubscriptionsRequest) Decode(r *Reader, v int16) {
	req.ClientInstanceID = r.UUID()
	r.SkipTags(true)
}

// GetTelemetrySubscriptionsResponse is the answer to a
// [GetTelemetrySubscriptionsRequest]. A value is not safe for concurrent
// use.
type GetTelemetrySubscriptionsResponse struct {
	ThrottleTimeMillis int32
	ErrorCode          int16
	// ClientInstanceID is the id assigned when the request carried zeros,
	// else the request's id.
	ClientInstanceID [16]byte
	// SubscriptionID identifies this subscription; pushes carry it, and a
	// changed subscription answers a push with UNKNOWN_SUBSCRIPTION_ID.
	SubscriptionID int32
	// AcceptedCompressionTypes lists the codecs (record batch codec ids)
	// the broker accepts for pushed metrics, most preferred first; empty
	// means uncompressed only.
	AcceptedCompressionTypes []int8
	// PushIntervalMillis is how often to push, and, with no metrics
	// requested, how often to ask again.
	PushIntervalMillis int32
	// TelemetryMaxBytes bounds a push's (compressed) metrics payload.
	TelemetryMaxBytes int32
	// DeltaTemporality asks for sums as deltas since the previous push
	// rather than cumulative totals.
	DeltaTemporality bool
	// RequestedMetrics are metric name prefixes: empty requests nothing,
	// a single "*" (or an empty prefix) everything.
	RequestedMetrics []string
}

// Key returns KeyGetTelemetrySubscriptions.
func (*GetTelemetrySubscriptionsResponse) Key() Key { return KeyGetTelemetrySubscriptions }

// AppendTo appends the response body encoded at version v to dst.
func (resp *GetTelemetrySubscriptionsResponse) AppendTo(dst []byte, v int16) []byte {
	dst = AppendInt32(dst, resp.ThrottleTimeMillis)
	dst = AppendInt16(dst, resp.ErrorCode)
	dst = AppendUUID(dst, resp.ClientInstanceID)
	dst = AppendInt32(dst, resp.SubscriptionID)
	dst = AppendArrayLen(dst, len(resp.AcceptedCompressionTypes), true)
	for _, c := range resp.AcceptedCompressionTypes {
		dst = AppendInt8(dst, c)
	}
	dst = AppendInt32(dst, resp.PushIntervalMillis)
	dst = AppendInt32(dst, resp.TelemetryMaxBytes)
	dst = AppendBool(dst, resp.DeltaTemporality)
	dst = AppendArrayLen(dst, len(resp.RequestedMetrics), true)
	for _, m := range resp.RequestedMetrics {
		dst = AppendCompactString(dst, m)
	}
	return AppendEmptyTags(dst, true)
}

// Decode reads the response body at version v from r. Empty arrays
// decode as nil.
func (resp *GetTelemetrySubscriptionsResponse) Decode(r *Reader, v int16) {
	*resp = GetTelemetrySubscriptionsResponse{}
	resp.ThrottleTimeMillis = r.Int32()
	resp.ErrorCode = r.Int16()
	resp.ClientInstanceID = r.UUID()
	resp.SubscriptionID = r.Int32()
	if n := r.ArrayLen(true); n > 0 {
		resp.AcceptedCompressionTypes = make([]int8, n)
		for i := range resp.AcceptedCompressionTypes {
			resp.AcceptedCompressionTypes[i] = r.Int8()
		}
	}
	resp.PushIntervalMillis = r.Int32()
	resp.TelemetryMaxBytes = r.Int32()
	resp.DeltaTemporality = r.Bool()
	if n := r.ArrayLen(true); n > 0 {
		resp.RequestedMetrics = make([]string, n)
		for i := range resp.RequestedMetrics {
			resp.RequestedMetrics[i] = r.CompactString()
		}
	}
	r.SkipTags(true)
}

// PushTelemetryRequest pushes one set of metrics. A value is not safe for
// concurrent use.
type PushTelemetryRequest struct {
	ClientInstanceID [16]byte
	SubscriptionID   int32
	// Terminating marks the client's last push, sent while it closes.
	Terminating bool
	// CompressionType is the codec id Metrics is compressed with (0 none).
	CompressionType int8
	// Metrics is the OTLP MetricsData protobuf, compressed as
	// CompressionType says.
	Metrics []byte
}

// Key returns KeyPushTelemetry.
func (*PushTelemetryRequest) Key() Key { return KeyPushTelemetry }

// ResponseKind returns a new, empty *PushTelemetryResponse.
func (*PushTelemetryRequest) ResponseKind() Response { return new(PushTelemetryResponse) }

// AppendTo appends the request body encoded at version v to dst.
func (req *PushTelemetryRequest) AppendTo(dst []byte, v int16) []byte {
	dst = AppendUUID(dst, req.ClientInstanceID)
	dst = AppendInt32(dst, req.SubscriptionID)
	dst = AppendBool(dst, req.Terminating)
	dst = AppendInt8(dst, req.CompressionType)
	dst = AppendCompactBytes(dst, req.Metrics)
	return AppendEmptyTags(dst, true)
}

// Decode reads the request body at version v from r.
func (req *PushTelemetryRequest) Decode(r *Reader, v int16) {
	req.ClientInstanceID = r.UUID()
	req.SubscriptionID = r.Int32()
	req.Terminating = r.Bool()
	req.CompressionType = r.Int8()
	req.Metrics = r.CompactBytes()
	r.SkipTags(true)
}

// PushTelemetryResponse is the answer to a [PushTelemetryRequest]. A value
// is not safe for concurrent use.
type PushTelemetryResponse struct {
	ThrottleTimeMillis int32
	ErrorCode          int16
}

// Key returns KeyPushTelemetry.
func (*PushTelemetryResponse) Key() Key { return KeyPushTelemetry }

// AppendTo appends the response body encoded at version v to dst.
func (resp *PushTelemetryResponse) AppendTo(dst []byte, v int16) []byte {
	dst = AppendInt32(dst, resp.ThrottleTimeMillis)
	dst = AppendInt16(dst, resp.ErrorCode)
	return AppendEmptyTags(dst, true)
}

// Decode reads the response body at version v from r.
func (resp *PushTelemetryResponse) Decode(r *Reader, v int16) {
	resp.ThrottleTimeMillis = r.Int32()
	resp.ErrorCode = r.Int16()
	r.SkipTags(true)
}
