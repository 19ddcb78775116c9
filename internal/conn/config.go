package conn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/tributary-go/tributary/protocol"
)

// Defaults applied to zero Config fields. They are the Java client's.
const (
	DefaultSoftwareName        = "tributary"
	DefaultSoftwareVersion     = "0.1.0"
	DefaultDialTimeout         = 10 * time.Second  // socket.connection.setup.timeout.ms
	DefaultRequestTimeout      = 30 * time.Second  // request.timeout.ms
	DefaultIdleTimeout         = 540 * time.Second // connections.max.idle.ms
	DefaultReconnectBackoff    = 50 * time.Millisecond
	DefaultReconnectBackoffMax = time.Second
)

// maxResponseSize bounds the size field of a response frame, so that a
// hostile or confused peer (say, a TLS listener answering a plaintext
// client) cannot make us allocate gigabytes.
const maxResponseSize = 100 << 20

// Config configures connections. The zero value is usable: every zero field
// takes the default named beside it. A Config must not be modified after it
// is passed to Dial or NewPool.
type Config struct {
	// ClientID is client.id, sent in every request header (null when
	// empty).
	ClientID string
	// SoftwareName and SoftwareVersion are sent in ApiVersions v3+; both
	// must satisfy protocol.ValidClientSoftware. Defaults "tributary" and
	// "0.1.0".
	SoftwareName    string
	SoftwareVersion string

	// DialTimeout is socket.connection.setup.timeout.ms (default 10s). It
	// bounds the whole setup: TCP connect, ApiVersions and Authenticate.
	DialTimeout time.Duration
	// RequestTimeout is request.timeout.ms (default 30s). A request without
	// a response for this long (or a write stuck this long) closes the
	// connection with a *RequestTimeoutError, failing every pending request
	// on it.
	RequestTimeout time.Duration
	// IdleTimeout is connections.max.idle.ms (default 540s): a connection
	// with nothing pending and no traffic for this long closes itself with
	// ErrIdle.
	IdleTimeout time.Duration
	// ReconnectBackoff and ReconnectBackoffMax are reconnect.backoff.ms
	// (50ms) and reconnect.backoff.max.ms (1s): after consecutive failed
	// dials a Pool waits base·2^(failures-1), capped at the max, ±20%.
	ReconnectBackoff, ReconnectBackoffMax time.Duration

	// Dial opens the network connection; nil uses a net.Dialer. It is the
	// hook for TLS and for tests.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLS, if set, wraps every connection in TLS (security.protocol SSL
	// or SASL_SSL) right after Dial and before ApiVersions. When its
	// ServerName is empty, each connection uses the host part of the
	// broker address, so the certificate is checked against the name or
	// IP address dialed. The config is never modified. See [TLSError].
	TLS *tls.Config
	// Authenticate, if set, runs after the ApiVersions handshake on every
	// new connection; an error fails the dial with that error. It may
	// call [Conn.SetSessionLifetime].
	Authenticate func(ctx context.Context, c *Conn) error
	// Logger receives connection events; nil discards them.
	Logger *slog.Logger

	// OnConnect and OnClose, if set, are told by a Pool of each
	// connection it established to a node (after the handshake) and of
	// each such connection's end, with the error it died of (ErrClosed,
	// ErrIdle, a *RequestTimeoutError, ...). node is the pool's node id,
	// a [BootstrapID] for bootstrap servers. A node that takes over a
	// bootstrap entry's connection (Pool.Ready) is reported with
	// adopted=true: the connection was counted at its dial, and closes
	// under the node's id. They are for metrics: they run on connection
	// and dial goroutines, possibly under the pool's lock, so they must be
	// quick, safe for concurrent use, and must not call the Pool. Dial
	// alone calls neither.
	OnConnect func(node int32, adopted bool)
	OnClose   func(node int32, err error)
}

// resolve returns a copy of cfg (nil means the zero Config) with defaults
// filled in, or an error naming the first invalid setting.
func resolve(cfg *Config) (*Config, error) {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if c.SoftwareName == "" {
		c.SoftwareName = DefaultSoftwareName
	}
	if c.SoftwareVersion == "" {
		c.SoftwareVersion = DefaultSoftwareVersion
	}
	setDefault(&c.DialTimeout, DefaultDialTimeout)
	setDefault(&c.RequestTimeout, DefaultRequestTimeout)
	setDefault(&c.IdleTimeout, DefaultIdleTimeout)
	setDefault(&c.ReconnectBackoff, DefaultReconnectBackoff)
	setDefault(&c.ReconnectBackoffMax, DefaultReconnectBackoffMax)
	if c.Dial == nil {
		var d net.Dialer
		c.Dial = d.DialContext
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}

	var errs []error
	if !protocol.ValidClientSoftware(c.SoftwareName) {
		errs = append(errs, fmt.Errorf("conn: invalid client software name %q: want [a-zA-Z0-9](?:[a-zA-Z0-9\\-.]*[a-zA-Z0-9])?", c.SoftwareName))
	}
	if !protocol.ValidClientSoftware(c.SoftwareVersion) {
		errs = append(errs, fmt.Errorf("conn: invalid client software version %q: want [a-zA-Z0-9](?:[a-zA-Z0-9\\-.]*[a-zA-Z0-9])?", c.SoftwareVersion))
	}
	if c.ReconnectBackoffMax < c.ReconnectBackoff {
		errs = append(errs, fmt.Errorf("conn: reconnect.backoff.max.ms (%v) is below reconnect.backoff.ms (%v)", c.ReconnectBackoffMax, c.ReconnectBackoff))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &c, nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}
