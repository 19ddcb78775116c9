package sasl

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// OAUTHBEARER (RFC 7628) sends a bearer token in one message:
//
//	n,,\x01auth=Bearer <token>\x01[key=value\x01]...\x01
//
// which is byte for byte what Kafka's OAuthBearerClientInitialResponse
// writes (extensions come from KIP-342; we sort them so the message is
// deterministic). A broker that accepts the token answers with an empty
// message. One that rejects it answers with a JSON error; RFC 7628 §3.2.2
// then has the client send a lone \x01 so that the server can end the
// exchange with its error, which Kafka reports as SASL_AUTHENTICATION_FAILED.
// We do that and keep the JSON for the error message.
//
// The token's lifetime is the broker's business: it sets the session
// lifetime to the token's expiry, and the connection retires before then
// (KIP-368), so each new connection asks the provider again. Providers
// should cache and refresh tokens themselves.

// TokenFunc returns the bearer token to authenticate with and its SASL
// extensions. It is called once per new connection and must be safe for
// concurrent use.
type TokenFunc func(ctx context.Context) (token string, extensions map[string]string, err error)

type oauthBearer struct {
	provider TokenFunc
}

// OAuthBearer returns the OAUTHBEARER mechanism, taking tokens from
// provider.
func OAuthBearer(provider TokenFunc) (Mechanism, error) {
	if provider == nil {
		return nil, errors.New("sasl: OAUTHBEARER needs a token provider")
	}
	return &oauthBearer{provider: provider}, nil
}

func (*oauthBearer) Name() string { return "OAUTHBEARER" }

// String names the mechanism; the token is never printed.
func (*oauthBearer) String() string { return "OAUTHBEARER" }

// Start asks the provider for a token and returns the initial client
// response.
func (m *oauthBearer) Start(ctx context.Context) (Session, []byte, error) {
	token, ext, err := m.provider(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("token provider: %w", err)
	}
	msg, err := OAuthBearerMessage(token, ext)
	if err != nil {
		return nil, nil, err
	}
	return &oauthSession{token: token}, msg, nil
}

// OAuthBearerMessage returns the OAUTHBEARER initial client response for
// token and extensions, or an error naming what is invalid (never the
// token itself). Extension keys must be ASCII letters and not "auth";
// values printable ASCII, space, tab, CR or LF (Kafka's
// OAuthBearerClientInitialResponse rules).
func OAuthBearerMessage(token string, ext map[string]string) ([]byte, error) {
	if token == "" {
		return nil, errors.New("the token provider returned an empty token")
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; c < 0x21 || c > 0x7e {
			return nil, errors.New("the token has a byte that is not printable ASCII")
		}
	}
	keys := make([]string, 0, len(ext))
	for k, v := range ext {
		if !validExtKey(k) {
			return nil, fmt.Errorf("invalid SASL extension key %q: want ASCII letters, not \"auth\"", k)
		}
		if !validExtValue(v) {
			return nil, fmt.Errorf("invalid value for SASL extension %q: want printable ASCII, space, tab, CR or LF", k)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("n,,\x01auth=Bearer ")
	b.WriteString(token)
	b.WriteByte(1)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(ext[k])
		b.WriteByte(1)
	}
	b.WriteByte(1)
	return []byte(b.String()), nil
}

func validExtKey(k string) bool {
	if k == "" || k == "auth" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !isAlpha(k[i]) {
			return false
		}
	}
	return true
}

func validExtValue(v string) bool {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= 0x21 && c <= 0x7e, c == ' ', c == '\t', c == '\r', c == '\n':
		default:
			return false
		}
	}
	return true
}

// oauthSession is one OAUTHBEARER exchange.
type oauthSession struct {
	token  string
	failed string // the broker's error JSON, once it sent one
}

// Challenge accepts an empty answer as success. A non-empty one is the
// broker's error: answer with \x01 so it can end the exchange.
func (s *oauthSession) Challenge(server []byte) (bool, []byte, error) {
	if len(server) == 0 && s.failed == "" {
		return true, nil, nil
	}
	if s.failed != "" {
		return false, nil, fmt.Errorf("the broker continued after rejecting the token: %s", quoteShort(s.failed))
	}
	s.failed = string(server)
	return false, []byte{1}, nil
}

func (s *oauthSession) serverError() string {
	if s.failed == "" {
		return ""
	}
	return quoteShort(s.failed)
}

func (s *oauthSession) redact(msg string) string { return redactAll(msg, s.token) }
