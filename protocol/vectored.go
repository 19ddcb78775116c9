package protocol

// Vectored encoding lets a request refer to large byte fields instead of
// copying them. A Produce request is mostly record batches that are already
// encoded, closed and immutable while the request is in flight; copying
// each into the request buffer only so that one Write can send them costs a
// memmove of every byte the producer sends, the largest CPU item for big
// records. A vectored encoding is instead the request's framing (size,
// header, the fields around each batch) appended to one small buffer, plus
// a list of [Splice]s, each a batch's bytes and the offset in the framing
// buffer where they belong. The writer hands the pieces to the kernel in one
// writev (net.Buffers), so the batch bytes are copied once, into the
// socket, and never in user space.
//
// Offsets rather than sub-slices of the framing buffer are recorded because
// that buffer may grow (and move) while later requests are appended to it.
// The framing bytes with every splice inserted at its offset are exactly
// the bytes AppendTo would produce: [Flatten] builds that form, which is how
// the tests hold the vectored encoding to the flat one and to kmsg.
//
// Whoever writes a vectored encoding borrows the spliced slices: they must
// stay unmodified until the write has returned.

// Splice is a byte slice that belongs at offset At of a framing buffer.
type Splice struct {
	At    int    // offset in the framing buffer; splices are in offset order
	Bytes []byte // referenced, not copied
}

// VectorAppender is a [Message] whose large byte fields can be referenced
// instead of copied. AppendVectored is AppendTo, except that each byte field
// of at least min bytes is left out of dst (its length prefix stays) and
// appended to sp as a [Splice] at the offset it belongs. It allocates only
// when dst or sp must grow.
type VectorAppender interface {
	AppendVectored(dst []byte, sp []Splice, v int16, min int) ([]byte, []Splice)
}

// AppendRequestVectored is [AppendRequest] for a vectored encoding: it
// appends the frame's size, header and body to dst, leaving the body's byte
// fields of at least min bytes out as splices appended to sp when body is a
// [VectorAppender] (else it is AppendRequest). The size field counts the
// spliced bytes. It allocates only when dst or sp must grow.
func AppendRequestVectored(dst []byte, sp []Splice, h RequestHeader, body Message, min int) ([]byte, []Splice) {
	va, ok := body.(VectorAppender)
	if !ok {
		return AppendRequest(dst, h, body), sp
	}
	start, first := len(dst), len(sp)
	dst = append(dst, 0, 0, 0, 0)
	dst = AppendRequestHeader(dst, h)
	dst, sp = va.AppendVectored(dst, sp, h.Version, min)
	size := len(dst) - start - 4
	for _, s := range sp[first:] {
		size += len(s.Bytes)
	}
	PutInt32(dst[start:], int32(size))
	return dst, sp
}

// Flatten appends to dst the bytes a vectored encoding stands for: framing
// with each splice's bytes inserted at its offset.
func Flatten(dst, framing []byte, sp []Splice) []byte {
	at := 0
	for _, s := range sp {
		dst = append(dst, framing[at:s.At]...)
		dst = append(dst, s.Bytes...)
		at = s.At
	}
	return append(dst, framing[at:]...)
}

// appendBytesLenF appends the length prefix of an n-byte non-null bytes
// field: a uvarint n+1 when flexible, an int32 otherwise.
func appendBytesLenF(dst []byte, n int, flexible bool) []byte {
	if flexible {
		return AppendUvarint(dst, uint32(n)+1)
	}
	return AppendInt32(dst, int32(n))
}
