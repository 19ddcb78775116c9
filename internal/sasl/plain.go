package sasl

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// plain is the PLAIN mechanism (RFC 4616): one message carrying the
// password in the clear, so only ever use it over TLS (SASL_SSL).
type plain struct {
	user, pass string
}

// Plain returns the PLAIN mechanism for user and password. Neither may
// contain a NUL byte, and the user may not be empty. The authorization
// identity is left empty, as Kafka expects.
func Plain(user, pass string) (Mechanism, error) {
	switch {
	case user == "":
		return nil, errors.New("sasl: PLAIN needs a user name")
	case strings.IndexByte(user, 0) >= 0 || strings.IndexByte(pass, 0) >= 0:
		return nil, errors.New("sasl: PLAIN user name and password must not contain NUL bytes")
	}
	return &plain{user: user, pass: pass}, nil
}

func (*plain) Name() string { return "PLAIN" }

// String names the mechanism and user, never the password.
func (m *plain) String() string { return fmt.Sprintf("PLAIN(user=%s)", m.user) }

// Format prints String for every verb, so that no verb prints the
// password.
func (m *plain) Format(f fmt.State, _ rune) { fmt.Fprint(f, m.String()) }

// Start returns the single message: authzid NUL authcid NUL password.
func (m *plain) Start(context.Context) (Session, []byte, error) {
	msg := make([]byte, 0, 2+len(m.user)+len(m.pass))
	msg = append(msg, 0)
	msg = append(msg, m.user...)
	msg = append(msg, 0)
	msg = append(msg, m.pass...)
	return &plainSession{pass: m.pass}, msg, nil
}

type plainSession struct{ pass string }

// Challenge accepts the broker's (empty) answer: PLAIN is one message.
func (*plainSession) Challenge([]byte) (bool, []byte, error) { return true, nil, nil }

func (s *plainSession) redact(msg string) string { return redactAll(msg, s.pass) }
