package protocol

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestSaslHandshakeRequestOracle(t *testing.T) {
	txOracle[*SaslHandshakeRequest, *kmsg.SASLHandshakeRequest]{
		key:  KeySaslHandshake,
		seed: 1701,
		ours: func(rng *rand.Rand, v int16) *SaslHandshakeRequest {
			return &SaslHandshakeRequest{Mechanism: randString(rng, 20)}
		},
		newOurs: func() *SaslHandshakeRequest { return new(SaslHandshakeRequest) },
		newKmsg: kmsg.NewPtrSASLHandshakeRequest,
		kmsg: func(rng *rand.Rand, v int16) *kmsg.SASLHandshakeRequest {
			k := kmsg.NewPtrSASLHandshakeRequest()
			k.Version = v
			k.Mechanism = randString(rng, 20)
			return k
		},
		conv: func(k *kmsg.SASLHandshakeRequest, v int16) *SaslHandshakeRequest {
			return &SaslHandshakeRequest{Mechanism: k.Mechanism}
		},
	}.run(t)
}

func txRandSaslHandshakeResponse(rng *rand.Rand) *SaslHandshakeResponse {
	return &SaslHandshakeResponse{ErrorCode: randInt16(rng), Mechanisms: txStrings(rng, 5)}
}

func TestSaslHandshakeResponseOracle(t *testing.T) {
	txOracle[*SaslHandshakeResponse, *kmsg.SASLHandshakeResponse]{
		key:     KeySaslHandshake,
		seed:    1702,
		ours:    func(rng *rand.Rand, v int16) *SaslHandshakeResponse { return txRandSaslHandshakeResponse(rng) },
		newOurs: func() *SaslHandshakeResponse { return new(SaslHandshakeResponse) },
		newKmsg: kmsg.NewPtrSASLHandshakeResponse,
		kmsg: func(rng *rand.Rand, v int16) *kmsg.SASLHandshakeResponse {
			k := kmsg.NewPtrSASLHandshakeResponse()
			k.Version = v
			k.ErrorCode = randInt16(rng)
			k.SupportedMechanisms = txStrings(rng, 5)
			return k
		},
		conv: func(k *kmsg.SASLHandshakeResponse, v int16) *SaslHandshakeResponse {
			return &SaslHandshakeResponse{ErrorCode: k.ErrorCode, Mechanisms: nilIfEmpty(k.SupportedMechanisms)}
		},
	}.run(t)
}

// txAuthBytes maps kmsg's auth bytes to ours: non-nullable, so an empty
// value decodes as a non-nil empty slice whichever way kmsg holds it.
func txAuthBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func TestSaslAuthenticateRequestOracle(t *testing.T) {
	txOracle[*SaslAuthenticateRequest, *kmsg.SASLAuthenticateRequest]{
		key:  KeySaslAuthenticate,
		seed: 3601,
		ours: func(rng *rand.Rand, v int16) *SaslAuthenticateRequest {
			return &SaslAuthenticateRequest{AuthBytes: randBytes(rng, 40)}
		},
		newOurs: func() *SaslAuthenticateRequest { return new(SaslAuthenticateRequest) },
		newKmsg: kmsg.NewPtrSASLAuthenticateRequest,
		kmsg: func(rng *rand.Rand, v int16) *kmsg.SASLAuthenticateRequest {
			k := kmsg.NewPtrSASLAuthenticateRequest()
			k.Version = v
			k.SASLAuthBytes = randBytes(rng, 40)
			txTags(rng, v >= 2, &k.UnknownTags)
			return k
		},
		conv: func(k *kmsg.SASLAuthenticateRequest, v int16) *SaslAuthenticateRequest {
			return &SaslAuthenticateRequest{AuthBytes: txAuthBytes(k.SASLAuthBytes)}
		},
	}.run(t)
}

func txRandSaslAuthenticateResponse(rng *rand.Rand, v int16) *SaslAuthenticateResponse {
	resp := &SaslAuthenticateResponse{
		ErrorCode:    randInt16(rng),
		ErrorMessage: randNullableString(rng, 30),
		AuthBytes:    randBytes(rng, 40),
	}
	if v >= 1 {
		resp.SessionLifetimeMillis = randInt64(rng)
	}
	return resp
}

func TestSaslAuthenticateResponseOracle(t *testing.T) {
	txOracle[*SaslAuthenticateResponse, *kmsg.SASLAuthenticateResponse]{
		key:     KeySaslAuthenticate,
		seed:    3602,
		ours:    txRandSaslAuthenticateResponse,
		newOurs: func() *SaslAuthenticateResponse { return new(SaslAuthenticateResponse) },
		newKmsg: kmsg.NewPtrSASLAuthenticateResponse,
		kmsg: func(rng *rand.Rand, v int16) *kmsg.SASLAuthenticateResponse {
			k := kmsg.NewPtrSASLAuthenticateResponse()
			k.Version = v
			k.ErrorCode = randInt16(rng)
			k.ErrorMessage = randNullableString(rng, 30)
			k.SASLAuthBytes = randBytes(rng, 40)
			if v >= 1 {
				k.SessionLifetimeMillis = randInt64(rng)
			}
			txTags(rng, v >= 2, &k.UnknownTags)
			return k
		},
		conv: func(k *kmsg.SASLAuthenticateResponse, v int16) *SaslAuthenticateResponse {
			resp := &SaslAuthenticateResponse{
				ErrorCode:    k.ErrorCode,
				ErrorMessage: k.ErrorMessage,
				AuthBytes:    txAuthBytes(k.SASLAuthBytes),
			}
			if v >= 1 {
				resp.SessionLifetimeMillis = k.SessionLifetimeMillis
			}
			return resp
		},
	}.run(t)
}

// TestSaslAuthBytesCopied checks that decoded auth bytes do not alias the
// read buffer, which a connection reuses for the next frame while a SASL
// state machine still holds the previous token.
func TestSaslAuthBytesCopied(t *testing.T) {
	for _, v := range versionsOf(t, KeySaslAuthenticate) {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			b := (&SaslAuthenticateResponse{AuthBytes: []byte("server-first")}).AppendTo(nil, v)
			resp := new(SaslAuthenticateResponse)
			require.NoError(t, DecodeMessage(resp, b, v))
			clear(b)
			require.Equal(t, []byte("server-first"), resp.AuthBytes)

			b = (&SaslAuthenticateRequest{AuthBytes: []byte("client-first")}).AppendTo(nil, v)
			req := new(SaslAuthenticateRequest)
			require.NoError(t, DecodeMessage(req, b, v))
			clear(b)
			require.Equal(t, []byte("client-first"), req.AuthBytes)
		})
	}
}

// TestSaslAuthBytesNullRejected checks that null auth bytes, which the
// schema does not allow, fail instead of reading as empty.
func TestSaslAuthBytesNullRejected(t *testing.T) {
	tests := []struct {
		v  int16
		in string
	}{
		{0, "0000 ffff ffffffff"},
		{1, "0000 ffff ffffffff 0000000000000000"},
		{2, "0000 00 00 0000000000000000 00"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("v%d", tt.v), func(t *testing.T) {
			require.ErrorIs(t, DecodeMessage(new(SaslAuthenticateResponse), mustHex(t, tt.in), tt.v), ErrMalformed)
		})
	}
}

func TestSaslTruncated(t *testing.T) {
	rng := newRand(3603)
	for _, v := range versionsOf(t, KeySaslAuthenticate) {
		t.Run(fmt.Sprintf("authenticate v%d", v), func(t *testing.T) {
			txRequireTruncationsFail(t, new(SaslAuthenticateResponse), txRandSaslAuthenticateResponse(rng, v).AppendTo(nil, v), v)
			req := &SaslAuthenticateRequest{AuthBytes: []byte("x")}
			txRequireTruncationsFail(t, new(SaslAuthenticateRequest), req.AppendTo(nil, v), v)
		})
	}
	for _, v := range versionsOf(t, KeySaslHandshake) {
		t.Run(fmt.Sprintf("handshake v%d", v), func(t *testing.T) {
			resp := &SaslHandshakeResponse{Mechanisms: []string{"PLAIN", ""}}
			txRequireTruncationsFail(t, new(SaslHandshakeResponse), resp.AppendTo(nil, v), v)
			req := &SaslHandshakeRequest{Mechanism: "PLAIN"}
			txRequireTruncationsFail(t, new(SaslHandshakeRequest), req.AppendTo(nil, v), v)
		})
	}
}

// FuzzDecodeSaslResponses fuzzes the SaslHandshake and SaslAuthenticate
// response decoders; kind picks the message.
func FuzzDecodeSaslResponses(f *testing.F) {
	rng := newRand(3604)
	for _, v := range versionsOf(f, KeySaslHandshake) {
		f.Add(txRandSaslHandshakeResponse(rng).AppendTo(nil, v), uint8(0), uint8(v))
	}
	for _, v := range versionsOf(f, KeySaslAuthenticate) {
		f.Add(txRandSaslAuthenticateResponse(rng, v).AppendTo(nil, v), uint8(1), uint8(v))
	}
	f.Fuzz(func(t *testing.T, data []byte, kind, sel uint8) {
		if kind%2 == 0 {
			checkFuzzRoundTrip[SaslHandshakeResponse](t, data, fuzzVersion(KeySaslHandshake, sel))
		} else {
			checkFuzzRoundTrip[SaslAuthenticateResponse](t, data, fuzzVersion(KeySaslAuthenticate, sel))
		}
	})
}
