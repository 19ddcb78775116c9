package producer

// Security follows Java's security.protocol: PLAINTEXT, SSL (TLS),
// SASL_PLAINTEXT (SASL without TLS) or SASL_SSL (both). Properties name the
// protocol outright; the Go options imply it instead, so that WithTLS plus
// WithSASLScram means SASL_SSL without a third setting, and an option given
// after properties upgrades the protocol they set (PLAINTEXT + WithTLS =
// SSL).
//
// validate turns the settings into two values for the connection layer: a
// *tls.Config (from WithTLS, or built from PEM files and strings named by
// ssl.* properties, see security_tls.go) and a sasl.Mechanism. Both are
// built once, so a missing file or a malformed key is a *ConfigError from
// New, not a dial failure later. applySecurity installs them in the
// conn.Config: every new connection runs TLS, then ApiVersions, then the
// SASL exchange, before the pool hands it out.
//
// Secrets never reach an error or a log line: passwords and inline keys are
// held as secret values that print as [hidden] under every fmt verb and in
// slog, ConfigError hides the value of any password- or key-like property,
// and the SASL layer strips the password even from a broker's message.

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/internal/sasl"
)

// Security protocols (security.protocol).
const (
	protocolPlaintext     = "PLAINTEXT"
	protocolSSL           = "SSL"
	protocolSASLPlaintext = "SASL_PLAINTEXT"
	protocolSASLSSL       = "SASL_SSL"
)

// SASL mechanism names (sasl.mechanism).
const (
	MechanismPlain       = "PLAIN"
	MechanismScramSHA256 = "SCRAM-SHA-256"
	MechanismScramSHA512 = "SCRAM-SHA-512"
	MechanismOAuthBearer = "OAUTHBEARER"
)

// ErrAuthentication is matched (errors.Is) by every error caused by a
// failed authentication: a broker that refused the SASL credentials or
// mechanism (an *AuthError, which also matches
// protocol.ErrSASLAuthenticationFailed), and a TLS handshake that could not
// establish trust — untrusted certificate, host name mismatch, refused
// client certificate (a *TLSError). Retrying does not cure these, so Send
// and PartitionsFor return them as soon as a connection attempt fails so,
// without waiting out max.block.ms.
var ErrAuthentication = conn.ErrAuthentication

// AuthError reports a failed SASL authentication: Mechanism names the
// mechanism, Message says why, with the broker's own message when it sent
// one (never a password or token). It matches ErrAuthentication and
// protocol.ErrSASLAuthenticationFailed.
type AuthError = sasl.AuthError

// TLSError reports a failed TLS handshake with a broker. It matches
// ErrAuthentication when the cause is trust or configuration rather than
// the network; Err holds crypto/tls's error.
type TLSError = conn.TLSError

// Token is an OAuth bearer token for SASL/OAUTHBEARER, with optional SASL
// extensions (KIP-342; Confluent Cloud uses logicalCluster and
// identityPoolId). Printing a Token never shows Value.
type Token struct {
	Value      string
	Extensions map[string]string
}

// Format prints the token's extensions but not its value, whatever the
// verb.
func (t Token) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "Token{Value:[hidden] Extensions:%v}", t.Extensions)
}

// TokenProvider returns the token for a new connection. It is called once
// per connection, from the goroutine dialing it, with a context bounded by
// socket.connection.setup.timeout.ms; it must be safe for concurrent use
// and should cache tokens until shortly before they expire. An error fails
// that connection attempt, which is retried after reconnect.backoff.ms.
type TokenProvider func(ctx context.Context) (Token, error)

// StaticToken returns a TokenProvider that always returns t: for tests and
// short-lived programs, since the token is never refreshed.
func StaticToken(t Token) TokenProvider {
	return func(context.Context) (Token, error) { return t, nil }
}

// WithTLS connects to brokers over TLS configured by cfg (a copy is taken;
// nil means the system's trusted CAs and host name verification). Java:
// security.protocol=SSL, or SASL_SSL together with a WithSASL* option. An
// empty ServerName is set per connection to the broker's host, so
// certificates are checked against the address dialed. It replaces any
// TLS settings from ssl.* properties. Default: no TLS.
func WithTLS(cfg *tls.Config) Option {
	if cfg == nil {
		cfg = &tls.Config{}
	} else {
		cfg = cfg.Clone()
	}
	return func(c *config) {
		c.tlsOption = cfg
		c.securityProtocol = protocolWithTLS(c.securityProtocol)
	}
}

// WithSASLPlain authenticates with SASL/PLAIN as user. PLAIN sends the
// password as it is, so use it with WithTLS (SASL_SSL), as Confluent Cloud
// requires. Java: sasl.mechanism=PLAIN with sasl.jaas.config naming
// PlainLoginModule, and security.protocol=SASL_PLAINTEXT (SASL_SSL with
// WithTLS). It replaces any SASL settings made before.
func WithSASLPlain(user, password string) Option {
	return func(c *config) {
		c.sasl = saslSettings{mechanism: MechanismPlain, user: user, pass: newSecret(password), source: "WithSASLPlain"}
		c.securityProtocol = protocolWithSASL(c.securityProtocol)
	}
}

// WithSASLScram authenticates with SASL/SCRAM (RFC 5802, 7677) as user;
// mechanism is MechanismScramSHA256 or MechanismScramSHA512 (Amazon MSK
// uses SHA-512). The password never crosses the network, and the broker
// must prove it knows it too. Java: sasl.mechanism=SCRAM-SHA-256 or
// SCRAM-SHA-512 with sasl.jaas.config naming ScramLoginModule. It replaces
// any SASL settings made before.
func WithSASLScram(mechanism, user, password string) Option {
	return func(c *config) {
		c.sasl = saslSettings{mechanism: mechanism, user: user, pass: newSecret(password), source: "WithSASLScram"}
		c.securityProtocol = protocolWithSASL(c.securityProtocol)
	}
}

// WithSASLOAuthBearer authenticates with SASL/OAUTHBEARER (RFC 7628,
// KIP-255), sending the token provider returns for each new connection.
// Java: sasl.mechanism=OAUTHBEARER with a login callback handler; Tributary
// does not fetch tokens itself. It replaces any SASL settings made before.
func WithSASLOAuthBearer(provider TokenProvider) Option {
	return func(c *config) {
		c.sasl = saslSettings{mechanism: MechanismOAuthBearer, provider: provider, source: "WithSASLOAuthBearer"}
		c.securityProtocol = protocolWithSASL(c.securityProtocol)
	}
}

func protocolWithTLS(p string) string {
	switch p {
	case protocolSASLPlaintext, protocolSASLSSL:
		return protocolSASLSSL
	}
	return protocolSSL
}

func protocolWithSASL(p string) string {
	switch p {
	case protocolSSL, protocolSASLSSL:
		return protocolSASLSSL
	}
	return protocolSASLPlaintext
}

func usesTLS(p string) bool  { return p == protocolSSL || p == protocolSASLSSL }
func usesSASL(p string) bool { return p == protocolSASLPlaintext || p == protocolSASLSSL }

// saslSettings are the SASL settings before validation.
type saslSettings struct {
	mechanism  string // sasl.mechanism, as given
	user       string
	pass       secret
	tokenAuth  bool          // ScramLoginModule tokenauth=true: delegation token
	provider   TokenProvider // OAUTHBEARER
	source     string        // where user and pass came from: a property or an option
	jaasModule string        // the login module sasl.jaas.config named, if any
}

// validateSecurity resolves security.protocol into c.tlsConfig and
// c.mechanism.
func (c *config) validateSecurity() error {
	if c.securityProtocol == "" {
		c.securityProtocol = protocolPlaintext
	}
	if usesTLS(c.securityProtocol) {
		if c.tlsOption != nil {
			c.tlsConfig = c.tlsOption
			if c.ssl.set() {
				c.ignored = append(c.ignored, "ssl.* (replaced by WithTLS)")
			}
		} else {
			cfg, err := c.ssl.load(c)
			if err != nil {
				return err
			}
			c.tlsConfig = cfg
		}
	}
	if usesSASL(c.securityProtocol) {
		m, err := c.sasl.build(c.securityProtocol)
		if err != nil {
			return err
		}
		c.mechanism = m
	}
	return nil
}

// build returns the SASL mechanism, or a *ConfigError naming the setting
// that is missing or wrong.
func (s *saslSettings) build(protocol string) (sasl.Mechanism, error) {
	mech := strings.ToUpper(s.mechanism)
	needCreds := func(module string) error {
		return &ConfigError{Key: keySASLJAAS, Reason: fmt.Sprintf(
			"security.protocol=%s with sasl.mechanism=%s needs credentials: set %s required username=\"…\" password=\"…\"; "+
				"or sasl.username and sasl.password, or use WithSASLPlain / WithSASLScram", protocol, mech, module)}
	}
	switch mech {
	case "":
		return nil, &ConfigError{Key: keySASLMechanism, Reason: fmt.Sprintf(
			"security.protocol=%s needs a mechanism: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER (Java's default GSSAPI is not supported)", protocol)}
	case MechanismPlain, MechanismScramSHA256, MechanismScramSHA512:
		if s.jaasModule == jaasOAuthBearer {
			return nil, &ConfigError{Key: keySASLJAAS, Reason: "names OAuthBearerLoginModule, but sasl.mechanism=" + mech}
		}
		module := jaasPlain
		if mech != MechanismPlain {
			module = jaasScram
		}
		if s.user == "" {
			return nil, needCreds(module)
		}
		var (
			m   sasl.Mechanism
			err error
		)
		switch mech {
		case MechanismPlain:
			m, err = sasl.Plain(s.user, s.pass.reveal())
		case MechanismScramSHA256:
			m, err = sasl.SCRAM(sasl.SHA256, s.user, s.pass.reveal(), s.tokenAuth)
		default:
			m, err = sasl.SCRAM(sasl.SHA512, s.user, s.pass.reveal(), s.tokenAuth)
		}
		if err != nil {
			return nil, &ConfigError{Key: s.sourceKey(), Reason: err.Error()}
		}
		return m, nil
	case MechanismOAuthBearer:
		if s.jaasModule == jaasPlain || s.jaasModule == jaasScram {
			return nil, &ConfigError{Key: keySASLJAAS, Reason: "names a username/password login module, but sasl.mechanism=OAUTHBEARER"}
		}
		if s.provider == nil {
			return nil, &ConfigError{Key: keySASLMechanism, Value: mech,
				Reason: "needs a token provider: pass WithSASLOAuthBearer (Tributary does not fetch OAuth tokens itself)"}
		}
		p := s.provider
		m, err := sasl.OAuthBearer(func(ctx context.Context) (string, map[string]string, error) {
			t, err := p(ctx)
			return t.Value, t.Extensions, err
		})
		if err != nil {
			return nil, &ConfigError{Key: keySASLMechanism, Value: mech, Reason: err.Error()}
		}
		return m, nil
	case "GSSAPI":
		return nil, &ConfigError{Key: keySASLMechanism, Value: s.mechanism, Reason: "Kerberos (GSSAPI) is not supported; use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER"}
	case "AWS_MSK_IAM":
		return nil, &ConfigError{Key: keySASLMechanism, Value: s.mechanism, Reason: "AWS IAM authentication is not supported; Amazon MSK also offers SCRAM-SHA-512"}
	}
	return nil, &ConfigError{Key: keySASLMechanism, Value: s.mechanism, Reason: "must be PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER"}
}

// sourceKey names the setting the credentials came from, for errors.
func (s *saslSettings) sourceKey() string {
	switch s.source {
	case keySASLJAAS, keySASLUsername, keySASLPassword:
		return s.source
	case "":
		return keySASLJAAS
	}
	return s.source + " (" + keySASLJAAS + ")"
}

// applySecurity installs the TLS config and SASL exchange that validate
// resolved into the connection config.
func applySecurity(cc *conn.Config, c *config) {
	cc.TLS = c.tlsConfig
	if c.mechanism != nil {
		cc.Authenticate = sasl.Hook(c.mechanism)
	}
	if c.logger != nil {
		args := []any{"security.protocol", c.securityProtocol}
		if c.mechanism != nil {
			args = append(args, "sasl.mechanism", c.mechanism.Name(), "sasl.username", c.sasl.user)
		}
		c.logger.Debug("producer: connection security", args...)
	}
}

// secret holds a password or private key so that it never prints. Its
// methods make every fmt verb, slog and text encoders show [hidden]; and
// because the value sits behind a pointer, fmt's reflection, which prints
// unexported fields without calling their methods, shows only an address
// when a struct holding a secret is printed.
type secret struct{ p *string }

// newSecret wraps s; the empty string gives the zero (unset) secret.
func newSecret(s string) secret {
	if s == "" {
		return secret{}
	}
	return secret{&s}
}

// reveal returns the value, for the one place that needs it.
func (s secret) reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

// isSet reports a non-empty value.
func (s secret) isSet() bool { return s.p != nil }

// Format writes [hidden] whatever the verb.
func (secret) Format(f fmt.State, _ rune) { io.WriteString(f, "[hidden]") }

// LogValue hides the value from slog.
func (secret) LogValue() slog.Value { return slog.StringValue("[hidden]") }

// MarshalText hides the value from encoders (encoding/json and friends).
func (secret) MarshalText() ([]byte, error) { return []byte("[hidden]"), nil }

// isSecretKey reports property names whose values must not be shown.
func isSecretKey(k string) bool {
	return k == keySASLJAAS || k == keySSLKeystoreKey || strings.Contains(k, "password") || strings.Contains(k, "secret")
}

// displayValue returns v, or [hidden] when k names a secret.
func displayValue(k, v string) string {
	if v != "" && isSecretKey(k) {
		return "[hidden]"
	}
	return v
}
