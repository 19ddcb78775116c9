package producer

import (
	"fmt"
	"regexp"
	"strings"
)

// Property names for SASL and the security protocol.
const (
	keySecurityProtocol = "security.protocol"
	keySASLMechanism    = "sasl.mechanism"
	keySASLMechanisms   = "sasl.mechanisms" // librdkafka's spelling
	keySASLJAAS         = "sasl.jaas.config"
	keySASLUsername     = "sasl.username" // librdkafka
	keySASLPassword     = "sasl.password" // librdkafka
)

// Java login modules sasl.jaas.config may name.
const (
	jaasPlain       = "org.apache.kafka.common.security.plain.PlainLoginModule"
	jaasScram       = "org.apache.kafka.common.security.scram.ScramLoginModule"
	jaasOAuthBearer = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
	jaasKerberos    = "com.sun.security.auth.module.Krb5LoginModule"
	jaasMSKIAM      = "software.amazon.msk.auth.iam.IAMLoginModule"
)

// securityProperties maps the ssl.* and sasl.* properties Tributary
// implements to their setters. They take effect only when
// security.protocol uses TLS (ssl.*) or SASL (sasl.*); otherwise, as in
// Java, they are ignored with a warning.
var securityProperties = map[string]setter{
	keySSLTruststoreType:         strProp(func(c *config) *string { return &c.ssl.truststoreType }),
	keySSLTruststoreLocation:     strProp(func(c *config) *string { return &c.ssl.truststoreLocation }),
	keySSLTruststoreCertificates: strProp(func(c *config) *string { return &c.ssl.truststoreCertificates }),
	keySSLTruststorePassword:     flagProp(func(c *config) *bool { return &c.ssl.truststorePassword }),
	keySSLKeystoreType:           strProp(func(c *config) *string { return &c.ssl.keystoreType }),
	keySSLKeystoreLocation:       strProp(func(c *config) *string { return &c.ssl.keystoreLocation }),
	keySSLKeystoreCertChain:      strProp(func(c *config) *string { return &c.ssl.keystoreCertChain }),
	keySSLKeystoreKey:            func(c *config, _, v string) error { c.ssl.keystoreKey = newSecret(v); return nil },
	keySSLKeystorePassword:       flagProp(func(c *config) *bool { return &c.ssl.keystorePassword }),
	keySSLKeyPassword:            flagProp(func(c *config) *bool { return &c.ssl.keyPassword }),
	keySSLEnabledProtocols:       strProp(func(c *config) *string { return &c.ssl.enabledProtocols }),
	keySSLCALocation:             strProp(func(c *config) *string { return &c.ssl.caLocation }),
	keySSLCertificateLocation:    strProp(func(c *config) *string { return &c.ssl.certificateLocation }),
	keySSLKeyLocation:            strProp(func(c *config) *string { return &c.ssl.keyLocation }),
	keySSLEndpointIdentification: func(c *config, _, v string) error {
		c.ssl.endpointIdentification, c.ssl.endpointIdentificationSet = v, true
		return nil
	},
	keySASLMechanism:  setSASLMechanism,
	keySASLMechanisms: setSASLMechanism,
	keySASLJAAS:       setJAAS,
	keySASLUsername:   setSASLUsername,
	keySASLPassword:   setSASLPassword,
}

// ignoredSecurityProperties are Java security properties accepted without
// effect, with the reason shown in the warning.
var ignoredSecurityProperties = map[string]string{
	"ssl.protocol":                          "Go negotiates the highest TLS version both sides allow; use ssl.enabled.protocols to restrict",
	"ssl.keymanager.algorithm":              "Java key manager",
	"ssl.trustmanager.algorithm":            "Java trust manager",
	"ssl.secure.random.implementation":      "Go uses crypto/rand",
	"sasl.login.refresh.window.factor":      "tokens come from WithSASLOAuthBearer",
	"sasl.login.refresh.window.jitter":      "tokens come from WithSASLOAuthBearer",
	"sasl.login.refresh.min.period.seconds": "tokens come from WithSASLOAuthBearer",
	"sasl.login.refresh.buffer.seconds":     "tokens come from WithSASLOAuthBearer",
}

// applySecurityProperty sets one ssl.* or sasl.* property, given the
// security.protocol in effect.
func applySecurityProperty(c *config, protocol, k, v string) error {
	active := usesTLS(protocol)
	if strings.HasPrefix(k, "sasl.") {
		active = usesSASL(protocol)
	}
	if !active {
		// Java leaves them unused; so do we, but say so.
		c.ignored = append(c.ignored, k+" (unused with security.protocol="+protocol+")")
		return nil
	}
	if set, ok := securityProperties[k]; ok {
		if err := set(c, k, v); err != nil {
			return err
		}
		c.mark(k)
		return nil
	}
	if reason, ok := ignoredSecurityProperties[k]; ok {
		c.ignored = append(c.ignored, k+" ("+reason+")")
		return nil
	}
	// The value is not shown: a misspelled password key would echo it.
	return &ConfigError{Key: k, Reason: "security property not supported by Tributary (value not shown)"}
}

// parseSecurityProtocol parses security.protocol, case-insensitively as
// Java does.
func parseSecurityProtocol(v string) (string, error) {
	p := strings.ToUpper(strings.TrimSpace(v))
	switch p {
	case protocolPlaintext, protocolSSL, protocolSASLPlaintext, protocolSASLSSL:
		return p, nil
	}
	return "", &ConfigError{Key: keySecurityProtocol, Value: v, Reason: "must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"}
}

func strProp(field func(*config) *string) setter {
	return func(c *config, _, v string) error { *field(c) = v; return nil }
}

// flagProp records only that a (secret) property was set.
func flagProp(field func(*config) *bool) setter {
	return func(c *config, _, v string) error { *field(c) = v != ""; return nil }
}

func setSASLMechanism(c *config, _, v string) error {
	c.sasl.mechanism = v
	return nil
}

func setSASLUsername(c *config, key, v string) error {
	if c.sasl.source == keySASLJAAS {
		return &ConfigError{Key: key, Reason: "conflicts with sasl.jaas.config: set either sasl.jaas.config or sasl.username and sasl.password"}
	}
	c.sasl.user, c.sasl.source = v, key
	return nil
}

func setSASLPassword(c *config, key, v string) error {
	if c.sasl.source == keySASLJAAS {
		return &ConfigError{Key: key, Reason: "conflicts with sasl.jaas.config: set either sasl.jaas.config or sasl.username and sasl.password"}
	}
	c.sasl.pass = newSecret(v)
	if c.sasl.source == "" {
		c.sasl.source = key
	}
	return nil
}

// setJAAS applies sasl.jaas.config. Errors never quote the value, which
// holds the password.
func setJAAS(c *config, key, v string) error {
	module, opts, err := parseJAAS(v)
	if err != nil {
		return &ConfigError{Key: key, Reason: err.Error() +
			` (want e.g. org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="…";)`}
	}
	switch module {
	case jaasPlain, jaasScram:
		user, ok := opts["username"]
		if !ok || user == "" {
			return &ConfigError{Key: key, Reason: module + ` needs username="…"`}
		}
		pass, ok := opts["password"]
		if !ok {
			return &ConfigError{Key: key, Reason: module + ` needs password="…"`}
		}
		c.sasl.user, c.sasl.pass = user, newSecret(pass)
		c.sasl.tokenAuth = module == jaasScram && strings.EqualFold(opts["tokenauth"], "true")
	case jaasOAuthBearer:
		// The token comes from WithSASLOAuthBearer.
	case jaasKerberos:
		return &ConfigError{Key: key, Reason: "Kerberos (GSSAPI) is not supported; use PLAIN, SCRAM or OAUTHBEARER"}
	case jaasMSKIAM:
		return &ConfigError{Key: key, Reason: "AWS IAM authentication is not supported; Amazon MSK also offers SCRAM-SHA-512"}
	default:
		return &ConfigError{Key: key, Reason: fmt.Sprintf("unknown login module%s: want %s, %s or %s", quoteClass(module), jaasPlain, jaasScram, jaasOAuthBearer)}
	}
	c.sasl.jaasModule, c.sasl.source = module, key
	return nil
}

// quoteClass returns " <name>" when name looks like a Java class name, and
// nothing otherwise: a malformed entry may have a password where the class
// should be.
func quoteClass(name string) string {
	if !javaClassName.MatchString(name) {
		return ""
	}
	return " " + name
}

var javaClassName = regexp.MustCompile(`^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$`)

// parseJAAS parses a JAAS configuration entry the way Java's JaasConfig
// does for sasl.jaas.config: exactly one login module,
//
//	<module class> <flag> [<option>=<value> ...];
//
// where flag is required, requisite, sufficient or optional, values are
// double- or single-quoted strings (backslash escapes the next character)
// or bare words, and // and /* */ comments are allowed. Its errors say
// where the syntax breaks but never quote a value.
func parseJAAS(s string) (module string, opts map[string]string, err error) {
	lx := jaasLexer{s: s}
	tok, kind := lx.next()
	if kind != tokWord {
		return "", nil, fmt.Errorf("expected a login module class name")
	}
	module = tok
	tok, kind = lx.next()
	switch strings.ToLower(tok) {
	case "required", "requisite", "sufficient", "optional":
	default:
		if kind == tokEnd || kind == tokSemicolon {
			return "", nil, fmt.Errorf("missing control flag (required) after the login module")
		}
		return "", nil, fmt.Errorf("expected the control flag required, requisite, sufficient or optional after the login module")
	}
	opts = make(map[string]string)
	for {
		name, kind := lx.next()
		switch kind {
		case tokSemicolon:
			if _, kind := lx.next(); kind != tokEnd {
				return "", nil, fmt.Errorf("must hold exactly one login module; found more after ';'")
			}
			return module, opts, nil
		case tokEnd:
			return "", nil, fmt.Errorf("missing ';' at the end")
		case tokWord:
		default:
			return "", nil, fmt.Errorf("expected an option name")
		}
		if _, kind := lx.next(); kind != tokEquals {
			return "", nil, fmt.Errorf("expected '=' after option %d", len(opts)+1)
		}
		val, kind := lx.next()
		if lx.err != nil {
			return "", nil, lx.err
		}
		if kind != tokWord && kind != tokQuoted {
			return "", nil, fmt.Errorf("expected a value for option %d", len(opts)+1)
		}
		opts[name] = val
	}
}

type jaasToken int

const (
	tokEnd jaasToken = iota
	tokWord
	tokQuoted
	tokEquals
	tokSemicolon
	tokBad
)

// jaasLexer splits a JAAS entry into tokens.
type jaasLexer struct {
	s   string
	i   int
	err error
}

func (lx *jaasLexer) next() (string, jaasToken) {
	lx.skipSpaceAndComments()
	if lx.i >= len(lx.s) {
		return "", tokEnd
	}
	switch c := lx.s[lx.i]; c {
	case '=':
		lx.i++
		return "=", tokEquals
	case ';':
		lx.i++
		return ";", tokSemicolon
	case '"', '\'':
		lx.i++
		var b strings.Builder
		for lx.i < len(lx.s) {
			d := lx.s[lx.i]
			lx.i++
			switch {
			case d == c:
				return b.String(), tokQuoted
			case d == '\\' && lx.i < len(lx.s):
				b.WriteByte(unescape(lx.s[lx.i]))
				lx.i++
			default:
				b.WriteByte(d)
			}
		}
		lx.err = fmt.Errorf("unterminated quoted value")
		return "", tokBad
	}
	start := lx.i
	for lx.i < len(lx.s) && !isJAASDelim(lx.s[lx.i]) {
		lx.i++
	}
	return lx.s[start:lx.i], tokWord
}

func (lx *jaasLexer) skipSpaceAndComments() {
	for lx.i < len(lx.s) {
		switch {
		case lx.s[lx.i] <= ' ':
			lx.i++
		case strings.HasPrefix(lx.s[lx.i:], "//"):
			if j := strings.IndexByte(lx.s[lx.i:], '\n'); j >= 0 {
				lx.i += j + 1
			} else {
				lx.i = len(lx.s)
			}
		case strings.HasPrefix(lx.s[lx.i:], "/*"):
			if j := strings.Index(lx.s[lx.i+2:], "*/"); j >= 0 {
				lx.i += j + 4
			} else {
				lx.i = len(lx.s)
			}
		default:
			return
		}
	}
}

func isJAASDelim(c byte) bool {
	return c <= ' ' || c == '=' || c == ';' || c == '"' || c == '\''
}

// unescape maps the character after a backslash as Java's StreamTokenizer
// does for the common escapes.
func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'r':
		return '\r'
	}
	return c
}
