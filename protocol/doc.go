// Package protocol is Tributary's own implementation of the Kafka wire
// protocol: primitives, request and response headers, the messages a
// producer needs, the v2 record batch, and the table of Kafka error codes.
//
// # Place in the data flow
//
// protocol is the bottom layer: producer → partitioner → accumulator →
// sender → protocol. The accumulator builds record batches with
// [BatchBuilder]; the sender encodes requests with [AppendRequest] and
// decodes responses with a [Reader]. Nothing here does I/O.
//
// # Encoding and decoding
//
// Encoders append to a dst []byte and return it, like strconv.AppendInt, so
// a caller that reuses its buffer encodes without allocating. Decoders read
// through a [Reader], which keeps the first error; lengths are checked
// against the bytes present before anything is allocated, so hostile input
// yields a [*DecodeError] (matching [ErrMalformed]) and never a panic.
//
// # Versions
//
// [APIs] is the one table of API versions this package speaks. [Negotiate]
// picks min(ours, broker's) for an API and returns a [*NoVersionError] when
// there is no overlap.
//
//	v, err := protocol.Negotiate(protocol.KeyProduce, brokerVersions)
//	buf = protocol.AppendRequest(buf[:0], protocol.RequestHeader{
//		Key: protocol.KeyProduce, Version: v, CorrelationID: id,
//	}, &req)
//
// # Record batches
//
// [BatchBuilder] appends records into a caller-supplied buffer and closes
// the batch (compression, CRC-32C, producer id/epoch/sequence) without
// allocating; [RestampBatch] rewrites producer state of a closed batch.
// [ReadBatch] parses and verifies one batch, for tests, splitting and
// diagnostics. Non-idempotent batches use [NoProducerID], [NoProducerEpoch]
// and [NoSequence].
//
// # Errors
//
// Kafka error codes are one table of [*Error] values with code, name,
// retriable flag and message; compare with errors.Is against the Err*
// variables, e.g. [ErrNotLeaderOrFollower].
//
// # Concurrency
//
// Functions are safe for concurrent use; a [Reader], a message value or a
// [BatchBuilder] belongs to one goroutine at a time.
package protocol
