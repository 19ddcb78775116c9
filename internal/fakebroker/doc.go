// Package fakebroker is a small in-process Kafka-protocol broker built on
// Tributary's own protocol package. Tests use it to script broker behaviour
// precisely (errors, leader moves, delays, dropped requests, closed
// connections); benchmarks use it as a sink that validates and counts what
// it receives.
//
// # Place in the data flow
//
// It sits at the far end of producer → partitioner → accumulator → sender →
// protocol: it speaks the wire protocol over real TCP on 127.0.0.1, so the
// code under test (internal/conn, sender, producer) runs unchanged. Only
// tests and benchmarks import it.
//
// # What it implements
//
// ApiVersions (our [protocol.APIs] table capped by [Config.MaxVersions]),
// Metadata, InitProducerId and Produce. Produce is validated as Kafka does:
// acks ∈ {-1, 0, 1}; one v2 batch per partition with a good magic byte,
// length and CRC-32C; the leader must be this node (else
// NOT_LEADER_OR_FOLLOWER with a KIP-951 leader hint); and idempotent batches
// follow Kafka's ProducerStateManager rules: an exact duplicate of one of the
// producer's last five batches succeeds with its original offset, an older
// epoch is INVALID_PRODUCER_EPOCH, a sequence gap OUT_OF_ORDER_SEQUENCE_NUMBER.
// Other APIs are answered only through [Config.Handler]; without an answer
// the connection is closed, as Kafka closes on requests it cannot handle.
//
// A [Config.Handler] sees every decoded request first and returns an
// [Action]: answer with an error code (optionally after appending), with a
// leader hint or per-record errors, with a canned response, later, never, or
// by closing the connection.
//
// # Concurrency
//
// [Broker] is safe for concurrent use. Each accepted connection has one
// reader goroutine that decodes, handles and, in the common case, writes
// the response itself; a writer goroutine starts only once a response has
// to wait (a Delay, a Hold, a Drop), so that responses always leave in request order.
// Every goroutine is owned by the Broker and has exited when
// [Broker.Close] returns. The Handler runs on connection goroutines,
// concurrently for different connections, and must be safe for that.
//
//	b, err := fakebroker.Start(fakebroker.Config{Brokers: 3, Topics: map[string]int32{"t": 6}, Store: true})
//	if err != nil {
//		return err
//	}
//	defer b.Close()
//	// point a client at b.Addrs(), then:
//	n := b.Records("t", 0)
package fakebroker
