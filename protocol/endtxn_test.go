package protocol

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func txRandEndTxnRequest(rng *rand.Rand, v int16) *EndTxnRequest {
	return &EndTxnRequest{
		TransactionalID: randString(rng, 20),
		ProducerID:      randInt64(rng),
		ProducerEpoch:   randInt16(rng),
		Committed:       randBool(rng),
	}
}

func TestEndTxnRequestOracle(t *testing.T) {
	txOracle[*EndTxnRequest, *kmsg.EndTxnRequest]{
		key:     KeyEndTxn,
		seed:    2601,
		ours:    txRandEndTxnRequest,
		newOurs: func() *EndTxnRequest { return new(EndTxnRequest) },
		newKmsg: kmsg.NewPtrEndTxnRequest,
		kmsg: func(rng *rand.Rand, v int16) *kmsg.EndTxnRequest {
			k := kmsg.NewPtrEndTxnRequest()
			k.Version = v
			k.TransactionalID = randString(rng, 20)
			k.ProducerID = randInt64(rng)
			k.ProducerEpoch = randInt16(rng)
			k.Commit = randBool(rng)
			txTags(rng, v >= 3, &k.UnknownTags)
			return k
		},
		conv: func(k *kmsg.EndTxnRequest, v int16) *EndTxnRequest {
			return &EndTxnRequest{
				TransactionalID: k.TransactionalID,
				ProducerID:      k.ProducerID,
				ProducerEpoch:   k.ProducerEpoch,
				Committed:       k.Commit,
			}
		},
	}.run(t)
}

func txRandEndTxnResponse(rng *rand.Rand, v int16) *EndTxnResponse {
	resp := NewEndTxnResponse()
	resp.ThrottleTimeMillis = randInt32(rng)
	resp.ErrorCode = randInt16(rng)
	if v >= 5 {
		resp.ProducerID = randInt64(rng)
		resp.ProducerEpoch = randInt16(rng)
	}
	return resp
}

func TestEndTxnResponseOracle(t *testing.T) {
	txOracle[*EndTxnResponse, *kmsg.EndTxnResponse]{
		key:     KeyEndTxn,
		seed:    2602,
		ours:    txRandEndTxnResponse,
		newOurs: func() *EndTxnResponse { return new(EndTxnResponse) },
		newKmsg: kmsg.NewPtrEndTxnResponse,
		kmsg: func(rng *rand.Rand, v int16) *kmsg.EndTxnResponse {
			k := kmsg.NewPtrEndTxnResponse()
			k.Version = v
			k.ThrottleMillis = randInt32(rng)
			k.ErrorCode = randInt16(rng)
			if v >= 5 {
				k.ProducerID = randInt64(rng)
				k.ProducerEpoch = randInt16(rng)
			}
			txTags(rng, v >= 3, &k.UnknownTags)
			return k
		},
		conv: func(k *kmsg.EndTxnResponse, v int16) *EndTxnResponse {
			resp := NewEndTxnResponse()
			resp.ThrottleTimeMillis = k.ThrottleMillis
			resp.ErrorCode = k.ErrorCode
			if v >= 5 {
				resp.ProducerID = k.ProducerID
				resp.ProducerEpoch = k.ProducerEpoch
			}
			return resp
		},
	}.run(t)
}

// TestEndTxnResponseV5Fields pins the KIP-890 layout and that older
// versions report "no new id" as -1 rather than producer id 0.
func TestEndTxnResponseV5Fields(t *testing.T) {
	tests := []struct {
		v    int16
		in   string
		want EndTxnResponse
	}{
		{0, "00000001 0033", EndTxnResponse{1, 51, -1, -1}},
		{3, "00000000 0000 00", EndTxnResponse{0, 0, -1, -1}},
		{5, "00000000 0000 000000000000002a 0007 00", EndTxnResponse{0, 0, 42, 7}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("v%d", tt.v), func(t *testing.T) {
			in := mustHex(t, tt.in)
			got := &EndTxnResponse{ProducerID: 99, ProducerEpoch: 99}
			require.NoError(t, DecodeMessage(got, in, tt.v))
			require.Equal(t, tt.want, *got)
			require.Equal(t, in, got.AppendTo(nil, tt.v))
		})
	}
}

func TestEndTxnTruncated(t *testing.T) {
	rng := newRand(2603)
	for _, v := range versionsOf(t, KeyEndTxn) {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			txRequireTruncationsFail(t, new(EndTxnResponse), txRandEndTxnResponse(rng, v).AppendTo(nil, v), v)
			txRequireTruncationsFail(t, new(EndTxnRequest), txRandEndTxnRequest(rng, v).AppendTo(nil, v), v)
		})
	}
}
