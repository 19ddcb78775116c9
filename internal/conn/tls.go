package conn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
)

// TLS is a thin layer: crypto/tls does the work, and this file decides two
// things for it. First, the server name: Kafka clients verify the broker's
// certificate against the host they dialed (Java's
// ssl.endpoint.identification.algorithm=https), and brokers are dialed by
// the addresses metadata hands out, so the name must be set per connection,
// not once per config. Second, which failures are worth retrying. A
// timeout or a reset during the handshake may pass; an untrusted
// certificate, a host name mismatch, a client certificate the broker
// refuses or a listener that does not speak TLS will fail the same way on
// every attempt, so those match ErrAuthentication and callers such as the
// metadata wait give up at once instead of retrying until a deadline.

// ErrAuthentication is matched (errors.Is) by connection setup failures
// that retrying will not cure: the broker rejected the client's SASL
// credentials, or TLS could not establish trust (see [TLSError]). The Java
// client calls these AuthenticationException and treats them as fatal for
// the wait in progress.
var ErrAuthentication = errors.New("conn: authentication failed")

// TLSError reports a failed TLS handshake with a broker, or a TLS alert the
// broker sent right after it (TLS 1.3 brokers reject a client certificate
// that way). It matches ErrAuthentication when the cause is a matter of
// trust or configuration rather than the network; Err is crypto/tls's or
// crypto/x509's error (for example *tls.CertificateVerificationError).
type TLSError struct {
	Addr string // the broker address
	Err  error  // the cause
}

func (e *TLSError) Error() string {
	return fmt.Sprintf("conn: TLS with %s failed: %v%s", e.Addr, e.Err, tlsHint(e.Err))
}

// Unwrap returns the cause.
func (e *TLSError) Unwrap() error { return e.Err }

// Is reports whether target is ErrAuthentication and the failure is one
// that retrying will not cure.
func (e *TLSError) Is(target error) bool {
	return target == ErrAuthentication && permanentTLS(e.Err)
}

// startTLS runs the client side of the TLS handshake on nc, bounded by ctx.
// On failure it closes nc and returns a *TLSError.
func startTLS(ctx context.Context, nc net.Conn, addr string, cfg *tls.Config) (net.Conn, error) {
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, &TLSError{Addr: addr, Err: err}
	}
	return tc, nil
}

// tlsAfterHandshake turns an error of the first exchange on a TLS
// connection into a *TLSError when the broker answered with a TLS alert.
func tlsAfterHandshake(cfg *Config, addr string, err error) error {
	if cfg.TLS != nil && isRemoteAlert(err) {
		return &TLSError{Addr: addr, Err: err}
	}
	return err
}

// isRemoteAlert reports an alert sent by the peer. crypto/tls reports one
// as a *net.OpError with Op "remote error" around an unexported type.
func isRemoteAlert(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "remote error"
}

// permanentTLS reports whether a TLS failure is about trust or
// configuration, so that retrying will fail the same way.
func permanentTLS(err error) bool {
	var (
		cve *tls.CertificateVerificationError
		uae x509.UnknownAuthorityError
		hne x509.HostnameError
		cie x509.CertificateInvalidError
		rhe tls.RecordHeaderError
	)
	return errors.As(err, &cve) || errors.As(err, &uae) || errors.As(err, &hne) ||
		errors.As(err, &cie) || errors.As(err, &rhe) || isRemoteAlert(err)
}

// tlsHint names the setting to look at for the common failures.
func tlsHint(err error) string {
	var (
		uae x509.UnknownAuthorityError
		hne x509.HostnameError
		rhe tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &uae):
		return " (the broker's certificate is not signed by a trusted CA: set ssl.truststore.location or the RootCAs of the tls.Config)"
	case errors.As(err, &hne):
		return " (the broker's certificate does not name the address dialed: fix the certificate or the advertised listener; ssl.endpoint.identification.algorithm= skips this check)"
	case errors.As(err, &rhe):
		return " (the broker did not answer with TLS: does this listener expect TLS? check security.protocol)"
	case isRemoteAlert(err):
		return " (the broker refused the TLS session: check the client certificate, ssl.keystore.location)"
	}
	return ""
}
