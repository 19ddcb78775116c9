package sasl

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// SCRAM (RFC 5802) proves knowledge of the password without sending it,
// and makes the server prove it knows the password's derived keys too:
//
//	client-first  n,,n=<user>,r=<client nonce>
//	server-first  r=<client nonce + server nonce>,s=<salt>,i=<iterations>
//	client-final  c=biws,r=<nonce>,p=<proof>
//	server-final  v=<server signature>   (or e=<error>)
//
// SaltedPassword = PBKDF2(HMAC-H, password, salt, iterations); ClientKey and
// ServerKey are HMACs of it; the proof is ClientKey XOR HMAC(H(ClientKey),
// AuthMessage), where AuthMessage is the three earlier messages joined by
// commas. The server's signature, HMAC(ServerKey, AuthMessage), is checked
// in constant time before the exchange counts as done: a server that cannot
// produce it does not hold the credentials.
//
// Two checks guard against a hostile or broken server. The combined nonce
// must extend ours, or the server is replaying another exchange. The
// iteration count must be at least 4096 (RFC 7677's minimum, also Kafka's),
// or the proof we send is cheap to brute-force offline; and at most
// maxIterations, so that a server cannot make us spin for minutes.
//
// Kafka does not apply SASLprep to passwords (Java's ScramFormatter sends
// the UTF-8 bytes), so neither do we; names are escaped as RFC 5802 says
// (',' as =2C, '=' as =3D). "c=biws" is base64 of "n,,": no channel
// binding, which Kafka does not support.

// Hash is a SCRAM hash function.
type Hash struct {
	name string
	new  func() hash.Hash
}

// The SCRAM variants Kafka supports.
var (
	SHA256 = Hash{"SCRAM-SHA-256", sha256.New}
	SHA512 = Hash{"SCRAM-SHA-512", sha512.New}
)

// Name returns the mechanism name, such as "SCRAM-SHA-256".
func (h Hash) Name() string { return h.name }

// Iteration count bounds (see above).
const (
	minIterations = 4096
	maxIterations = 1 << 20
)

// scram is a SCRAM mechanism with its credentials.
type scram struct {
	h         Hash
	user      string // as given; escaped when sent
	pass      string
	tokenAuth bool                   // send the tokenauth=true extension (delegation tokens, KIP-48)
	nonce     func() (string, error) // client nonce source; tests replace it
}

// SCRAM returns the SCRAM mechanism for h (SHA256 or SHA512), user and
// password. With tokenAuth the user and password are a Kafka delegation
// token's id and HMAC, announced with the tokenauth=true extension.
func SCRAM(h Hash, user, pass string, tokenAuth bool) (Mechanism, error) {
	if h.new == nil {
		return nil, errors.New("sasl: unknown SCRAM hash")
	}
	if user == "" {
		return nil, fmt.Errorf("sasl: %s needs a user name", h.name)
	}
	return &scram{h: h, user: user, pass: pass, tokenAuth: tokenAuth, nonce: randomNonce}, nil
}

func (m *scram) Name() string { return m.h.name }

// String names the mechanism and user, never the password.
func (m *scram) String() string { return fmt.Sprintf("%s(user=%s)", m.h.name, m.user) }

// Format prints String for every verb, so that no verb prints the
// password.
func (m *scram) Format(f fmt.State, _ rune) { fmt.Fprint(f, m.String()) }

// randomNonce returns 24 printable characters from 18 random bytes.
func randomNonce() (string, error) {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b[:]), nil
}

var nameEscaper = strings.NewReplacer("=", "=3D", ",", "=2C")

// Start returns the client-first-message.
func (m *scram) Start(context.Context) (Session, []byte, error) {
	nonce, err := m.nonce()
	if err != nil {
		return nil, nil, fmt.Errorf("client nonce: %w", err)
	}
	bare := "n=" + nameEscaper.Replace(m.user) + ",r=" + nonce
	if m.tokenAuth {
		bare += ",tokenauth=true"
	}
	s := &scramSession{m: m, nonce: nonce, clientFirstBare: bare}
	return s, []byte("n,," + bare), nil
}

// scramSession is one SCRAM exchange.
type scramSession struct {
	m               *scram
	nonce           string
	clientFirstBare string
	step            int
	serverSignature []byte // expected in server-final
}

func (s *scramSession) redact(msg string) string { return redactAll(msg, s.m.pass) }

// Challenge answers server-first with client-final, then verifies
// server-final.
func (s *scramSession) Challenge(server []byte) (bool, []byte, error) {
	s.step++
	switch s.step {
	case 1:
		msg, err := s.clientFinal(server)
		return false, msg, err
	case 2:
		return true, nil, s.verify(server)
	}
	return false, nil, fmt.Errorf("%w: unexpected message after server-final", ErrMalformed)
}

func (s *scramSession) clientFinal(server []byte) ([]byte, error) {
	sf, err := parseServerFirst(server, s.nonce)
	if err != nil {
		return nil, err
	}
	h := s.m.h.new
	salted, err := pbkdf2.Key(h, s.m.pass, sf.salt, sf.iterations, h().Size())
	if err != nil {
		return nil, fmt.Errorf("salting the password: %w", err)
	}
	withoutProof := "c=biws,r=" + sf.nonce
	authMessage := []byte(s.clientFirstBare + "," + string(server) + "," + withoutProof)

	clientKey := hmacSum(h, salted, []byte("Client Key"))
	storedKey := h()
	storedKey.Write(clientKey)
	proof := hmacSum(h, storedKey.Sum(nil), authMessage)
	for i := range proof {
		proof[i] ^= clientKey[i]
	}
	s.serverSignature = hmacSum(h, hmacSum(h, salted, []byte("Server Key")), authMessage)
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

func (s *scramSession) verify(server []byte) error {
	sig, serverErr, err := parseServerFinal(server)
	switch {
	case err != nil:
		return err
	case serverErr != "":
		return fmt.Errorf("the broker rejected the proof: %s", serverErr)
	case !hmac.Equal(sig, s.serverSignature):
		return ErrServerSignature
	}
	return nil
}

func hmacSum(h func() hash.Hash, key, msg []byte) []byte {
	mac := hmac.New(h, key)
	mac.Write(msg)
	return mac.Sum(nil)
}

// serverFirst is a parsed server-first-message.
type serverFirst struct {
	nonce      string // client nonce + server nonce
	salt       []byte
	iterations int
}

// parseServerFirst parses a server-first-message (RFC 5802 §7):
//
//	[m=ext,] r=nonce, s=salt, i=iteration-count [,extensions]
//
// and checks that the nonce extends clientNonce and the iteration count is
// within [minIterations, maxIterations].
func parseServerFirst(msg []byte, clientNonce string) (serverFirst, error) {
	attrs, err := splitAttrs(msg)
	if err != nil {
		return serverFirst{}, err
	}
	if len(attrs) > 0 && attrs[0].key == 'm' {
		return serverFirst{}, fmt.Errorf("%w: server-first-message requires an extension this client does not know", ErrMalformed)
	}
	if len(attrs) > 0 && attrs[0].key == 'e' {
		return serverFirst{}, fmt.Errorf("the broker reported an error: %s", quoteShort(attrs[0].value))
	}
	if len(attrs) < 3 || attrs[0].key != 'r' || attrs[1].key != 's' || attrs[2].key != 'i' {
		return serverFirst{}, fmt.Errorf("%w: server-first-message is not r=…,s=…,i=…", ErrMalformed)
	}
	var sf serverFirst
	sf.nonce = attrs[0].value
	if !strings.HasPrefix(sf.nonce, clientNonce) || len(sf.nonce) <= len(clientNonce) {
		return serverFirst{}, fmt.Errorf("%w: the server nonce does not extend the client nonce", ErrMalformed)
	}
	for i := 0; i < len(sf.nonce); i++ {
		if c := sf.nonce[i]; c < 0x21 || c > 0x7e {
			return serverFirst{}, fmt.Errorf("%w: the server nonce has a non-printable byte", ErrMalformed)
		}
	}
	if sf.salt, err = decodeBase64(attrs[1].value); err != nil || len(sf.salt) == 0 {
		return serverFirst{}, fmt.Errorf("%w: the salt is not base64 or is empty", ErrMalformed)
	}
	it := attrs[2].value
	if it == "" || len(it) > 10 || strings.TrimLeft(it, "0123456789") != "" {
		return serverFirst{}, fmt.Errorf("%w: the iteration count %s is not a number", ErrMalformed, quoteShort(it))
	}
	n, _ := strconv.Atoi(it)
	switch {
	case n < minIterations:
		return serverFirst{}, fmt.Errorf("the server asks for %d iterations, fewer than the minimum %d (RFC 7677)", n, minIterations)
	case n > maxIterations:
		return serverFirst{}, fmt.Errorf("the server asks for %d iterations, more than this client's limit %d", n, maxIterations)
	}
	sf.iterations = n
	return sf, nil
}

// parseServerFinal parses a server-final-message (RFC 5802 §7):
// "e=<error>" or "v=<base64 signature>", either followed by extensions.
// It returns the signature, or the server's error value.
func parseServerFinal(msg []byte) (sig []byte, serverErr string, err error) {
	attrs, err := splitAttrs(msg)
	if err != nil {
		return nil, "", err
	}
	if len(attrs) == 0 {
		return nil, "", fmt.Errorf("%w: empty server-final-message", ErrMalformed)
	}
	switch attrs[0].key {
	case 'e':
		if attrs[0].value == "" {
			return nil, "", fmt.Errorf("%w: empty server error", ErrMalformed)
		}
		return nil, quoteShort(attrs[0].value), nil
	case 'v':
		sig, err := decodeBase64(attrs[0].value)
		if err != nil || len(sig) == 0 {
			return nil, "", fmt.Errorf("%w: the server signature is not base64 or is empty", ErrMalformed)
		}
		return sig, "", nil
	}
	return nil, "", fmt.Errorf("%w: server-final-message is neither v=… nor e=…", ErrMalformed)
}

// attr is one "k=value" attribute of a SCRAM message.
type attr struct {
	key   byte
	value string
}

// splitAttrs splits a SCRAM message into its comma-separated attributes,
// each a single ASCII letter, '=' and a value.
func splitAttrs(msg []byte) ([]attr, error) {
	if len(msg) == 0 {
		return nil, nil
	}
	parts := strings.Split(string(msg), ",")
	out := make([]attr, len(parts))
	for i, p := range parts {
		if len(p) < 2 || p[1] != '=' || !isAlpha(p[0]) {
			return nil, fmt.Errorf("%w: attribute %d is not k=value", ErrMalformed, i+1)
		}
		out[i] = attr{p[0], p[2:]}
	}
	return out, nil
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// decodeBase64 accepts padded (as RFC 5802 says) or unpadded base64.
func decodeBase64(s string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// quoteShort quotes a server-provided value for an error message, cut to a
// length fit for a log line.
func quoteShort(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strconv.Quote(s)
}
