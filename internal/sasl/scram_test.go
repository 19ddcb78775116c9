package sasl

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fscram "github.com/twmb/franz-go/pkg/sasl/scram"
)

func fixedNonce(n string) func() (string, error) { return func() (string, error) { return n, nil } }

func newSCRAM(t testing.TB, h Hash, user, pass string, tokenAuth bool, nonce string) *scram {
	t.Helper()
	m, err := SCRAM(h, user, pass, tokenAuth)
	require.NoError(t, err)
	s := m.(*scram)
	s.nonce = fixedNonce(nonce)
	return s
}

// TestSCRAMSHA256RFC7677 replays the exchange of RFC 7677 §3 byte for
// byte.
func TestSCRAMSHA256RFC7677(t *testing.T) {
	const (
		clientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
		serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
		clientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
		serverFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
	)
	m := newSCRAM(t, SHA256, "user", "pencil", false, "rOprNGfwEbeRWgbNEkqO")
	sess, first, err := m.Start(context.Background())
	require.NoError(t, err)
	assert.Equal(t, clientFirst, string(first))

	done, final, err := sess.Challenge([]byte(serverFirst))
	require.NoError(t, err)
	assert.False(t, done)
	assert.Equal(t, clientFinal, string(final))

	done, next, err := sess.Challenge([]byte(serverFinal))
	require.NoError(t, err)
	assert.True(t, done)
	assert.Nil(t, next)

	t.Run("tampered server signature", func(t *testing.T) {
		sess, _, err := m.Start(context.Background())
		require.NoError(t, err)
		_, _, err = sess.Challenge([]byte(serverFirst))
		require.NoError(t, err)
		sig, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(serverFinal, "v="))
		sig[0] ^= 1
		_, _, err = sess.Challenge([]byte("v=" + base64.StdEncoding.EncodeToString(sig)))
		assert.ErrorIs(t, err, ErrServerSignature)
	})
	t.Run("server error", func(t *testing.T) {
		sess, _, err := m.Start(context.Background())
		require.NoError(t, err)
		_, _, err = sess.Challenge([]byte(serverFirst))
		require.NoError(t, err)
		_, _, err = sess.Challenge([]byte("e=invalid-proof"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "invalid-proof")
	})
}

// TestSCRAMMatchesFranzGo checks our client messages against franz-go's
// SCRAM client, an independent implementation, for both hashes, escaped
// user names and the delegation-token extension.
func TestSCRAMMatchesFranzGo(t *testing.T) {
	for _, tc := range []struct {
		h         Hash
		user      string
		tokenAuth bool
	}{
		{SHA256, "alice", false},
		{SHA512, "alice", false},
		{SHA512, "we=ird,name", false},
		{SHA256, "tokenid", true},
	} {
		t.Run(fmt.Sprintf("%s/%s/token=%v", tc.h.Name(), tc.user, tc.tokenAuth), func(t *testing.T) {
			const pass = "correct horse battery staple"
			raw := []byte("eighteen raw bytes")
			nonce := base64.StdEncoding.EncodeToString(raw) // franz-go encodes its nonce bytes so
			ours := newSCRAM(t, tc.h, tc.user, pass, tc.tokenAuth, nonce)
			auth := fscram.Auth{User: tc.user, Pass: pass, Nonce: raw, IsToken: tc.tokenAuth}
			theirs := auth.AsSha256Mechanism()
			if tc.h.Name() == SHA512.Name() {
				theirs = auth.AsSha512Mechanism()
			}
			osess, ofirst, err := ours.Start(context.Background())
			require.NoError(t, err)
			tsess, tfirst, err := theirs.Authenticate(context.Background(), "broker:9092")
			require.NoError(t, err)
			assert.Equal(t, string(tfirst), string(ofirst), "client-first")

			salt := make([]byte, 16)
			_, _ = rand.Read(salt)
			serverFirst := fmt.Sprintf("r=%s3rfcNHYJY1ZVvWVs7j,s=%s,i=4096", nonce, base64.StdEncoding.EncodeToString(salt))
			_, ofinal, err := osess.Challenge([]byte(serverFirst))
			require.NoError(t, err)
			_, tfinal, err := tsess.Challenge([]byte(serverFirst))
			require.NoError(t, err)
			assert.Equal(t, string(tfinal), string(ofinal), "client-final")
		})
	}
}

func TestParseServerFirst(t *testing.T) {
	const cn = "abc"
	good := func(s string) string { return s }
	tests := []struct {
		name, msg string
		wantIter  int
		wantErr   string
	}{
		{"minimal", good("r=abcdef,s=c2FsdA==,i=4096"), 4096, ""},
		{"unpadded salt", "r=abcdef,s=c2FsdA,i=4096", 4096, ""},
		{"extensions after", "r=abcdef,s=c2FsdA==,i=8192,x=y", 8192, ""},
		{"max iterations", fmt.Sprintf("r=abcdef,s=c2FsdA==,i=%d", maxIterations), maxIterations, ""},
		{"too few iterations", "r=abcdef,s=c2FsdA==,i=4095", 0, "fewer than the minimum 4096"},
		{"too many iterations", fmt.Sprintf("r=abcdef,s=c2FsdA==,i=%d", maxIterations+1), 0, "more than this client's limit"},
		{"negative iterations", "r=abcdef,s=c2FsdA==,i=-4096", 0, "not a number"},
		{"huge iterations", "r=abcdef,s=c2FsdA==,i=99999999999999999999", 0, "not a number"},
		{"nonce not ours", "r=xyzdef,s=c2FsdA==,i=4096", 0, "does not extend"},
		{"nonce not extended", "r=abc,s=c2FsdA==,i=4096", 0, "does not extend"},
		{"nonce with space", "r=abc de,s=c2FsdA==,i=4096", 0, "non-printable"},
		{"mandatory extension", "m=foo,r=abcdef,s=c2FsdA==,i=4096", 0, "extension"},
		{"server error", "e=unknown-user", 0, "unknown-user"},
		{"wrong order", "s=c2FsdA==,r=abcdef,i=4096", 0, "r=…,s=…,i=…"},
		{"missing iterations", "r=abcdef,s=c2FsdA==", 0, "r=…,s=…,i=…"},
		{"bad salt", "r=abcdef,s=!!!,i=4096", 0, "salt"},
		{"empty salt", "r=abcdef,s=,i=4096", 0, "salt"},
		{"not attributes", "hello", 0, "not k=value"},
		{"empty", "", 0, "r=…,s=…,i=…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sf, err := parseServerFirst([]byte(tt.msg), cn)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantIter, sf.iterations)
			assert.Equal(t, []byte("salt"), sf.salt)
			assert.True(t, strings.HasPrefix(sf.nonce, cn))
		})
	}
}

func TestParseServerFinal(t *testing.T) {
	tests := []struct {
		name, msg string
		sig       []byte
		serverErr string
		wantErr   bool
	}{
		{"verifier", "v=c2ln", []byte("sig"), "", false},
		{"verifier with extension", "v=c2ln,x=1", []byte("sig"), "", false},
		{"error", "e=invalid-proof", nil, `"invalid-proof"`, false},
		{"empty error", "e=", nil, "", true},
		{"empty verifier", "v=", nil, "", true},
		{"bad base64", "v=%%%", nil, "", true},
		{"other attribute", "r=abc", nil, "", true},
		{"empty", "", nil, "", true},
		{"garbage", "vv", nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, serr, err := parseServerFinal([]byte(tt.msg))
			if tt.wantErr {
				assert.ErrorIs(t, err, ErrMalformed)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.sig, sig)
			assert.Equal(t, tt.serverErr, serr)
		})
	}
}

// FuzzSCRAMServerFirst feeds arbitrary server-first-messages to the parser
// and to a session: neither may panic, and whatever parses must satisfy
// the checks the parser promises.
func FuzzSCRAMServerFirst(f *testing.F) {
	const cn = "rOprNGfwEbeRWgbNEkqO"
	f.Add([]byte("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))
	f.Add([]byte("r=rOprNGfwEbeRWgbNEkqOx,s=c2FsdA,i=4096,ext=1"))
	f.Add([]byte("m=x,r=a,s=b,i=1"))
	f.Add([]byte("e=other-error"))
	f.Add([]byte(",,,="))
	f.Fuzz(func(t *testing.T, msg []byte) {
		sf, err := parseServerFirst(msg, cn)
		if err == nil {
			if !strings.HasPrefix(sf.nonce, cn) || len(sf.nonce) <= len(cn) {
				t.Fatalf("accepted nonce %q not extending %q", sf.nonce, cn)
			}
			if sf.iterations < minIterations || sf.iterations > maxIterations {
				t.Fatalf("accepted %d iterations", sf.iterations)
			}
			if len(sf.salt) == 0 {
				t.Fatal("accepted an empty salt")
			}
		}
		if err == nil && sf.iterations > 2*minIterations {
			return // keep PBKDF2 work per input small
		}
		m := &scram{h: SHA256, user: "user", pass: "pencil", nonce: fixedNonce(cn)}
		sess, _, _ := m.Start(context.Background())
		_, _, serr := sess.Challenge(msg)
		if (serr == nil) != (err == nil) {
			t.Fatalf("parser and session disagree: %v vs %v", err, serr)
		}
	})
}

// FuzzSCRAMServerFinal feeds arbitrary server-final-messages to the parser
// and to a session past its first step: no panic, and only the one true
// signature may complete the exchange.
func FuzzSCRAMServerFinal(f *testing.F) {
	f.Add([]byte("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="))
	f.Add([]byte("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=,x=y"))
	f.Add([]byte("e=invalid-proof"))
	f.Add([]byte("v="))
	f.Add([]byte("\x00"))
	m := &scram{h: SHA256, user: "user", pass: "pencil", nonce: fixedNonce("rOprNGfwEbeRWgbNEkqO")}
	const serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
	want, _ := base64.StdEncoding.DecodeString("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
	f.Fuzz(func(t *testing.T, msg []byte) {
		sig, serr, err := parseServerFinal(msg)
		if err == nil && (sig == nil) == (serr == "") {
			t.Fatalf("want exactly one of signature and server error, got %x and %q", sig, serr)
		}
		sess, _, _ := m.Start(context.Background())
		if _, _, err := sess.Challenge([]byte(serverFirst)); err != nil {
			t.Fatal(err)
		}
		done, _, err := sess.Challenge(msg)
		if err == nil && (!done || string(sig) != string(want)) {
			t.Fatalf("exchange accepted server-final %q", msg)
		}
		if err != nil && errors.Is(err, ErrServerSignature) && sig == nil {
			t.Fatalf("signature error without a signature: %v", err)
		}
	})
}
