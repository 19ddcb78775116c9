package producer

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testPassword = "Hunter2-s3cret-PW"

// securityConfig applies props (with a bootstrap server) and opts, then
// validates, returning the config and validate's error.
func securityConfig(t *testing.T, props map[string]string, opts ...Option) (*config, error) {
	t.Helper()
	c := defaultConfig()
	c.logger = slog.New(slog.DiscardHandler)
	all := map[string]string{"bootstrap.servers": "localhost:9092"}
	for k, v := range props {
		all[k] = v
	}
	if err := applyProperties(c, all); err != nil {
		return c, err
	}
	for _, o := range opts {
		o(c)
	}
	return c, c.validate()
}

// TestSecurityPropertiesParse sets each security property and checks
// where it lands. Every security name PropertyNames returns appears here.
func TestSecurityPropertiesParse(t *testing.T) {
	tests := []struct {
		protocol, key, value string
		check                func(t *testing.T, c *config)
	}{
		{"SSL", "security.protocol", "ssl", func(t *testing.T, c *config) { assert.Equal(t, "SSL", c.securityProtocol) }},
		{"SSL", "ssl.truststore.type", "PEM", func(t *testing.T, c *config) { assert.Equal(t, "PEM", c.ssl.truststoreType) }},
		{"SSL", "ssl.truststore.location", "/ca.pem", func(t *testing.T, c *config) { assert.Equal(t, "/ca.pem", c.ssl.truststoreLocation) }},
		{"SSL", "ssl.truststore.certificates", "-----BEGIN", func(t *testing.T, c *config) { assert.Equal(t, "-----BEGIN", c.ssl.truststoreCertificates) }},
		{"SSL", "ssl.truststore.password", "pw", func(t *testing.T, c *config) { assert.True(t, c.ssl.truststorePassword) }},
		{"SSL", "ssl.keystore.type", "PEM", func(t *testing.T, c *config) { assert.Equal(t, "PEM", c.ssl.keystoreType) }},
		{"SSL", "ssl.keystore.location", "/k.pem", func(t *testing.T, c *config) { assert.Equal(t, "/k.pem", c.ssl.keystoreLocation) }},
		{"SSL", "ssl.keystore.certificate.chain", "chain", func(t *testing.T, c *config) { assert.Equal(t, "chain", c.ssl.keystoreCertChain) }},
		{"SSL", "ssl.keystore.key", "key", func(t *testing.T, c *config) { assert.Equal(t, "key", c.ssl.keystoreKey.reveal()) }},
		{"SSL", "ssl.keystore.password", "pw", func(t *testing.T, c *config) { assert.True(t, c.ssl.keystorePassword) }},
		{"SSL", "ssl.key.password", "pw", func(t *testing.T, c *config) { assert.True(t, c.ssl.keyPassword) }},
		{"SSL", "ssl.enabled.protocols", "TLSv1.3", func(t *testing.T, c *config) { assert.Equal(t, "TLSv1.3", c.ssl.enabledProtocols) }},
		{"SSL", "ssl.ca.location", "/ca", func(t *testing.T, c *config) { assert.Equal(t, "/ca", c.ssl.caLocation) }},
		{"SSL", "ssl.certificate.location", "/c", func(t *testing.T, c *config) { assert.Equal(t, "/c", c.ssl.certificateLocation) }},
		{"SSL", "ssl.key.location", "/k", func(t *testing.T, c *config) { assert.Equal(t, "/k", c.ssl.keyLocation) }},
		{"SSL", "ssl.endpoint.identification.algorithm", "", func(t *testing.T, c *config) {
			assert.True(t, c.ssl.endpointIdentificationSet)
			assert.Equal(t, "", c.ssl.endpointIdentification)
		}},
		{"SASL_PLAINTEXT", "sasl.mechanism", "SCRAM-SHA-512", func(t *testing.T, c *config) { assert.Equal(t, "SCRAM-SHA-512", c.sasl.mechanism) }},
		{"SASL_PLAINTEXT", "sasl.mechanisms", "PLAIN", func(t *testing.T, c *config) { assert.Equal(t, "PLAIN", c.sasl.mechanism) }},
		{"SASL_PLAINTEXT", "sasl.username", "alice", func(t *testing.T, c *config) { assert.Equal(t, "alice", c.sasl.user) }},
		{"SASL_PLAINTEXT", "sasl.password", "pw", func(t *testing.T, c *config) { assert.Equal(t, "pw", c.sasl.pass.reveal()) }},
		{"SASL_SSL", "sasl.jaas.config", `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`,
			func(t *testing.T, c *config) {
				assert.Equal(t, "u", c.sasl.user)
				assert.Equal(t, "p", c.sasl.pass.reveal())
				assert.Equal(t, jaasPlain, c.sasl.jaasModule)
			}},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.key] = true
		t.Run(tt.key, func(t *testing.T) {
			c := defaultConfig()
			require.NoError(t, applyProperties(c, map[string]string{"security.protocol": tt.protocol, tt.key: tt.value}))
			tt.check(t, c)
			assert.Empty(t, c.ignored)
		})
	}
	for _, name := range PropertyNames() {
		if _, sec := securityProperties[name]; sec || name == keySecurityProtocol {
			assert.True(t, covered[name], "property %s has no parse test", name)
		}
	}
}

// TestSecurityPropertiesByProtocol: as in Java, ssl.* properties apply only
// with SSL or SASL_SSL and sasl.* only with SASL_*; unused ones are ignored
// with a warning, and unsupported ones in use are errors.
func TestSecurityPropertiesByProtocol(t *testing.T) {
	for _, tc := range []struct {
		protocol       string
		wantSSL        bool
		wantSASL       bool
		ignoredMention string
	}{
		{"PLAINTEXT", false, false, "unused with security.protocol=PLAINTEXT"},
		{"SSL", true, false, "sasl.mechanism (unused with security.protocol=SSL)"},
		{"SASL_PLAINTEXT", false, true, "ssl.ca.location (unused with security.protocol=SASL_PLAINTEXT)"},
		{"SASL_SSL", true, true, ""},
	} {
		t.Run(tc.protocol, func(t *testing.T) {
			c := defaultConfig()
			require.NoError(t, applyProperties(c, map[string]string{
				"security.protocol": tc.protocol, "ssl.ca.location": "/ca.pem", "sasl.mechanism": "PLAIN", "ssl.protocol": "TLSv1.3",
			}))
			assert.Equal(t, tc.wantSSL, c.ssl.caLocation != "")
			assert.Equal(t, tc.wantSASL, c.sasl.mechanism != "")
			if tc.ignoredMention != "" {
				assert.Contains(t, strings.Join(c.ignored, "; "), tc.ignoredMention)
			}
		})
	}
	for _, k := range []string{"ssl.cipher.suites", "ssl.engine.factory.class", "sasl.kerberos.service.name", "sasl.client.callback.handler.class"} {
		c := defaultConfig()
		protocol := "SSL"
		if strings.HasPrefix(k, "sasl.") {
			protocol = "SASL_SSL"
		}
		err := applyProperties(c, map[string]string{"security.protocol": protocol, k: "x"})
		var ce *ConfigError
		require.ErrorAs(t, err, &ce, k)
		assert.Equal(t, k, ce.Key)
		assert.Contains(t, err.Error(), "not supported")
	}
}

func TestOptionsImplyProtocol(t *testing.T) {
	for _, tc := range []struct {
		name  string
		props map[string]string
		opts  []Option
		want  string
	}{
		{"nothing", nil, nil, "PLAINTEXT"},
		{"WithTLS", nil, []Option{WithTLS(nil)}, "SSL"},
		{"WithSASLPlain", nil, []Option{WithSASLPlain("u", "p")}, "SASL_PLAINTEXT"},
		{"both", nil, []Option{WithSASLScram(MechanismScramSHA512, "u", "p"), WithTLS(nil)}, "SASL_SSL"},
		{"PLAINTEXT property then WithTLS", map[string]string{"security.protocol": "PLAINTEXT"}, []Option{WithTLS(nil)}, "SSL"},
		{"SSL property then SASL", map[string]string{"security.protocol": "SSL"}, []Option{WithSASLPlain("u", "p")}, "SASL_SSL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := securityConfig(t, tc.props, tc.opts...)
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.securityProtocol)
			assert.Equal(t, usesTLS(tc.want), c.tlsConfig != nil)
			assert.Equal(t, usesSASL(tc.want), c.mechanism != nil)
		})
	}
}

func TestWithTLSCopiesConfig(t *testing.T) {
	in := &tls.Config{ServerName: "broker", MinVersion: tls.VersionTLS13}
	c, err := securityConfig(t, nil, WithTLS(in))
	require.NoError(t, err)
	in.ServerName = "changed"
	assert.Equal(t, "broker", c.tlsConfig.ServerName, "WithTLS keeps its own copy")
	assert.Equal(t, uint16(tls.VersionTLS13), c.tlsConfig.MinVersion)
}

func TestParseJAAS(t *testing.T) {
	tests := []struct {
		name, in string
		module   string
		opts     map[string]string
	}{
		{"plain", `org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="` + testPassword + `";`,
			jaasPlain, map[string]string{"username": "alice", "password": testPassword}},
		{"scram with token", ` org.apache.kafka.common.security.scram.ScramLoginModule   REQUIRED
			username="id"  password='hmac'
			tokenauth="true" ;  `, jaasScram, map[string]string{"username": "id", "password": "hmac", "tokenauth": "true"}},
		{"escapes and specials", `m.M required password="a\"b\\c;d=e f" username=bare;`, "m.M",
			map[string]string{"password": `a"b\c;d=e f`, "username": "bare"}},
		{"comments", `/* c */ m.M optional // line
			username="u"; // trailing`, "m.M", map[string]string{"username": "u"}},
		{"no options", `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;`, jaasOAuthBearer, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, opts, err := parseJAAS(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.module, m)
			assert.Equal(t, tt.opts, opts)
		})
	}

	bad := []struct{ name, in, want string }{
		{"empty", ``, "login module class"},
		{"no flag", `m.M username="u" password="` + testPassword + `";`, "control flag"},
		{"no semicolon", `m.M required username="u" password="` + testPassword + `"`, "missing ';'"},
		{"two modules", `m.M required password="` + testPassword + `"; n.N required;`, "exactly one login module"},
		{"unterminated", `m.M required password="` + testPassword + `;`, "unterminated"},
		{"missing equals", `m.M required password "` + testPassword + `";`, "expected '='"},
		{"missing value", `m.M required password=;`, "expected a value"},
		{"unquoted spaces", `m.M required password=` + testPassword + ` more;`, "expected '='"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseJAAS(tt.in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), testPassword)

			_, err = securityConfig(t, map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN", "sasl.jaas.config": tt.in})
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "sasl.jaas.config", ce.Key)
			for _, verb := range []string{"%v", "%+v", "%#v"} {
				assert.NotContains(t, fmt.Sprintf(verb, err), testPassword, verb)
			}
		})
	}
}

func TestSASLConfigErrors(t *testing.T) {
	jaas := func(module string) string {
		return module + ` required username="alice" password="` + testPassword + `";`
	}
	tests := []struct {
		name    string
		props   map[string]string
		opts    []Option
		key     string
		mention string
	}{
		{"no mechanism", map[string]string{"security.protocol": "SASL_SSL", "sasl.jaas.config": jaas(jaasPlain)}, nil,
			"sasl.mechanism", "GSSAPI"},
		{"no credentials", map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-256"}, nil,
			"sasl.jaas.config", "ScramLoginModule"},
		{"kerberos mechanism", map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "GSSAPI"}, nil,
			"sasl.mechanism", "Kerberos"},
		{"kerberos module", map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN", "sasl.jaas.config": jaas(jaasKerberos)}, nil,
			"sasl.jaas.config", "Kerberos"},
		{"msk iam", map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "AWS_MSK_IAM"}, nil,
			"sasl.mechanism", "SCRAM-SHA-512"},
		{"unknown module", map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN", "sasl.jaas.config": jaas("com.example.Login")}, nil,
			"sasl.jaas.config", "unknown login module com.example.Login"},
		{"jaas and username", map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
			"sasl.jaas.config": jaas(jaasPlain), "sasl.username": "bob"}, nil, "sasl.username", "conflicts with sasl.jaas.config"},
		{"oauth module with PLAIN", map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
			"sasl.jaas.config": jaasOAuthBearer + " required;"}, nil, "sasl.jaas.config", "OAuthBearerLoginModule"},
		{"oauth without provider", map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER",
			"sasl.jaas.config": jaasOAuthBearer + " required;"}, nil, "sasl.mechanism", "WithSASLOAuthBearer"},
		{"plain module with OAUTHBEARER", map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER",
			"sasl.jaas.config": jaas(jaasPlain)}, nil, "sasl.jaas.config", "OAUTHBEARER"},
		{"bad scram option", nil, []Option{WithSASLScram("SCRAM-SHA-1", "u", testPassword)}, "sasl.mechanism", "SCRAM-SHA-512"},
		{"empty user option", nil, []Option{WithSASLPlain("", testPassword)}, "sasl.jaas.config", "needs credentials"},
		{"nul in password", nil, []Option{WithSASLPlain("u", "a\x00"+testPassword)}, "WithSASLPlain (sasl.jaas.config)", "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := securityConfig(t, tt.props, tt.opts...)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.key, ce.Key)
			assert.Contains(t, err.Error(), tt.mention)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			for _, verb := range []string{"%v", "%+v", "%#v"} {
				assert.NotContains(t, fmt.Sprintf(verb, err), testPassword, verb)
			}
		})
	}

	t.Run("OAUTHBEARER from properties plus provider", func(t *testing.T) {
		c, err := securityConfig(t, map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER",
			"sasl.jaas.config": jaasOAuthBearer + " required;"}, WithSASLOAuthBearer(StaticToken(Token{Value: "t"})))
		require.NoError(t, err)
		assert.Equal(t, "OAUTHBEARER", c.mechanism.Name())
	})
	t.Run("librdkafka names", func(t *testing.T) {
		c, err := securityConfig(t, map[string]string{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "scram-sha-256",
			"sasl.username": "alice", "sasl.password": testPassword})
		require.NoError(t, err)
		assert.Equal(t, "SCRAM-SHA-256", c.mechanism.Name())
	})
}

// TestTLSFromProperties builds TLS configs from PEM files and strings.
func TestTLSFromProperties(t *testing.T) {
	pki := newPKI(t)
	client := pki.issue("client")
	keystore := pki.write("client.pem", append(append([]byte{}, client.certPEM...), client.keyPEM...))
	certFile := pki.write("client.crt", client.certPEM)
	keyFile := pki.write("client.key", client.keyPEM)
	jks := pki.write("truststore.jks", []byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2})
	encrypted := pki.write("enc.pem", append(append([]byte{}, client.certPEM...),
		pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte("opaque")})...))
	legacy := pki.write("legacy.pem", append(append([]byte{}, client.certPEM...),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00"}, Bytes: []byte("opaque")})...))
	other := newPKI(t).issue("x")
	mismatched := pki.write("mismatch.pem", append(append([]byte{}, client.certPEM...), other.keyPEM...))

	ok := []struct {
		name  string
		props map[string]string
		check func(t *testing.T, c *tls.Config)
	}{
		{"system roots", map[string]string{}, func(t *testing.T, c *tls.Config) {
			assert.Nil(t, c.RootCAs)
			assert.False(t, c.InsecureSkipVerify)
		}},
		{"PEM truststore", map[string]string{"ssl.truststore.location": pki.caFile, "ssl.truststore.type": "PEM"}, func(t *testing.T, c *tls.Config) {
			assert.True(t, c.RootCAs.Equal(pki.pool))
		}},
		{"truststore type unset but PEM", map[string]string{"ssl.truststore.location": pki.caFile}, func(t *testing.T, c *tls.Config) {
			assert.True(t, c.RootCAs.Equal(pki.pool))
		}},
		{"inline truststore", map[string]string{"ssl.truststore.certificates": string(pemOf(t, pki.caFile)), "ssl.truststore.type": "PEM"}, func(t *testing.T, c *tls.Config) {
			assert.True(t, c.RootCAs.Equal(pki.pool))
		}},
		{"librdkafka CA", map[string]string{"ssl.ca.location": pki.caFile}, func(t *testing.T, c *tls.Config) {
			assert.True(t, c.RootCAs.Equal(pki.pool))
		}},
		{"librdkafka probe", map[string]string{"ssl.ca.location": "probe"}, func(t *testing.T, c *tls.Config) { assert.Nil(t, c.RootCAs) }},
		{"PEM keystore", map[string]string{"ssl.keystore.location": keystore, "ssl.keystore.type": "PEM"}, func(t *testing.T, c *tls.Config) {
			require.Len(t, c.Certificates, 1)
		}},
		{"inline keystore", map[string]string{"ssl.keystore.certificate.chain": string(client.certPEM), "ssl.keystore.key": string(client.keyPEM)}, func(t *testing.T, c *tls.Config) {
			require.Len(t, c.Certificates, 1)
		}},
		{"librdkafka cert and key", map[string]string{"ssl.certificate.location": certFile, "ssl.key.location": keyFile}, func(t *testing.T, c *tls.Config) {
			require.Len(t, c.Certificates, 1)
		}},
		{"host name check off", map[string]string{"ssl.truststore.location": pki.caFile, "ssl.endpoint.identification.algorithm": ""}, func(t *testing.T, c *tls.Config) {
			assert.True(t, c.InsecureSkipVerify)
			assert.NotNil(t, c.VerifyConnection, "the chain is still verified")
		}},
		{"host name check https", map[string]string{"ssl.endpoint.identification.algorithm": "HTTPS"}, func(t *testing.T, c *tls.Config) {
			assert.False(t, c.InsecureSkipVerify)
		}},
		{"enabled protocols", map[string]string{"ssl.enabled.protocols": "TLSv1.3, TLSv1.2"}, func(t *testing.T, c *tls.Config) {
			assert.Equal(t, uint16(tls.VersionTLS12), c.MinVersion)
			assert.Equal(t, uint16(tls.VersionTLS13), c.MaxVersion)
		}},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			props := map[string]string{"security.protocol": "SSL"}
			for k, v := range tt.props {
				props[k] = v
			}
			c, err := securityConfig(t, props)
			require.NoError(t, err)
			tt.check(t, c.tlsConfig)
		})
	}

	bad := []struct {
		name    string
		props   map[string]string
		key     string
		mention string
	}{
		{"JKS truststore", map[string]string{"ssl.truststore.location": jks, "ssl.truststore.type": "JKS"}, "ssl.truststore.type", "JKS and PKCS12 are not supported, use PEM: keytool"},
		{"PKCS12 keystore", map[string]string{"ssl.keystore.location": keystore, "ssl.keystore.type": "PKCS12"}, "ssl.keystore.type", "openssl pkcs12"},
		{"unset type, JKS file", map[string]string{"ssl.truststore.location": jks}, "ssl.truststore.location", "Java's default JKS is not supported"},
		{"truststore password", map[string]string{"ssl.truststore.location": pki.caFile, "ssl.truststore.password": testPassword}, "ssl.truststore.password", "must not be set"},
		{"keystore password", map[string]string{"ssl.keystore.location": keystore, "ssl.keystore.password": testPassword}, "ssl.keystore.password", "must not be set"},
		{"encrypted PKCS#8", map[string]string{"ssl.keystore.location": encrypted, "ssl.key.password": testPassword}, "ssl.keystore.location", "encrypted private key, which is not supported"},
		{"legacy encrypted", map[string]string{"ssl.keystore.location": legacy}, "ssl.keystore.location", "openssl pkcs8 -topk8 -nocrypt"},
		{"key does not match", map[string]string{"ssl.keystore.location": mismatched}, "ssl.keystore.location", "does not match"},
		{"cert without key", map[string]string{"ssl.keystore.location": certFile}, "ssl.keystore.location", "no PEM private key"},
		{"missing file", map[string]string{"ssl.truststore.location": pki.dir + "/nope.pem"}, "ssl.truststore.location", "cannot read"},
		{"two trust sources", map[string]string{"ssl.truststore.location": pki.caFile, "ssl.ca.location": pki.caFile}, "ssl.ca.location", "conflicts with ssl.truststore.location"},
		{"half a keystore", map[string]string{"ssl.keystore.key": string(client.keyPEM)}, "ssl.keystore.certificate.chain", "set together"},
		{"key password alone", map[string]string{"ssl.key.password": testPassword}, "ssl.key.password", "no client key"},
		{"bad endpoint algorithm", map[string]string{"ssl.endpoint.identification.algorithm": "dns"}, "ssl.endpoint.identification.algorithm", `"https"`},
		{"bad protocol version", map[string]string{"ssl.enabled.protocols": "SSLv3"}, "ssl.enabled.protocols", "TLSv1.2"},
		{"no certificate in truststore", map[string]string{"ssl.truststore.certificates": string(client.keyPEM)}, "ssl.truststore.certificates", "no PEM CERTIFICATE"},
	}
	keyMaterial := string(client.keyPEM[40:80]) // a slice of the key's base64
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			props := map[string]string{"security.protocol": "SSL"}
			for k, v := range tt.props {
				props[k] = v
			}
			_, err := securityConfig(t, props)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.key, ce.Key)
			assert.Contains(t, err.Error(), tt.mention)
			for _, verb := range []string{"%v", "%+v", "%#v"} {
				s := fmt.Sprintf(verb, err)
				assert.NotContains(t, s, testPassword, verb)
				assert.NotContains(t, s, keyMaterial, "no key material in errors")
			}
		})
	}

	t.Run("key password with plain key is ignored with a warning", func(t *testing.T) {
		c, err := securityConfig(t, map[string]string{"security.protocol": "SSL", "ssl.keystore.location": keystore, "ssl.key.password": testPassword})
		require.NoError(t, err)
		assert.Contains(t, strings.Join(c.ignored, ";"), "ssl.key.password (the private key is not encrypted)")
	})
}

func pemOf(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// TestSecretsNeverPrinted formats configs, settings, tokens and errors
// holding secrets with every verb and both slog handlers.
func TestSecretsNeverPrinted(t *testing.T) {
	pki := newPKI(t)
	client := pki.issue("client")
	keyMarker := string(client.keyPEM[40:80]) // a slice of the key's base64
	props := map[string]string{
		"security.protocol":              "SASL_SSL",
		"sasl.mechanism":                 "SCRAM-SHA-512",
		"sasl.jaas.config":               `org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="` + testPassword + `";`,
		"ssl.keystore.certificate.chain": string(client.certPEM),
		"ssl.keystore.key":               string(client.keyPEM),
		"ssl.truststore.location":        pki.caFile,
	}
	var logs bytes.Buffer
	c, err := securityConfig(t, props)
	require.NoError(t, err)
	c.logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c.logger.Info("config", "config", c)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "config", c, "settings", c.sasl, "ssl", c.ssl)
	json.NewEncoder(&logs).Encode(map[string]any{"pass": c.sasl.pass, "key": c.ssl.keystoreKey})

	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		out = append(out, fmt.Sprintf(verb, c), fmt.Sprintf(verb, *c), fmt.Sprintf(verb, c.sasl), fmt.Sprintf(verb, c.ssl),
			fmt.Sprintf(verb, c.mechanism), fmt.Sprintf(verb, Token{Value: testPassword, Extensions: map[string]string{"k": "v"}}))
	}
	out = append(out, logs.String())
	for _, s := range out {
		assert.NotContains(t, s, testPassword)
		assert.NotContains(t, s, keyMarker)
	}
	assert.Contains(t, c.String(), "sasl.username=alice")
	assert.Contains(t, c.String(), "sasl.password=[hidden]")

	// Misspelled and unknown secret-bearing keys do not echo their values.
	for _, k := range []string{"sasl.pasword", "ssl.keystore.secret", "my.password"} {
		err := applyProperties(defaultConfig(), map[string]string{"security.protocol": "SASL_SSL", k: testPassword})
		require.Error(t, err, k)
		assert.NotContains(t, fmt.Sprintf("%+v", err), testPassword, k)
	}
	ce := &ConfigError{Key: "ssl.key.password", Value: testPassword, Reason: "r"}
	assert.NotContains(t, ce.Error(), testPassword)
}

// TestTokenProviderAdapter checks that the provider's token and
// extensions reach the OAUTHBEARER message.
func TestTokenProviderAdapter(t *testing.T) {
	c, err := securityConfig(t, nil, WithSASLOAuthBearer(StaticToken(Token{Value: "tok", Extensions: map[string]string{"logicalCluster": "lkc-1"}})))
	require.NoError(t, err)
	_, msg, err := c.mechanism.Start(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "n,,\x01auth=Bearer tok\x01logicalCluster=lkc-1\x01\x01", string(msg))
}
