package sasl

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
)

func TestPlainMessage(t *testing.T) {
	m, err := Plain("alice", "s3cret")
	require.NoError(t, err)
	assert.Equal(t, "PLAIN", m.Name())
	sess, msg, err := m.Start(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "\x00alice\x00s3cret", string(msg))
	done, next, err := sess.Challenge(nil)
	require.NoError(t, err)
	assert.True(t, done)
	assert.Nil(t, next)

	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		assert.NotContains(t, fmt.Sprintf(verb, m), "s3cret", verb)
	}

	_, err = Plain("", "p")
	assert.Error(t, err)
	_, err = Plain("a\x00b", "p")
	assert.Error(t, err)
	_, err = Plain("a", "p\x00")
	assert.Error(t, err)
}

func TestOAuthBearerMessage(t *testing.T) {
	tests := []struct {
		name  string
		token string
		ext   map[string]string
		want  string
	}{
		{"no extensions", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.", nil,
			"n,,\x01auth=Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.\x01\x01"},
		{"extensions sorted", "tok", map[string]string{"logicalCluster": "lkc-1", "identityPoolId": "pool-2"},
			"n,,\x01auth=Bearer tok\x01identityPoolId=pool-2\x01logicalCluster=lkc-1\x01\x01"},
		{"value with space", "tok", map[string]string{"a": "x y"}, "n,,\x01auth=Bearer tok\x01a=x y\x01\x01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OAuthBearerMessage(tt.token, tt.ext)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))

			// franz-go's OAUTHBEARER client writes the same bytes
			// (it keeps map order, so compare with one extension at most).
			if len(tt.ext) <= 1 {
				_, theirs, err := oauth.Auth{Token: tt.token, Extensions: tt.ext}.AsMechanism().Authenticate(context.Background(), "b:9092")
				require.NoError(t, err)
				assert.Equal(t, string(theirs), string(got))
			}
		})
	}

	for _, bad := range []struct {
		name  string
		token string
		ext   map[string]string
	}{
		{"empty token", "", nil},
		{"token with SOH", "secret\x01token", nil},
		{"token with space", "secret token", nil},
		{"reserved key", "secret-token", map[string]string{"auth": "x"}},
		{"key with digit", "secret-token", map[string]string{"k1": "x"}},
		{"empty key", "secret-token", map[string]string{"": "x"}},
		{"value with SOH", "secret-token", map[string]string{"k": "a\x01"}},
	} {
		t.Run(bad.name, func(t *testing.T) {
			_, err := OAuthBearerMessage(bad.token, bad.ext)
			require.Error(t, err)
			if bad.token != "" {
				assert.NotContains(t, err.Error(), bad.token, "the token never appears in errors")
			}
		})
	}
}

func TestOAuthBearerSession(t *testing.T) {
	calls := 0
	m, err := OAuthBearer(func(ctx context.Context) (string, map[string]string, error) {
		calls++
		return "tok-secret", map[string]string{"ext": "v"}, nil
	})
	require.NoError(t, err)

	t.Run("accepted", func(t *testing.T) {
		sess, msg, err := m.Start(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "n,,\x01auth=Bearer tok-secret\x01ext=v\x01\x01", string(msg))
		done, _, err := sess.Challenge(nil)
		require.NoError(t, err)
		assert.True(t, done)
	})
	t.Run("rejected", func(t *testing.T) {
		sess, _, err := m.Start(context.Background())
		require.NoError(t, err)
		done, next, err := sess.Challenge([]byte(`{"status":"invalid_token"}`))
		require.NoError(t, err)
		assert.False(t, done)
		assert.Equal(t, []byte{1}, next, "RFC 7628: a lone %x01 lets the server end with its error")
		_, _, err = sess.Challenge(nil)
		assert.Error(t, err, "a broker carrying on after an error is not trusted")
	})
	assert.Equal(t, 2, calls, "one token per exchange")

	failing, err := OAuthBearer(func(ctx context.Context) (string, map[string]string, error) {
		return "", nil, errors.New("token endpoint down")
	})
	require.NoError(t, err)
	_, _, err = failing.Start(context.Background())
	assert.ErrorContains(t, err, "token endpoint down")

	_, err = OAuthBearer(nil)
	assert.Error(t, err)
}
