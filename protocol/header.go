package protocol

// Request framing: every request is [int32 size][header][body] and every
// response [int32 size][header][body]. Request header v1 is
// api_key int16, api_version int16, correlation_id int32, client_id nullable
// string; v2 adds an empty tagged-field section. Response header v0 is the
// correlation_id; v1 adds tagged fields. Header versions depend on the API
// and version (see RequestHeaderVersion, ResponseHeaderVersion).

// RequestHeader is the header of a request.
type RequestHeader struct {
	Key           Key
	Version       int16
	CorrelationID int32
	ClientID      *string
}

// AppendRequestHeader appends a request header of the version the API
// requires. client_id stays a classic nullable string even in header v2.
func AppendRequestHeader(dst []byte, h RequestHeader) []byte {
	dst = AppendInt16(dst, int16(h.Key))
	dst = AppendInt16(dst, h.Version)
	dst = AppendInt32(dst, h.CorrelationID)
	dst = AppendNullableString(dst, h.ClientID)
	return AppendEmptyTags(dst, RequestHeaderVersion(h.Key, h.Version) >= 2)
}

// DecodeRequestHeader reads a request header; the API key and version it
// reads decide whether a tagged-field section follows.
func DecodeRequestHeader(r *Reader) RequestHeader {
	var h RequestHeader
	h.Key = Key(r.Int16())
	h.Version = r.Int16()
	h.CorrelationID = r.Int32()
	h.ClientID = r.NullableString()
	r.SkipTags(RequestHeaderVersion(h.Key, h.Version) >= 2)
	return h
}

// AppendResponseHeader appends a response header for API k at version v.
func AppendResponseHeader(dst []byte, k Key, v int16, correlationID int32) []byte {
	dst = AppendInt32(dst, correlationID)
	return AppendEmptyTags(dst, ResponseHeaderVersion(k, v) >= 1)
}

// DecodeResponseHeader reads a response header for API k at version v and
// returns its correlation id.
func DecodeResponseHeader(r *Reader, k Key, v int16) int32 {
	id := r.Int32()
	r.SkipTags(ResponseHeaderVersion(k, v) >= 1)
	return id
}

// AppendRequest appends a whole size-prefixed request frame: size, header,
// body. It reserves the size field, appends, then patches it, so it
// allocates only when dst must grow.
func AppendRequest(dst []byte, h RequestHeader, body Message) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = AppendRequestHeader(dst, h)
	dst = body.AppendTo(dst, h.Version)
	PutInt32(dst[start:], int32(len(dst)-start-4))
	return dst
}

// PutInt32 writes v big-endian into b[0:4].
func PutInt32(b []byte, v int32) {
	_ = b[3]
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}
