package protocol

import "fmt"

// ApiVersions (key 18) is the first request on every connection: the broker
// answers with the version range it supports for each API, which [Negotiate]
// intersects with ours. Two quirks shape this file:
//
//   - The response header is always v0 (no tagged fields) even for flexible
//     versions, so a client can read the answer to a version the broker does
//     not understand; see ResponseHeaderVersion.
//   - A broker that does not support the request version answers
//     UNSUPPORTED_VERSION with a v0 body listing its own ApiVersions range
//     (KIP-511). Callers decode such a reply at v0 and retry lower.
//
// The request's ClientSoftwareName and ClientSoftwareVersion (v3+) must match
// [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])? or the broker rejects the
// request with INVALID_REQUEST; ValidClientSoftware checks that without
// pulling regexp into the connection path.

// APIVersionsRequest asks a broker which API versions it supports. The zero
// value is a valid v0–v2 request. A value is not safe for concurrent use.
type APIVersionsRequest struct {
	ClientSoftwareName    string // v3+; see ValidClientSoftware
	ClientSoftwareVersion string // v3+; see ValidClientSoftware
}

// Key returns KeyAPIVersions.
func (*APIVersionsRequest) Key() Key { return KeyAPIVersions }

// ResponseKind returns a new, empty *APIVersionsResponse.
func (*APIVersionsRequest) ResponseKind() Response { return NewAPIVersionsResponse() }

// AppendTo appends the request body encoded at version v to dst.
func (req *APIVersionsRequest) AppendTo(dst []byte, v int16) []byte {
	if v < 3 {
		return dst // v0-v2 have an empty body
	}
	dst = AppendCompactString(dst, req.ClientSoftwareName)
	dst = AppendCompactString(dst, req.ClientSoftwareVersion)
	return AppendEmptyTags(dst, true)
}

// Decode reads the request body at version v from r.
func (req *APIVersionsRequest) Decode(r *Reader, v int16) {
	*req = APIVersionsRequest{}
	if v < 3 {
		return
	}
	req.ClientSoftwareName = r.CompactString()
	req.ClientSoftwareVersion = r.CompactString()
	r.SkipTags(true)
}

// APIVersionsResponseKey is one API a broker supports and its version range.
type APIVersionsResponseKey struct {
	APIKey     int16
	MinVersion int16
	MaxVersion int16
}

// SupportedFeature is a feature a broker supports (KIP-584), e.g.
// "transaction.version", with the range of levels it can run.
type SupportedFeature struct {
	Name       string
	MinVersion int16
	MaxVersion int16
}

// FinalizedFeature is a feature level the whole cluster has agreed on. A
// producer uses "transaction.version" ≥ 2 to decide whether Produce v12's
// implicit AddPartitionsToTxn (transactions v2) is available.
type FinalizedFeature struct {
	Name            string
	MaxVersionLevel int16
	MinVersionLevel int16
}

// APIVersionsResponse is a broker's answer to an [APIVersionsRequest].
// Use [NewAPIVersionsResponse] for a value with Kafka's defaults. A value is
// not safe for concurrent use.
type APIVersionsResponse struct {
	ErrorCode          int16
	APIKeys            []APIVersionsResponseKey
	ThrottleTimeMillis int32 // v1+

	// Tagged fields, v3+.
	SupportedFeatures      []SupportedFeature // tag 0
	FinalizedFeaturesEpoch int64              // tag 1; -1 when unknown
	FinalizedFeatures      []FinalizedFeature // tag 2; valid only when the epoch is ≥ 0
	ZkMigrationReady       bool               // tag 3
}

// NewAPIVersionsResponse returns an empty response with Kafka's defaults
// (FinalizedFeaturesEpoch -1).
func NewAPIVersionsResponse() *APIVersionsResponse {
	return &APIVersionsResponse{FinalizedFeaturesEpoch: -1}
}

// Key returns KeyAPIVersions.
func (*APIVersionsResponse) Key() Key { return KeyAPIVersions }

// Versions returns the broker's version range per API, the form [Negotiate]
// takes. A key listed twice keeps its last range.
func (resp *APIVersionsResponse) Versions() map[Key]VersionRange {
	m := make(map[Key]VersionRange, len(resp.APIKeys))
	for _, k := range resp.APIKeys {
		m[Key(k.APIKey)] = VersionRange{Min: k.MinVersion, Max: k.MaxVersion}
	}
	return m
}

// AppendTo appends the response body encoded at version v to dst. Tagged
// fields are written only when they differ from their defaults.
func (resp *APIVersionsResponse) AppendTo(dst []byte, v int16) []byte {
	flex := v >= 3
	dst = AppendInt16(dst, resp.ErrorCode)
	dst = AppendArrayLen(dst, len(resp.APIKeys), flex)
	for i := range resp.APIKeys {
		k := &resp.APIKeys[i]
		dst = AppendInt16(dst, k.APIKey)
		dst = AppendInt16(dst, k.MinVersion)
		dst = AppendInt16(dst, k.MaxVersion)
		dst = AppendEmptyTags(dst, flex)
	}
	if v >= 1 {
		dst = AppendInt32(dst, resp.ThrottleTimeMillis)
	}
	if !flex {
		return dst
	}

	n := 0
	if len(resp.SupportedFeatures) > 0 {
		n++
	}
	if resp.FinalizedFeaturesEpoch != -1 {
		n++
	}
	if len(resp.FinalizedFeatures) > 0 {
		n++
	}
	if resp.ZkMigrationReady {
		n++
	}
	dst = AppendUvarint(dst, uint32(n))
	if len(resp.SupportedFeatures) > 0 {
		dst = appendTaggedField(dst, 0, func(dst []byte) []byte {
			dst = AppendArrayLen(dst, len(resp.SupportedFeatures), true)
			for i := range resp.SupportedFeatures {
				f := &resp.SupportedFeatures[i]
				dst = AppendCompactString(dst, f.Name)
				dst = AppendInt16(dst, f.MinVersion)
				dst = AppendInt16(dst, f.MaxVersion)
				dst = AppendEmptyTags(dst, true)
			}
			return dst
		})
	}
	if resp.FinalizedFeaturesEpoch != -1 {
		dst = AppendUvarint(dst, 1)
		dst = AppendUvarint(dst, 8)
		dst = AppendInt64(dst, resp.FinalizedFeaturesEpoch)
	}
	if len(resp.FinalizedFeatures) > 0 {
		dst = appendTaggedField(dst, 2, func(dst []byte) []byte {
			dst = AppendArrayLen(dst, len(resp.FinalizedFeatures), true)
			for i := range resp.FinalizedFeatures {
				f := &resp.FinalizedFeatures[i]
				dst = AppendCompactString(dst, f.Name)
				dst = AppendInt16(dst, f.MaxVersionLevel)
				dst = AppendInt16(dst, f.MinVersionLevel)
				dst = AppendEmptyTags(dst, true)
			}
			return dst
		})
	}
	if resp.ZkMigrationReady {
		dst = AppendUvarint(dst, 3)
		dst = AppendUvarint(dst, 1)
		dst = AppendBool(dst, true)
	}
	return dst
}

// Decode reads the response body at version v from r. Unknown tagged fields
// are skipped.
func (resp *APIVersionsResponse) Decode(r *Reader, v int16) {
	*resp = APIVersionsResponse{FinalizedFeaturesEpoch: -1}
	flex := v >= 3
	resp.ErrorCode = r.Int16()
	if n := nonNullArrayLen(r, flex); n > 0 {
		resp.APIKeys = make([]APIVersionsResponseKey, n)
		for i := range resp.APIKeys {
			k := &resp.APIKeys[i]
			k.APIKey = r.Int16()
			k.MinVersion = r.Int16()
			k.MaxVersion = r.Int16()
			r.SkipTags(flex)
		}
	}
	if v >= 1 {
		resp.ThrottleTimeMillis = r.Int32()
	}
	if !flex {
		return
	}
	r.Tags(func(tag uint32, b *Reader) bool {
		switch tag {
		case 0:
			resp.SupportedFeatures = nil
			if n := nonNullArrayLen(b, true); n > 0 {
				resp.SupportedFeatures = make([]SupportedFeature, n)
				for i := range resp.SupportedFeatures {
					f := &resp.SupportedFeatures[i]
					f.Name = b.CompactString()
					f.MinVersion = b.Int16()
					f.MaxVersion = b.Int16()
					b.SkipTags(true)
				}
			}
		case 1:
			resp.FinalizedFeaturesEpoch = b.Int64()
		case 2:
			resp.FinalizedFeatures = nil
			if n := nonNullArrayLen(b, true); n > 0 {
				resp.FinalizedFeatures = make([]FinalizedFeature, n)
				for i := range resp.FinalizedFeatures {
					f := &resp.FinalizedFeatures[i]
					f.Name = b.CompactString()
					f.MaxVersionLevel = b.Int16()
					f.MinVersionLevel = b.Int16()
					b.SkipTags(true)
				}
			}
		case 3:
			resp.ZkMigrationReady = b.Bool()
		default:
			return false
		}
		requireConsumed(b)
		return true
	})
}

// ValidClientSoftware reports whether s is acceptable to brokers as an
// ApiVersions v3+ ClientSoftwareName or ClientSoftwareVersion, that is,
// whether it matches [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?. It is safe
// for concurrent use.
func ValidClientSoftware(s string) bool {
	if s == "" || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// The helpers below are shared by the message files (apiversions.go,
// metadata.go, produce.go and the other messages).

// nonNullArrayLen reads the length of an array the schema declares
// non-nullable, failing on null as Kafka does. It returns 0 on error, so a
// caller may make([]T, n) for n > 0; the Reader has already bounded n by the
// bytes remaining.
func nonNullArrayLen(r *Reader, flexible bool) int {
	n := r.ArrayLen(flexible)
	if n < 0 {
		if r.err == nil {
			r.fail("null non-nullable array")
		}
		return 0
	}
	return n
}

// appendTaggedField appends one tagged field whose body fn encodes. The body
// is written first and then shifted right to make room for its uvarint
// size, which avoids a scratch buffer and so keeps encoding allocation free
// when dst has room. Tagged bodies are small, so the shift is cheap.
func appendTaggedField(dst []byte, tag uint32, fn func(dst []byte) []byte) []byte {
	dst = AppendUvarint(dst, tag)
	start := len(dst)
	dst = fn(dst)
	size := len(dst) - start
	n := UvarintLen(uint32(size))
	for range n {
		dst = append(dst, 0)
	}
	copy(dst[start+n:], dst[start:start+size])
	AppendUvarint(dst[:start], uint32(size)) // writes in place: cap is there
	return dst
}

// requireConsumed fails r when a known tagged field's body holds more bytes
// than its schema reads; Java rejects such input too.
func requireConsumed(r *Reader) {
	if r.err == nil && r.Remaining() != 0 {
		r.fail(fmt.Sprintf("%d unread bytes in tagged field", r.Remaining()))
	}
}
