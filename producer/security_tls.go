package producer

// Java clients keep certificates in keystores: JKS (the default) or PKCS12
// files, or PEM since Kafka 2.7 (KIP-651). Go's crypto/tls reads PEM, and
// decoding JKS or PKCS12 would mean a third-party dependency or a lot of
// code for formats openssl and keytool convert in one line, so Tributary
// reads PEM only and says how to convert anything else.
//
// The settings, and where each one's PEM comes from:
//
//	trusted CAs         ssl.truststore.location (type PEM), ssl.truststore.certificates
//	                    (inline), or librdkafka's ssl.ca.location; default: the system's
//	client certificate  ssl.keystore.location (type PEM: chain and key in one file),
//	                    ssl.keystore.certificate.chain + ssl.keystore.key (inline), or
//	                    librdkafka's ssl.certificate.location + ssl.key.location
//
// Private keys must be unencrypted (PKCS#8, PKCS#1 or SEC 1): the standard
// library cannot decrypt encrypted PKCS#8 keys, and legacy PEM encryption is
// insecure, so an encrypted key is an error that says how to decrypt it.
// Java refuses ssl.keystore.password and ssl.truststore.password for PEM
// stores, and so do we.
//
// ssl.endpoint.identification.algorithm=https (the default) verifies that
// the broker's certificate names the host dialed. Set explicitly to the
// empty string it skips only that check: the chain is still verified
// against the trusted CAs, by a VerifyConnection callback, since
// crypto/tls's InsecureSkipVerify alone would skip everything.

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Property names for TLS.
const (
	keySSLTruststoreType         = "ssl.truststore.type"
	keySSLTruststoreLocation     = "ssl.truststore.location"
	keySSLTruststoreCertificates = "ssl.truststore.certificates"
	keySSLTruststorePassword     = "ssl.truststore.password"
	keySSLKeystoreType           = "ssl.keystore.type"
	keySSLKeystoreLocation       = "ssl.keystore.location"
	keySSLKeystoreCertChain      = "ssl.keystore.certificate.chain"
	keySSLKeystoreKey            = "ssl.keystore.key"
	keySSLKeystorePassword       = "ssl.keystore.password"
	keySSLKeyPassword            = "ssl.key.password"
	keySSLEndpointIdentification = "ssl.endpoint.identification.algorithm"
	keySSLEnabledProtocols       = "ssl.enabled.protocols"
	keySSLCALocation             = "ssl.ca.location"          // librdkafka
	keySSLCertificateLocation    = "ssl.certificate.location" // librdkafka
	keySSLKeyLocation            = "ssl.key.location"         // librdkafka
)

// sslSettings are the ssl.* properties before validation.
type sslSettings struct {
	truststoreType, truststoreLocation, truststoreCertificates string
	keystoreType, keystoreLocation, keystoreCertChain          string
	keystoreKey                                                secret
	caLocation, certificateLocation, keyLocation               string
	enabledProtocols                                           string

	endpointIdentification    string
	endpointIdentificationSet bool

	// Passwords are never kept, only whether they were given.
	truststorePassword, keystorePassword, keyPassword bool
}

// set reports whether any ssl.* property was given.
func (s *sslSettings) set() bool { return *s != sslSettings{} }

// load builds the TLS config the ssl.* properties describe. Problems are
// *ConfigErrors naming the property; none shows key material.
func (s *sslSettings) load(c *config) (*tls.Config, error) {
	cfg := &tls.Config{}
	roots, err := s.roots()
	if err != nil {
		return nil, err
	}
	cfg.RootCAs = roots
	cert, err := s.clientCertificate(c)
	if err != nil {
		return nil, err
	}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	if err := s.versions(cfg); err != nil {
		return nil, err
	}
	if s.endpointIdentificationSet {
		switch strings.ToLower(s.endpointIdentification) {
		case "https":
		case "":
			cfg.InsecureSkipVerify = true // replaced by VerifyConnection below
			cfg.VerifyConnection = verifyChainOnly(roots)
		default:
			return nil, &ConfigError{Key: keySSLEndpointIdentification, Value: s.endpointIdentification,
				Reason: `must be "https" (verify the broker's host name, the default) or empty (skip only that check)`}
		}
	}
	return cfg, nil
}

// roots returns the trusted CAs, nil meaning the system's.
func (s *sslSettings) roots() (*x509.CertPool, error) {
	var sources []string
	if s.truststoreLocation != "" {
		sources = append(sources, keySSLTruststoreLocation)
	}
	if s.truststoreCertificates != "" {
		sources = append(sources, keySSLTruststoreCertificates)
	}
	if s.caLocation != "" {
		sources = append(sources, keySSLCALocation)
	}
	if len(sources) > 1 {
		return nil, &ConfigError{Key: sources[1], Reason: "conflicts with " + sources[0] + ": set only one source of trusted certificates"}
	}
	if s.truststorePassword {
		return nil, &ConfigError{Key: keySSLTruststorePassword, Reason: "must not be set: PEM trust stores have no password (Java rejects it too)"}
	}
	var (
		key  string
		data []byte
	)
	switch {
	case s.truststoreLocation != "":
		key = keySSLTruststoreLocation
		if err := checkStoreType(keySSLTruststoreType, s.truststoreType); err != nil {
			return nil, err
		}
		b, err := readPEMFile(key, s.truststoreLocation, keySSLTruststoreType, s.truststoreType)
		if err != nil {
			return nil, err
		}
		data = b
	case s.truststoreCertificates != "":
		key, data = keySSLTruststoreCertificates, []byte(s.truststoreCertificates)
		if err := checkStoreType(keySSLTruststoreType, s.truststoreType); err != nil {
			return nil, err
		}
	case s.caLocation != "" && s.caLocation != "probe":
		key = keySSLCALocation
		b, err := readPEMFile(key, s.caLocation, "", "PEM")
		if err != nil {
			return nil, err
		}
		data = b
	default:
		return nil, nil // the system's roots
	}
	certs, _, err := splitPEM(data)
	if err != nil {
		return nil, &ConfigError{Key: key, Value: locationOf(key, s), Reason: err.Error()}
	}
	if len(certs) == 0 {
		return nil, &ConfigError{Key: key, Value: locationOf(key, s), Reason: "holds no PEM CERTIFICATE block"}
	}
	pool := x509.NewCertPool()
	for i, b := range certs {
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, &ConfigError{Key: key, Value: locationOf(key, s), Reason: fmt.Sprintf("certificate %d: %v", i+1, err)}
		}
		pool.AddCert(cert)
	}
	return pool, nil
}

// clientCertificate returns the client certificate and key, or nil when
// none is configured.
func (s *sslSettings) clientCertificate(c *config) (*tls.Certificate, error) {
	var sources []string
	if s.keystoreLocation != "" {
		sources = append(sources, keySSLKeystoreLocation)
	}
	if s.keystoreCertChain != "" || s.keystoreKey.isSet() {
		sources = append(sources, keySSLKeystoreCertChain)
	}
	if s.certificateLocation != "" || s.keyLocation != "" {
		sources = append(sources, keySSLCertificateLocation)
	}
	if len(sources) > 1 {
		return nil, &ConfigError{Key: sources[1], Reason: "conflicts with " + sources[0] + ": set only one source of the client certificate"}
	}
	if s.keystorePassword {
		return nil, &ConfigError{Key: keySSLKeystorePassword, Reason: "must not be set: PEM key stores have no store password (Java rejects it too); ssl.key.password is the key's"}
	}
	var (
		key               string
		certPEM, keyPEM   []byte
		certName, keyName string
	)
	switch {
	case s.keystoreLocation != "":
		if err := checkStoreType(keySSLKeystoreType, s.keystoreType); err != nil {
			return nil, err
		}
		b, err := readPEMFile(keySSLKeystoreLocation, s.keystoreLocation, keySSLKeystoreType, s.keystoreType)
		if err != nil {
			return nil, err
		}
		key, certPEM, keyPEM = keySSLKeystoreLocation, b, b
		certName, keyName = keySSLKeystoreLocation, keySSLKeystoreLocation
	case s.keystoreCertChain != "" || s.keystoreKey.isSet():
		if s.keystoreCertChain == "" || !s.keystoreKey.isSet() {
			return nil, &ConfigError{Key: keySSLKeystoreCertChain, Reason: "ssl.keystore.certificate.chain and ssl.keystore.key must be set together"}
		}
		key, certPEM, keyPEM = keySSLKeystoreKey, []byte(s.keystoreCertChain), []byte(s.keystoreKey.reveal())
		certName, keyName = keySSLKeystoreCertChain, keySSLKeystoreKey
	case s.certificateLocation != "" || s.keyLocation != "":
		if s.certificateLocation == "" || s.keyLocation == "" {
			return nil, &ConfigError{Key: keySSLCertificateLocation, Reason: "ssl.certificate.location and ssl.key.location must be set together"}
		}
		cb, err := readPEMFile(keySSLCertificateLocation, s.certificateLocation, "", "PEM")
		if err != nil {
			return nil, err
		}
		kb, err := readPEMFile(keySSLKeyLocation, s.keyLocation, "", "PEM")
		if err != nil {
			return nil, err
		}
		key, certPEM, keyPEM = keySSLKeyLocation, cb, kb
		certName, keyName = keySSLCertificateLocation, keySSLKeyLocation
	default:
		if s.keyPassword {
			return nil, &ConfigError{Key: keySSLKeyPassword, Reason: "is set but no client key is (ssl.keystore.location, ssl.keystore.key or ssl.key.location)"}
		}
		return nil, nil
	}

	certs, _, err := splitPEM(certPEM)
	if err != nil {
		return nil, &ConfigError{Key: certName, Value: locationOf(certName, s), Reason: err.Error()}
	}
	_, keys, err := splitPEM(keyPEM)
	if err != nil {
		return nil, &ConfigError{Key: keyName, Value: locationOf(keyName, s), Reason: err.Error()}
	}
	switch {
	case len(certs) == 0:
		return nil, &ConfigError{Key: certName, Value: locationOf(certName, s), Reason: "holds no PEM CERTIFICATE block for the client certificate"}
	case len(keys) == 0:
		return nil, &ConfigError{Key: keyName, Value: locationOf(keyName, s), Reason: "holds no PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block)"}
	case len(keys) > 1:
		return nil, &ConfigError{Key: keyName, Value: locationOf(keyName, s), Reason: fmt.Sprintf("holds %d private keys; want one", len(keys))}
	}
	if encryptedKey(keys[0]) {
		return nil, &ConfigError{Key: keyName, Value: locationOf(keyName, s), Reason: "holds an encrypted private key, which is not supported (so ssl.key.password cannot be used): " +
			"decrypt it, e.g. openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-plain.pem, and protect the file instead"}
	}
	if s.keyPassword {
		c.ignored = append(c.ignored, keySSLKeyPassword+" (the private key is not encrypted)")
	}
	var chain []byte
	for _, b := range certs {
		chain = append(chain, pem.EncodeToMemory(b)...)
	}
	pair, err := tls.X509KeyPair(chain, pem.EncodeToMemory(keys[0]))
	if err != nil {
		return nil, &ConfigError{Key: key, Value: locationOf(key, s), Reason: err.Error()}
	}
	return &pair, nil
}

// versions applies ssl.enabled.protocols as the lowest and highest TLS
// version offered.
func (s *sslSettings) versions(cfg *tls.Config) error {
	if s.enabledProtocols == "" {
		return nil
	}
	known := map[string]uint16{"TLSV1": tls.VersionTLS10, "TLSV1.1": tls.VersionTLS11, "TLSV1.2": tls.VersionTLS12, "TLSV1.3": tls.VersionTLS13}
	for _, p := range strings.Split(s.enabledProtocols, ",") {
		v, ok := known[strings.ToUpper(strings.TrimSpace(p))]
		if !ok {
			return &ConfigError{Key: keySSLEnabledProtocols, Value: s.enabledProtocols, Reason: "each entry must be TLSv1.2 or TLSv1.3 (or TLSv1, TLSv1.1)"}
		}
		if cfg.MinVersion == 0 || v < cfg.MinVersion {
			cfg.MinVersion = v
		}
		cfg.MaxVersion = max(cfg.MaxVersion, v)
	}
	return nil
}

// checkStoreType accepts PEM and an unset type (sniffed when read), and
// rejects JKS and PKCS12 with a conversion recipe.
func checkStoreType(key, typ string) error {
	switch strings.ToUpper(typ) {
	case "", "PEM":
		return nil
	case "JKS", "PKCS12":
		return &ConfigError{Key: key, Value: typ, Reason: storeHint(key)}
	}
	return &ConfigError{Key: key, Value: typ, Reason: "must be PEM (JKS and PKCS12 are not supported)"}
}

func storeHint(key string) string {
	if strings.HasPrefix(key, "ssl.truststore") {
		return "JKS and PKCS12 are not supported, use PEM: keytool -exportcert -rfc -keystore truststore.jks -alias <alias> -file ca.pem " +
			"(or openssl pkcs12 -in truststore.p12 -nokeys -out ca.pem), then ssl.truststore.location=ca.pem and ssl.truststore.type=PEM"
	}
	return "JKS and PKCS12 are not supported, use PEM: openssl pkcs12 -in keystore.p12 -nodes -out client.pem " +
		"(convert JKS first with keytool -importkeystore -srckeystore keystore.jks -destkeystore keystore.p12 -deststoretype PKCS12), " +
		"then ssl.keystore.location=client.pem and ssl.keystore.type=PEM"
}

// readPEMFile reads a file that must hold PEM. When the store type was not
// given (Java's default is JKS), a file that is not PEM gets the
// conversion recipe.
func readPEMFile(key, path, typeKey, typ string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{Key: key, Value: path, Reason: fmt.Sprintf("cannot read: %v", err)}
	}
	if !bytes.Contains(b, []byte("-----BEGIN ")) {
		reason := "is not a PEM file"
		if typ == "" && typeKey != "" {
			reason = fmt.Sprintf("is not PEM (%s is unset, and Java's default JKS is not supported): %s", typeKey, storeHint(key))
		}
		return nil, &ConfigError{Key: key, Value: path, Reason: reason}
	}
	return b, nil
}

// splitPEM returns the certificate and private key blocks of data,
// skipping other blocks (such as EC PARAMETERS).
func splitPEM(data []byte) (certs, keys []*pem.Block, err error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			certs = append(certs, b)
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			keys = append(keys, b)
		}
	}
	if len(certs) == 0 && len(keys) == 0 && bytes.Contains(data, []byte("-----BEGIN ")) {
		return nil, nil, errors.New("holds a PEM block that does not decode")
	}
	return certs, keys, nil
}

// encryptedKey reports an encrypted PKCS#8 key or a legacy encrypted PEM
// key (Proc-Type: 4,ENCRYPTED).
func encryptedKey(b *pem.Block) bool {
	return b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED")
}

// verifyChainOnly verifies the broker's chain against roots (nil: the
// system's) without checking the host name, for
// ssl.endpoint.identification.algorithm="".
func verifyChainOnly(roots *x509.CertPool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("producer: the broker sent no certificate")
		}
		opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
		for _, cert := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(cert)
		}
		if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
			return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
		}
		return nil
	}
}

// locationOf returns the file path behind a property, to show in errors;
// inline PEM values are not shown.
func locationOf(key string, s *sslSettings) string {
	switch key {
	case keySSLTruststoreLocation:
		return s.truststoreLocation
	case keySSLCALocation:
		return s.caLocation
	case keySSLKeystoreLocation:
		return s.keystoreLocation
	case keySSLCertificateLocation:
		return s.certificateLocation
	case keySSLKeyLocation:
		return s.keyLocation
	}
	return ""
}
