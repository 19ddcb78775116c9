package protocol

import "bytes"

// SASL authentication runs on a fresh connection, right after ApiVersions
// and before any other request:
//
//  1. SaslHandshake (key 17) names the mechanism (PLAIN, SCRAM-SHA-256,
//     SCRAM-SHA-512, OAUTHBEARER, GSSAPI). An unsupported one fails with
//     UNSUPPORTED_SASL_MECHANISM and the list of mechanisms the broker has
//     enabled.
//  2. At handshake v1 (KIP-152) the mechanism's tokens then travel inside
//     SaslAuthenticate (key 36) requests, one round trip per token, so a
//     failure comes back as SASL_AUTHENTICATION_FAILED with a message
//     instead of a closed connection. Handshake v0 instead expects the raw
//     tokens as bare size-prefixed frames; this package does not model
//     those, and clients should use v1.
//
// From SaslAuthenticate v1 (KIP-368) the final response carries
// SessionLifetimeMillis: when it is non-zero the broker closes the
// connection after that long unless the client re-authenticates on it.
//
// Auth bytes are copied out of the decoded buffer rather than aliased, as
// they outlive the read buffer in every SASL state machine; SASL is not a
// hot path, so the copy costs nothing that matters.

// SaslHandshakeRequest names the SASL mechanism a connection will use. A
// value is not safe for concurrent use.
type SaslHandshakeRequest struct {
	Mechanism string
}

// Key returns KeySaslHandshake.
func (*SaslHandshakeRequest) Key() Key { return KeySaslHandshake }

// ResponseKind returns a new, empty *SaslHandshakeResponse.
func (*SaslHandshakeRequest) ResponseKind() Response { return &SaslHandshakeResponse{} }

// AppendTo appends the request body encoded at version v to dst. No
// version is flexible.
func (req *SaslHandshakeRequest) AppendTo(dst []byte, v int16) []byte {
	return AppendString(dst, req.Mechanism)
}

// Decode reads the request body at version v from r.
func (req *SaslHandshakeRequest) Decode(r *Reader, v int16) {
	req.Mechanism = r.String()
}

// SaslHandshakeResponse is the answer to a [SaslHandshakeRequest]. A value
// is not safe for concurrent use.
type SaslHandshakeResponse struct {
	ErrorCode int16
	// Mechanisms lists the mechanisms the broker has enabled.
	Mechanisms []string
}

// Key returns KeySaslHandshake.
func (*SaslHandshakeResponse) Key() Key { return KeySaslHandshake }

// AppendTo appends the response body encoded at version v to dst.
func (resp *SaslHandshakeResponse) AppendTo(dst []byte, v int16) []byte {
	dst = AppendInt16(dst, resp.ErrorCode)
	dst = AppendArrayLen(dst, len(resp.Mechanisms), false)
	for _, m := range resp.Mechanisms {
		dst = AppendString(dst, m)
	}
	return dst
}

// Decode reads the response body at version v from r.
func (resp *SaslHandshakeResponse) Decode(r *Reader, v int16) {
	*resp = SaslHandshakeResponse{}
	resp.ErrorCode = r.Int16()
	if n := nonNullArrayLen(r, false); n > 0 {
		resp.Mechanisms = make([]string, n)
		for i := range resp.Mechanisms {
			resp.Mechanisms[i] = r.String()
		}
	}
}

// SaslAuthenticateRequest carries one client token of a SASL exchange. A
// value is not safe for concurrent use.
type SaslAuthenticateRequest struct {
	AuthBytes []byte
}

// Key returns KeySaslAuthenticate.
func (*SaslAuthenticateRequest) Key() Key { return KeySaslAuthenticate }

// ResponseKind returns a new, empty *SaslAuthenticateResponse.
func (*SaslAuthenticateRequest) ResponseKind() Response { return &SaslAuthenticateResponse{} }

// AppendTo appends the request body encoded at version v to dst.
func (req *SaslAuthenticateRequest) AppendTo(dst []byte, v int16) []byte {
	flex := v >= 2
	dst = AppendBytesF(dst, req.AuthBytes, flex)
	return AppendEmptyTags(dst, flex)
}

// Decode reads the request body at version v from r. AuthBytes is a copy.
func (req *SaslAuthenticateRequest) Decode(r *Reader, v int16) {
	flex := v >= 2
	req.AuthBytes = readSaslBytes(r, flex)
	r.SkipTags(flex)
}

// SaslAuthenticateResponse carries one server token of a SASL exchange, or
// the reason it failed. A value is not safe for concurrent use.
type SaslAuthenticateResponse struct {
	ErrorCode    int16
	ErrorMessage *string
	AuthBytes    []byte
	// SessionLifetimeMillis is how long the authenticated session lasts
	// before the client must re-authenticate; 0 means no limit (v1+).
	SessionLifetimeMillis int64
}

// Key returns KeySaslAuthenticate.
func (*SaslAuthenticateResponse) Key() Key { return KeySaslAuthenticate }

// AppendTo appends the response body encoded at version v to dst.
func (resp *SaslAuthenticateResponse) AppendTo(dst []byte, v int16) []byte {
	flex := v >= 2
	dst = AppendInt16(dst, resp.ErrorCode)
	dst = AppendNullableStringF(dst, resp.ErrorMessage, flex)
	dst = AppendBytesF(dst, resp.AuthBytes, flex)
	if v >= 1 {
		dst = AppendInt64(dst, resp.SessionLifetimeMillis)
	}
	return AppendEmptyTags(dst, flex)
}

// Decode reads the response body at version v from r. AuthBytes is a copy.
func (resp *SaslAuthenticateResponse) Decode(r *Reader, v int16) {
	*resp = SaslAuthenticateResponse{}
	flex := v >= 2
	resp.ErrorCode = r.Int16()
	resp.ErrorMessage = r.NullableStringF(flex)
	resp.AuthBytes = readSaslBytes(r, flex)
	if v >= 1 {
		resp.SessionLifetimeMillis = r.Int64()
	}
	r.SkipTags(flex)
}

// readSaslBytes reads non-nullable auth bytes as a copy. Null fails, as in
// Kafka, rather than reading as empty: a decoder that let null and empty
// both through would not round-trip what it read.
func readSaslBytes(r *Reader, flex bool) []byte {
	b := r.BytesF(flex)
	if b == nil {
		if r.err == nil {
			r.fail("null non-nullable auth bytes")
		}
		return nil
	}
	return bytes.Clone(b)
}
