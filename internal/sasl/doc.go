// Package sasl authenticates Tributary's broker connections with SASL:
// PLAIN (RFC 4616), SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677)
// and OAUTHBEARER (RFC 7628, KIP-255).
//
// # Place in the data flow
//
// It sits below the producer and beside the connection layer: the producer
// turns its security settings into a [Mechanism] and installs [Hook] as
// conn.Config.Authenticate, so every new connection authenticates right
// after its ApiVersions handshake and before the pool hands it out. The
// sender and the metadata fetcher never see SASL.
//
// # The exchange
//
// [Authenticate] runs Kafka's SASL flow on a fresh connection (KIP-152):
// SaslHandshake v1 names the mechanism, then SaslAuthenticate (v0–v2,
// negotiated) carries the mechanism's messages, one round trip each, until
// the mechanism is satisfied. When the broker limits the session's
// lifetime (KIP-368) the connection is told with conn.Conn's
// SetSessionLifetime and retires before the session ends; the pool then
// dials and authenticates a new one (see internal/conn/session.go).
//
//	m, err := sasl.SCRAM(sasl.SHA512, "alice", password, false)
//	if err != nil {
//		return err
//	}
//	cfg := &conn.Config{TLS: &tls.Config{}, Authenticate: sasl.Hook(m)}
//
// # Errors
//
// A refusal is an [*AuthError]: it names the mechanism and carries the
// broker's message, never a password or token. It matches
// protocol.ErrSASLAuthenticationFailed (or, through Unwrap, the Kafka error
// the broker sent, such as UNSUPPORTED_SASL_MECHANISM) and
// conn.ErrAuthentication, which tells waiting callers that retrying will
// not help.
//
// # Concurrency
//
// Mechanisms are immutable and safe for concurrent use: each exchange gets
// its own [Session] from [Mechanism.Start]. Authenticate blocks until the
// exchange ends or ctx does.
package sasl
