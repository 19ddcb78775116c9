package protocol

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The tx* helpers below drive the oracle tests of the transaction,
// coordinator and SASL messages (initproducerid, findcoordinator,
// addpartitionstotxn, addoffsetstotxn, endtxn, txnoffsetcommit, sasl).
// Generic random values come from oracle_test.go.

// txKmsg is the part of a kmsg request or response the oracle uses.
type txKmsg interface {
	SetVersion(int16)
	ReadFrom([]byte) error
	AppendTo([]byte) []byte
}

// txOracle describes one message type for the two-way oracle test.
type txOracle[O Message, K txKmsg] struct {
	key  Key
	seed uint64 // distinguishes requests from responses of one key
	// ours returns a random value with only the fields that exist at v;
	// absent fields hold the defaults Decode gives them, empty arrays are
	// nil.
	ours func(rng *rand.Rand, v int16) O
	// kmsg returns a random kmsg value at version v, with unknown tagged
	// fields at every level when v is flexible.
	kmsg    func(rng *rand.Rand, v int16) K
	newOurs func() O
	newKmsg func() K
	// conv maps a kmsg value to ours, copying only the fields that exist at
	// v and normalising empty arrays to nil, as our decoder does.
	conv func(k K, v int16) O
}

// run checks, for every version in our table and oracleIters random values
// per direction, that kmsg decodes our encoding to the same fields and
// re-encodes it to the same bytes, and that we decode kmsg's encoding
// (unknown tags included) to the same fields.
func (o txOracle[O, K]) run(t *testing.T) {
	for _, v := range versionsOf(t, o.key) {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			rng := newRand(o.seed<<16 | uint64(v))
			for i := range oracleIters {
				want := o.ours(rng, v)
				b := want.AppendTo(nil, v)
				k := o.newKmsg()
				k.SetVersion(v)
				require.NoError(t, k.ReadFrom(b), "iter %d: kmsg reading ours: %x", i, b)
				require.Equal(t, want, o.conv(k, v), "iter %d: ours → kmsg", i)
				require.Equal(t, b, k.AppendTo(nil), "iter %d: kmsg re-encoding of ours", i)

				k = o.kmsg(rng, v)
				b = k.AppendTo(nil)
				got := o.newOurs()
				require.NoError(t, DecodeMessage(got, b, v), "iter %d: decoding kmsg's %x", i, b)
				require.Equal(t, o.conv(k, v), got, "iter %d: kmsg → ours", i)
			}
		})
	}
}

// txTags adds random unknown tags to a kmsg tag section when flexible.
func txTags(rng *rand.Rand, flex bool, tags *kmsg.Tags) {
	if flex {
		randUnknownTags(rng, tags)
	}
}

// txStrings returns up to max random strings, nil when empty.
func txStrings(rng *rand.Rand, max int) []string {
	n := randLen(rng, max)
	if n == 0 {
		return nil
	}
	s := make([]string, n)
	for i := range s {
		s[i] = randString(rng, 12)
	}
	return s
}

// txRequireTruncationsFail checks that every strict prefix of a valid
// encoding fails to decode with ErrMalformed instead of panicking or
// succeeding.
func txRequireTruncationsFail(t *testing.T, m Message, b []byte, v int16) {
	t.Helper()
	for cut := range len(b) {
		err := DecodeMessage(m, b[:cut], v)
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("v%d: %T cut at %d of %d: err %v, want ErrMalformed", v, m, cut, len(b), err)
		}
	}
}

func TestInitProducerIDRequestOracle(t *testing.T) {
	txOracle[*InitProducerIDRequest, *kmsg.InitProducerIDRequest]{
		key:  KeyInitProducerID,
		seed: 2201,
		ours: func(rng *rand.Rand, v int16) *InitProducerIDRequest {
			req := NewInitProducerIDRequest()
			req.TransactionalID = randNullableString(rng, 20)
			req.TransactionTimeoutMillis = randInt32(rng)
			if v >= 3 {
				req.ProducerID = randInt64(rng)
				req.ProducerEpoch = randInt16(rng)
			}
			return req
		},
		kmsg: func(rng *rand.Rand, v int16) *kmsg.InitProducerIDRequest {
			k := kmsg.NewPtrInitProducerIDRequest()
			k.Version = v
			k.TransactionalID = randNullableString(rng, 20)
			k.TransactionTimeoutMillis = randInt32(rng)
			if v >= 3 {
				k.ProducerID = randInt64(rng)
				k.ProducerEpoch = randInt16(rng)
			}
			txTags(rng, v >= 2, &k.UnknownTags)
			return k
		},
		newOurs: func() *InitProducerIDRequest { return new(InitProducerIDRequest) },
		newKmsg: kmsg.NewPtrInitProducerIDRequest,
		conv: func(k *kmsg.InitProducerIDRequest, v int16) *InitProducerIDRequest {
			req := NewInitProducerIDRequest()
			req.TransactionalID = k.TransactionalID
			req.TransactionTimeoutMillis = k.TransactionTimeoutMillis
			if v >= 3 {
				req.ProducerID = k.ProducerID
				req.ProducerEpoch = k.ProducerEpoch
			}
			return req
		},
	}.run(t)
}

func TestInitProducerIDResponseOracle(t *testing.T) {
	txOracle[*InitProducerIDResponse, *kmsg.InitProducerIDResponse]{
		key:  KeyInitProducerID,
		seed: 2202,
		ours: func(rng *rand.Rand, v int16) *InitProducerIDResponse { return txRandInitProducerIDResponse(rng) },
		kmsg: func(rng *rand.Rand, v int16) *kmsg.InitProducerIDResponse {
			k := kmsg.NewPtrInitProducerIDResponse()
			k.Version = v
			k.ThrottleMillis = randInt32(rng)
			k.ErrorCode = randInt16(rng)
			k.ProducerID = randInt64(rng)
			k.ProducerEpoch = randInt16(rng)
			txTags(rng, v >= 2, &k.UnknownTags)
			return k
		},
		newOurs: NewInitProducerIDResponse,
		newKmsg: kmsg.NewPtrInitProducerIDResponse,
		conv: func(k *kmsg.InitProducerIDResponse, v int16) *InitProducerIDResponse {
			return &InitProducerIDResponse{
				ThrottleTimeMillis: k.ThrottleMillis,
				ErrorCode:          k.ErrorCode,
				ProducerID:         k.ProducerID,
				ProducerEpoch:      k.ProducerEpoch,
			}
		},
	}.run(t)
}

func txRandInitProducerIDResponse(rng *rand.Rand) *InitProducerIDResponse {
	return &InitProducerIDResponse{
		ThrottleTimeMillis: randInt32(rng),
		ErrorCode:          randInt16(rng),
		ProducerID:         randInt64(rng),
		ProducerEpoch:      randInt16(rng),
	}
}

// TestInitProducerIDGolden pins the wire layout, written out by hand from
// Kafka's schema, including the v3 change that a zero-value request would
// get wrong: "no current producer" is -1/-1.
func TestInitProducerIDGolden(t *testing.T) {
	tests := []struct {
		name string
		req  *InitProducerIDRequest
		v    int16
		want string
	}{
		{"v0 idempotent", &InitProducerIDRequest{TransactionTimeoutMillis: 60000, ProducerID: -1, ProducerEpoch: -1}, 0,
			"ffff 0000ea60"},
		{"v1 transactional", &InitProducerIDRequest{TransactionalID: strPtr("tx"), TransactionTimeoutMillis: 60000, ProducerID: -1, ProducerEpoch: -1}, 1,
			"0002 7478 0000ea60"},
		{"v2 flexible null id", &InitProducerIDRequest{TransactionTimeoutMillis: -1, ProducerID: -1, ProducerEpoch: -1}, 2,
			"00 ffffffff 00"},
		{"v3 defaults", func() *InitProducerIDRequest {
			r := NewInitProducerIDRequest()
			r.TransactionalID = strPtr("tx")
			r.TransactionTimeoutMillis = 60000
			return r
		}(), 3,
			"03 7478 0000ea60 ffffffffffffffff ffff 00"},
		{"v5 epoch bump", &InitProducerIDRequest{TransactionTimeoutMillis: 1, ProducerID: 7, ProducerEpoch: 3}, 5,
			"00 00000001 0000000000000007 0003 00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := mustHex(t, tt.want)
			require.Equal(t, want, tt.req.AppendTo(nil, tt.v))
			got := new(InitProducerIDRequest)
			require.NoError(t, DecodeMessage(got, want, tt.v))
			require.Equal(t, tt.req, got)
		})
	}
}

// TestInitProducerIDDefaults checks that fields absent at an old version
// decode to Kafka's defaults, not to the zero value, which is a real id.
func TestInitProducerIDDefaults(t *testing.T) {
	req := &InitProducerIDRequest{ProducerID: 9, ProducerEpoch: 9}
	b := (&InitProducerIDRequest{TransactionTimeoutMillis: 5}).AppendTo(nil, 2)
	require.NoError(t, DecodeMessage(req, b, 2))
	require.Equal(t, int64(-1), req.ProducerID)
	require.Equal(t, int16(-1), req.ProducerEpoch)
	require.Equal(t, int64(-1), NewInitProducerIDResponse().ProducerID)
}

func TestInitProducerIDTruncated(t *testing.T) {
	rng := newRand(2203)
	for _, v := range versionsOf(t, KeyInitProducerID) {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			resp := txRandInitProducerIDResponse(rng)
			txRequireTruncationsFail(t, new(InitProducerIDResponse), resp.AppendTo(nil, v), v)
			req := &InitProducerIDRequest{TransactionalID: strPtr("t"), ProducerID: 1}
			txRequireTruncationsFail(t, new(InitProducerIDRequest), req.AppendTo(nil, v), v)
		})
	}
}

func FuzzDecodeInitProducerIDResponse(f *testing.F) {
	rng := newRand(2204)
	for _, v := range versionsOf(f, KeyInitProducerID) {
		f.Add(txRandInitProducerIDResponse(rng).AppendTo(nil, v), uint8(v))
	}
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		checkFuzzRoundTrip[InitProducerIDResponse](t, data, fuzzVersion(KeyInitProducerID, sel))
	})
}
