package sasl

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/protocol"
)

// hangLimit bounds every wait; it guards against hangs and is no claim
// about speed.
const hangLimit = 10 * time.Second

const password = "p4ssw0rd-Secret"

func saslCluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{
		kfake.NumBrokers(1),
		kfake.SeedTopics(1, "t"),
		kfake.EnableSASL(),
		kfake.Superuser("PLAIN", "plain-user", password),
		kfake.Superuser("SCRAM-SHA-256", "scram256-user", password),
		kfake.Superuser("SCRAM-SHA-512", "scram512-user", password),
	}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// dialWith dials the cluster's broker authenticating with m.
func dialWith(t *testing.T, c *kfake.Cluster, m Mechanism) (*conn.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	cn, err := conn.Dial(ctx, c.ListenAddrs()[0], &conn.Config{Authenticate: Hook(m)})
	if cn != nil {
		t.Cleanup(func() { cn.Close() })
	}
	return cn, err
}

func metadata(t *testing.T, cn *conn.Conn) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	name := "t"
	r, err := cn.Do(ctx, &protocol.MetadataRequest{Topics: []protocol.MetadataRequestTopic{{Name: &name}}})
	if err != nil {
		return err
	}
	return protocol.ErrorForCode(r.(*protocol.MetadataResponse).Topics[0].ErrorCode)
}

func mechanisms(t *testing.T, pass string) map[string]Mechanism {
	t.Helper()
	p, err := Plain("plain-user", pass)
	require.NoError(t, err)
	s256, err := SCRAM(SHA256, "scram256-user", pass, false)
	require.NoError(t, err)
	s512, err := SCRAM(SHA512, "scram512-user", pass, false)
	require.NoError(t, err)
	return map[string]Mechanism{"PLAIN": p, "SCRAM-SHA-256": s256, "SCRAM-SHA-512": s512}
}

// TestAuthenticateAgainstKfake authenticates with each mechanism kfake
// knows and then uses the connection, which kfake allows only after a
// complete exchange.
func TestAuthenticateAgainstKfake(t *testing.T) {
	c := saslCluster(t)
	for name, m := range mechanisms(t, password) {
		t.Run(name, func(t *testing.T) {
			cn, err := dialWith(t, c, m)
			require.NoError(t, err)
			require.NoError(t, metadata(t, cn))
		})
	}
}

// TestWrongPasswordIsAuthError checks that a refusal is a typed
// *AuthError that matches SASL_AUTHENTICATION_FAILED and
// conn.ErrAuthentication, and never shows the password.
func TestWrongPasswordIsAuthError(t *testing.T) {
	c := saslCluster(t)
	const wrong = "wr0ng-Secret-pw"
	for name, m := range mechanisms(t, wrong) {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err := dialWith(t, c, m)
			require.Error(t, err)
			assert.Less(t, time.Since(start), hangLimit)
			var ae *AuthError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, name, ae.Mechanism)
			assert.ErrorIs(t, err, protocol.ErrSASLAuthenticationFailed)
			assert.ErrorIs(t, err, conn.ErrAuthentication)
			var de *conn.DialError
			assert.ErrorAs(t, err, &de)
			for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
				assert.NotContains(t, fmt.Sprintf(verb, err), wrong, verb)
			}
		})
	}
}

func TestUnsupportedMechanism(t *testing.T) {
	c := saslCluster(t)
	m, err := OAuthBearer(func(context.Context) (string, map[string]string, error) { return "tok", nil, nil })
	require.NoError(t, err)
	_, err = dialWith(t, c, m)
	var ae *AuthError
	require.ErrorAs(t, err, &ae)
	assert.ErrorIs(t, err, protocol.ErrUnsupportedSASLMechanism)
	assert.NotErrorIs(t, err, protocol.ErrSASLAuthenticationFailed)
	assert.ErrorIs(t, err, conn.ErrAuthentication)
	assert.Contains(t, err.Error(), "SCRAM-SHA-512", "the broker's list is reported")
}

// TestBrokerMessageKeptSecretsRemoved has the broker refuse with
// SASL_AUTHENTICATION_FAILED and a message that (absurdly) quotes the
// password: the message is kept, the password is not.
func TestBrokerMessageKeptSecretsRemoved(t *testing.T) {
	c := saslCluster(t)
	c.ControlKey(int16(kmsg.SASLAuthenticate), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		resp := kreq.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		resp.ErrorCode = protocol.ErrSASLAuthenticationFailed.Code
		msg := "Authentication failed: invalid credentials for plain-user with password " + password
		resp.ErrorMessage = &msg
		return resp, nil, true
	})
	_, err := dialWith(t, c, mechanisms(t, password)["PLAIN"])
	var ae *AuthError
	require.ErrorAs(t, err, &ae)
	assert.ErrorIs(t, err, protocol.ErrSASLAuthenticationFailed)
	assert.Contains(t, err.Error(), "invalid credentials for plain-user")
	var ke *protocol.Error
	require.True(t, errors.As(err, &ke))
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), ae.Message, ke.Detail} {
		assert.NotContains(t, s, password)
	}
}

// TestSessionLifetimeRetiresConn has the broker announce a short session
// lifetime (KIP-368, connections.max.reauth.ms) and checks that the
// connection closes itself, unprompted and without failing, before long.
func TestSessionLifetimeRetiresConn(t *testing.T) {
	c := saslCluster(t, kfake.BrokerConfigs(map[string]string{"connections.max.reauth.ms": "300"}))
	cn, err := dialWith(t, c, mechanisms(t, password)["SCRAM-SHA-256"])
	require.NoError(t, err)
	require.NoError(t, metadata(t, cn))
	select {
	case <-cn.Done():
		assert.ErrorIs(t, cn.Err(), conn.ErrSessionExpired)
	case <-time.After(hangLimit):
		t.Fatal("connection did not retire")
	}
}
