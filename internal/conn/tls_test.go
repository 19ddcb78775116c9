package conn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
)

// testCA is a throwaway certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue returns a leaf certificate for the names (IP addresses or DNS
// names), usable by servers and clients.
func (ca *testCA) issue(t testing.TB, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "leaf"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func tlsCluster(t *testing.T, server *tls.Config) *kfake.Cluster {
	t.Helper()
	return newCluster(t, kfake.NumBrokers(1), kfake.TLS(server))
}

func tryDial(addr string, cfg *Config) (*Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	return Dial(ctx, addr, cfg)
}

func TestTLSDial(t *testing.T) {
	checkNoLeaks(t)
	ca := newTestCA(t)
	c := tlsCluster(t, &tls.Config{Certificates: []tls.Certificate{ca.issue(t, "127.0.0.1", "localhost")}})
	addr := c.ListenAddrs()[0]

	cn := dial(t, addr, &Config{TLS: &tls.Config{RootCAs: ca.pool}})
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	_, err := cn.Do(ctx, metadataReq("t"))
	require.NoError(t, err)

	// The same broker by name: the certificate names localhost too.
	_, port, _ := net.SplitHostPort(addr)
	byName := dial(t, net.JoinHostPort("localhost", port), &Config{TLS: &tls.Config{RootCAs: ca.pool}})
	_, err = byName.Do(ctx, metadataReq("t"))
	require.NoError(t, err)
}

// TestTLSFailuresArePermanent: trust failures are *TLSErrors matching
// ErrAuthentication, with a hint naming the setting to fix.
func TestTLSFailuresArePermanent(t *testing.T) {
	checkNoLeaks(t)
	ca, other := newTestCA(t), newTestCA(t)
	c := tlsCluster(t, &tls.Config{Certificates: []tls.Certificate{ca.issue(t, "127.0.0.1")}})
	addr := c.ListenAddrs()[0]
	_, port, _ := net.SplitHostPort(addr)

	for _, tc := range []struct {
		name string
		addr string
		cfg  *tls.Config
		want string
	}{
		{"untrusted CA", addr, &tls.Config{RootCAs: other.pool}, "not signed by a trusted CA"},
		{"host name mismatch", net.JoinHostPort("localhost", port), &tls.Config{RootCAs: ca.pool}, "does not name the address dialed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tryDial(tc.addr, &Config{TLS: tc.cfg})
			var te *TLSError
			require.ErrorAs(t, err, &te)
			assert.ErrorIs(t, err, ErrAuthentication)
			var cve *tls.CertificateVerificationError
			assert.ErrorAs(t, err, &cve)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestTLSClientCertificate: a broker requiring client certificates
// accepts ours and refuses a client without one, which TLS 1.3 reports
// only after the handshake, on the first read.
func TestTLSClientCertificate(t *testing.T) {
	checkNoLeaks(t)
	ca := newTestCA(t)
	c := tlsCluster(t, &tls.Config{
		Certificates: []tls.Certificate{ca.issue(t, "127.0.0.1")},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.pool,
	})
	addr := c.ListenAddrs()[0]

	cn := dial(t, addr, &Config{TLS: &tls.Config{RootCAs: ca.pool, Certificates: []tls.Certificate{ca.issue(t, "client")}}})
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	_, err := cn.Do(ctx, metadataReq("t"))
	require.NoError(t, err)

	_, err = tryDial(addr, &Config{TLS: &tls.Config{RootCAs: ca.pool}})
	var te *TLSError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, ErrAuthentication)
	assert.True(t, strings.Contains(err.Error(), "certificate"), err.Error())
}

// TestTLSTransientNotPermanent: a connection dropped mid-handshake is a
// TLSError that retrying may cure.
func TestTLSTransientNotPermanent(t *testing.T) {
	checkNoLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err == nil {
			nc.Close()
		}
	}()
	_, err = tryDial(ln.Addr().String(), &Config{TLS: &tls.Config{}})
	var te *TLSError
	require.ErrorAs(t, err, &te)
	assert.NotErrorIs(t, err, ErrAuthentication)
}
