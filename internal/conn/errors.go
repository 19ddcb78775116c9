package conn

import (
	"errors"
	"fmt"
	"time"

	"github.com/tributary-go/tributary/protocol"
)

// Sentinel errors. Errors from this package wrap them, so test with
// errors.Is.
var (
	// ErrClosed reports that the connection or pool was closed by its owner.
	ErrClosed = errors.New("conn: closed")
	// ErrRequestTimeout reports that a request had no response within
	// request.timeout.ms; the connection is closed and every request pending
	// on it fails with an error matching ErrRequestTimeout.
	ErrRequestTimeout = errors.New("conn: request timed out")
	// ErrSetupTimeout is matched by *SetupTimeoutError: connection setup
	// took longer than socket.connection.setup.timeout.ms.
	ErrSetupTimeout = errors.New("conn: connection setup timed out")
	// ErrIdle reports that the connection closed itself after
	// connections.max.idle.ms without traffic. It is not a failure: the
	// next request simply dials again.
	ErrIdle = errors.New("conn: closed after idle timeout")
	// ErrProtocol reports a broker reply that breaks the framing rules: an
	// impossible frame size, a response nobody asked for, or one answering
	// the wrong request. The connection is closed, since it can no longer
	// be trusted to be in step with the broker.
	ErrProtocol = errors.New("conn: broker broke the protocol")
)

// DialError reports a failure to set up a connection: the TCP dial, the
// ApiVersions handshake or authentication.
type DialError struct {
	Addr string // the broker address dialed
	Err  error  // the cause
}

func (e *DialError) Error() string {
	var te *SetupTimeoutError
	if errors.As(e.Err, &te) && te.Addr == e.Addr {
		return te.Error() // it names the address already
	}
	return fmt.Sprintf("conn: dial %s: %v", e.Addr, e.Err)
}

// Unwrap returns the cause.
func (e *DialError) Unwrap() error { return e.Err }

// OpError reports that an established connection failed while writing,
// reading or decoding.
type OpError struct {
	Addr string // the broker address
	Op   string // "write", "read" or "decode"
	Err  error  // the cause
}

func (e *OpError) Error() string { return fmt.Sprintf("conn: %s %s: %v", e.Op, e.Addr, e.Err) }

// Unwrap returns the cause.
func (e *OpError) Unwrap() error { return e.Err }

// RequestTimeoutError is the error a connection dies with when its oldest
// request has waited longer than the request timeout (request.timeout.ms).
// It matches ErrRequestTimeout.
type RequestTimeoutError struct {
	Addr          string
	Key           protocol.Key
	Version       int16
	CorrelationID int32
	Waited        time.Duration
	Timeout       time.Duration // request.timeout.ms
}

func (e *RequestTimeoutError) Error() string {
	return fmt.Sprintf("conn: broker %s did not answer %s v%d (correlation id %d) within request.timeout.ms=%v",
		e.Addr, e.Key, e.Version, e.CorrelationID, e.Timeout)
}

// Is reports whether target is ErrRequestTimeout.
func (e *RequestTimeoutError) Is(target error) bool { return target == ErrRequestTimeout }

// SetupTimeoutError reports a connection whose setup (TCP connect, TLS
// handshake, ApiVersions handshake, SASL authentication) did not finish
// within socket.connection.setup.timeout.ms: the broker accepted, or did
// not refuse, and then stayed silent. Dial returns it inside a *DialError.
// It matches ErrSetupTimeout, and not context.DeadlineExceeded: the
// caller's context did not end.
type SetupTimeoutError struct {
	Addr    string
	Step    string        // "the TCP connection", "the TLS handshake", "the ApiVersions handshake", "SASL authentication"
	Timeout time.Duration // socket.connection.setup.timeout.ms
}

func (e *SetupTimeoutError) Error() string {
	return fmt.Sprintf("conn: broker %s did not answer %s within socket.connection.setup.timeout.ms=%v", e.Addr, e.Step, e.Timeout)
}

// Is reports whether target is ErrSetupTimeout.
func (e *SetupTimeoutError) Is(target error) bool { return target == ErrSetupTimeout }
