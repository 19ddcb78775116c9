package sasl

import (
	"errors"
	"fmt"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/protocol"
)

// AuthError reports that SASL authentication failed: the broker refused
// the credentials or the mechanism, closed the connection in the middle of
// the exchange, or sent something a correct broker would not (a SCRAM
// server signature that does not verify).
//
// It matches conn.ErrAuthentication. It also matches
// protocol.ErrSASLAuthenticationFailed, except when the broker sent a
// different Kafka error (UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE),
// which Err holds and errors.Is finds through Unwrap. Message never holds a
// password or token.
type AuthError struct {
	Mechanism string // PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER
	Message   string // what went wrong, with the broker's message when it sent one
	Err       error  // the broker's *protocol.Error, the connection's error, or the client's finding; may be nil
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("sasl: %s authentication failed: %s", e.Mechanism, e.Message)
}

// Unwrap returns the cause.
func (e *AuthError) Unwrap() error { return e.Err }

// Is reports whether target is conn.ErrAuthentication, or
// protocol.ErrSASLAuthenticationFailed for any failure but a different
// Kafka error code from the broker.
func (e *AuthError) Is(target error) bool {
	switch target {
	case conn.ErrAuthentication:
		return true
	case error(protocol.ErrSASLAuthenticationFailed):
		var ke *protocol.Error
		return !errors.As(e.Err, &ke)
	}
	return false
}

// Client-side findings about a broker's SCRAM messages; an *AuthError
// wraps them.
var (
	// ErrServerSignature reports a SCRAM server-final-message whose
	// signature does not verify: the server does not know the password,
	// or someone in the middle is answering for it.
	ErrServerSignature = errors.New("sasl: SCRAM server signature does not verify")
	// ErrMalformed reports a server message that breaks its mechanism's
	// grammar.
	ErrMalformed = errors.New("sasl: malformed server message")
)
