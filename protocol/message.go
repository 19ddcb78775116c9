package protocol

// Message is a Kafka request or response body that can encode itself at a
// version and decode itself from a Reader. Every request and response type in
// this package implements it; callers pick a version with [Negotiate].
type Message interface {
	// Key returns the API key.
	Key() Key
	// AppendTo appends the body encoded at version v to dst.
	AppendTo(dst []byte, v int16) []byte
	// Decode reads the body at version v from r; errors are kept in r.
	Decode(r *Reader, v int16)
}

// Request is a Message sent by a client. ResponseKind returns a new, empty
// response of the matching type, ready for Decode.
type Request interface {
	Message
	ResponseKind() Response
}

// Response is a Message sent by a broker.
type Response interface {
	Message
}

// DecodeMessage decodes b as m at version v and requires that b is consumed
// exactly.
func DecodeMessage(m Message, b []byte, v int16) error {
	r := Reader{b: b}
	m.Decode(&r, v)
	return r.Complete()
}
