// Package conn manages Tributary's connections to Kafka brokers: dialing,
// the ApiVersions handshake, pipelined request/response exchange with
// timeouts, and a pool with one connection per broker and purpose.
//
// # Place in the data flow
//
// producer → partitioner → accumulator → sender → protocol, with metadata
// beside them. The sender writes Produce requests through a [Conn] it gets
// from a [Pool] with [Pool.Ready]; the metadata package fetches cluster
// metadata through the same pool with [Pool.Get]. This package encodes and
// decodes with the protocol package and knows nothing about producing.
//
// # Connections
//
// [Dial] opens a TCP connection and asks the broker which API versions it
// speaks (ApiVersions v4, retried once lower when the broker answers
// UNSUPPORTED_VERSION, as the Java client does); [Conn.Version] then
// negotiates per API. [Conn.Send] queues a request and returns at once; a
// writer goroutine, started by Send and gone again once everything queued
// is written, assigns correlation ids and writes, and a reader goroutine
// matches responses to requests in order (Kafka answers in order on a
// connection) and calls each request's done callback. [Conn.Do] is the
// blocking form. On a TCP connection the writer sends the record batches of
// a Produce request (those of 2 KiB and more) from where they lie, with
// writev, instead of copying them into its buffer; a request's done callback
// never runs while a write may still read its bytes, so done is the moment
// its batches may be reused. Over TLS everything is copied into one buffer,
// which measures cheaper there (each TLS write is a record of its own).
//
// # Footprint
//
// An open connection keeps one goroutine, its reader, parked in a socket
// read until a response, a deadline or Close; the writer exists only while
// there is something to write, so an idle connection never wakes. A
// producer keeps at most two connections per broker (one per [Purpose]),
// and a broker's first connection of a purpose is the one dialed at its
// bootstrap address when the addresses match ([Pool.Ready]).
//
// A request without a response for RequestTimeout kills the connection with
// a [*RequestTimeoutError] (matching [ErrRequestTimeout]) and fails every
// request pending on it; a connection with nothing to do for IdleTimeout
// closes itself with [ErrIdle]. Any read, write or framing error kills it
// too. A dead connection stays dead: [Conn.Done] is closed and [Conn.Err]
// says why.
//
//	c, err := conn.Dial(ctx, "broker:9092", &conn.Config{ClientID: "app"})
//	if err != nil {
//		return err
//	}
//	defer c.Close()
//	resp, err := c.Do(ctx, &protocol.MetadataRequest{Topics: []protocol.MetadataRequestTopic{}})
//
// # Security
//
// With Config.TLS set, Dial runs the TLS handshake first, verifying the
// broker's certificate against the host it dialed; Config.Authenticate
// (the internal/sasl package) then runs after ApiVersions. Failures that
// retrying will not cure — untrusted certificates, refused credentials —
// match [ErrAuthentication] (see [TLSError]). When authentication reports
// a session lifetime ([Conn.SetSessionLifetime], KIP-368), the connection
// retires shortly before it ends: the pool stops handing it out, dials a
// replacement (which authenticates afresh) once its requests are answered,
// and it closes with [ErrSessionExpired].
//
// # Pool
//
// A [Pool] keeps one connection per (broker, [Purpose]): Produce traffic
// and everything else travel apart, so metadata never queues behind large
// Produce requests. [Pool.Ready] never blocks: it returns a live connection
// or starts a background dial and reports back through the onReady
// callback. Failed dials put a broker in exponential reconnect backoff
// ([Backoff]). Bootstrap servers, which have no node id yet, use
// [BootstrapID]; a node whose address is a bootstrap address takes over
// that bootstrap entry's live connection instead of dialing again.
//
// # Concurrency
//
// [Conn] and [Pool] are safe for concurrent use. Send, Ready, Lookup and
// CloseNode never block; Do and Get block until done or ctx ends. done
// callbacks run on a connection goroutine, one at a time per connection, in
// request order; they must be quick and must not call [Conn.Close] or
// [Pool.Close], which wait for those goroutines. Every goroutine this
// package starts has exited when Close returns.
//
// # Errors
//
// Dial failures are [*DialError], holding a [*SetupTimeoutError]
// ([ErrSetupTimeout]) when the broker did not answer a setup step within
// socket.connection.setup.timeout.ms; failures of an established
// connection are [*OpError] or [*RequestTimeoutError] (naming the broker
// and request.timeout.ms); [ErrClosed], [ErrIdle] and [ErrProtocol] are
// matched with errors.Is. A broker that stops answering (request
// timeouts) or cannot be dialed is one outage, logged once at its start
// ("broker stopped answering" with its node id, address and
// request.timeout.ms, or "connection to broker could not be established"),
// recalled at most once per 30 s while it lasts, and logged once at its
// end ("broker answers again" or "broker reachable again") with down_for
// counted from whichever came first, however many requests timed out or
// dials failed in between;
// Config.OnConnect and Config.OnClose let the owner count connections and
// timeouts per broker. Kafka error codes in responses are not errors here:
// they are the caller's to interpret.
package conn
