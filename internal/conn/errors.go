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

func (e *DialError) Error() string { return fmt.Sprintf("conn: dial %s: %v", e.Addr, e.Err) }

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
// request has waited longer than the request timeout. It matches
// ErrRequestTimeout.
type RequestTimeoutError struct {
	Addr          string
	Key           protocol.Key
	Version       int16
	CorrelationID int32
	Waited        time.Duration
}

func (e *RequestTimeoutError) Error() string {
	return fmt.Sprintf("conn: request timed out: %s v%d (correlation id %d) to %s had no response after %v",
		e.Key, e.Version, e.CorrelationID, e.Addr, e.Waited.Round(time.Millisecond))
}

// Is reports whether target is ErrRequestTimeout.
func (e *RequestTimeoutError) Is(target error) bool { return target == ErrRequestTimeout }
