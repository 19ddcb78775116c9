package sasl

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/protocol"
)

// Mechanism is a SASL mechanism with its credentials. Implementations are
// immutable and safe for concurrent use; this package provides [Plain],
// [SCRAM] and [OAuthBearer].
type Mechanism interface {
	// Name returns the mechanism's IANA name, as sent in SaslHandshake.
	Name() string
	// Start begins one exchange: it returns the session that reads the
	// broker's messages and the client's first message. It may block
	// (OAUTHBEARER asks its token provider) until ctx ends.
	Start(ctx context.Context) (Session, []byte, error)
}

// Session is one exchange of a Mechanism. It is used by one goroutine.
type Session interface {
	// Challenge reads the broker's latest message. It returns done once
	// the mechanism is satisfied, or else the client's next message. An
	// error means the broker's message is unacceptable.
	Challenge(server []byte) (done bool, next []byte, err error)
	// redact removes the session's secrets from s, so that no message
	// built from a broker's reply can carry them.
	redact(s string) string
}

// maxRounds bounds the round trips of one exchange; SCRAM needs two.
const maxRounds = 8

// Hook returns m's exchange in the shape of conn.Config.Authenticate.
func Hook(m Mechanism) func(ctx context.Context, c *conn.Conn) error {
	return func(ctx context.Context, c *conn.Conn) error { return Authenticate(ctx, c, m) }
}

// Authenticate runs SASL mechanism m on c, a connection fresh from its
// ApiVersions handshake: SaslHandshake v1, then SaslAuthenticate round trips
// until m is satisfied. When the broker announces a session lifetime
// (KIP-368) it calls c.SetSessionLifetime. A refusal, or a broker breaking
// the mechanism's rules, is an *AuthError; a network failure or the end of
// ctx is returned as it is. Authenticate blocks until the exchange ends or
// ctx does; it is safe for concurrent use on different connections.
func Authenticate(ctx context.Context, c *conn.Conn, m Mechanism) error {
	name := m.Name()
	if err := handshake(ctx, c, name); err != nil {
		return err
	}
	sess, msg, err := m.Start(ctx)
	if err != nil {
		return fmt.Errorf("sasl: %s: %w", name, err)
	}
	for round := 0; ; round++ {
		if round == maxRounds {
			return &AuthError{Mechanism: name, Message: fmt.Sprintf("the exchange did not end after %d round trips", maxRounds), Err: ErrMalformed}
		}
		r, err := c.Do(ctx, &protocol.SaslAuthenticateRequest{AuthBytes: msg})
		if err != nil {
			var oe *conn.OpError
			if ctx.Err() == nil && errors.As(err, &oe) {
				// Kafka 1.0+ answers a refusal with an error code
				// before closing; older brokers, some proxies and
				// test brokers just close.
				return &AuthError{Mechanism: name, Err: err,
					// The dial error around this one names the
					// broker; say only what the connection saw.
					Message: "the broker closed the connection during authentication, which is how some brokers report wrong credentials (" + oe.Op + ": " + oe.Err.Error() + ")"}
			}
			return fmt.Errorf("sasl: %s: SaslAuthenticate: %w", name, err)
		}
		resp := r.(*protocol.SaslAuthenticateResponse)
		if resp.ErrorCode != 0 {
			return refusal(name, sess, resp)
		}
		done, next, err := sess.Challenge(resp.AuthBytes)
		if err != nil {
			return &AuthError{Mechanism: name, Message: sess.redact(err.Error()), Err: err}
		}
		if done {
			if resp.SessionLifetimeMillis > 0 {
				c.SetSessionLifetime(time.Duration(resp.SessionLifetimeMillis) * time.Millisecond)
			}
			return nil
		}
		msg = next
	}
}

// handshake names the mechanism with SaslHandshake v1.
func handshake(ctx context.Context, c *conn.Conn, name string) error {
	v, err := c.Version(protocol.KeySaslHandshake)
	if err != nil {
		return &AuthError{Mechanism: name, Message: "the broker does not offer SaslHandshake; is SASL enabled on this listener?", Err: err}
	}
	if v < 1 {
		return &AuthError{Mechanism: name, Message: "the broker speaks only SaslHandshake v0 (Kafka before 1.0), which is not supported"}
	}
	r, err := c.Do(ctx, &protocol.SaslHandshakeRequest{Mechanism: name})
	if err != nil {
		return fmt.Errorf("sasl: %s: SaslHandshake: %w", name, err)
	}
	resp := r.(*protocol.SaslHandshakeResponse)
	kerr := protocol.KafkaError(resp.ErrorCode, nil)
	switch {
	case kerr == nil:
		return nil
	case errors.Is(kerr, protocol.ErrUnsupportedSASLMechanism):
		return &AuthError{Mechanism: name, Err: kerr,
			Message: fmt.Sprintf("the broker does not enable %s; it enables [%s]", name, strings.Join(resp.Mechanisms, ", "))}
	case errors.Is(kerr, protocol.ErrIllegalSASLState):
		return &AuthError{Mechanism: name, Err: kerr,
			Message: "the broker refused SaslHandshake (ILLEGAL_SASL_STATE); is SASL enabled on this listener? check security.protocol"}
	}
	return &AuthError{Mechanism: name, Message: "SaslHandshake failed: " + kerr.Error(), Err: kerr}
}

// refusal builds the error for a SaslAuthenticate response with an error
// code, keeping the broker's message but no secret.
func refusal(name string, sess Session, resp *protocol.SaslAuthenticateResponse) error {
	var detail *string
	msg := "the broker refused the credentials"
	if resp.ErrorMessage != nil && *resp.ErrorMessage != "" {
		d := sess.redact(*resp.ErrorMessage)
		detail, msg = &d, d
	}
	if se, ok := sess.(interface{ serverError() string }); ok && se.serverError() != "" {
		msg += " (server said: " + sess.redact(se.serverError()) + ")"
	}
	return &AuthError{Mechanism: name, Message: msg, Err: protocol.KafkaError(resp.ErrorCode, detail)}
}

// redactAll replaces every occurrence of each non-empty secret in s.
func redactAll(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, "[hidden]")
		}
	}
	return s
}
