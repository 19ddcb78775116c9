package protocol

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func txRandAddOffsetsToTxnRequest(rng *rand.Rand, v int16) *AddOffsetsToTxnRequest {
	return &AddOffsetsToTxnRequest{
		TransactionalID: randString(rng, 20),
		ProducerID:      randInt64(rng),
		ProducerEpoch:   randInt16(rng),
		GroupID:         randString(rng, 20),
	}
}

func TestAddOffsetsToTxnRequestOracle(t *testing.T) {
	txOracle[*AddOffsetsToTxnRequest, *kmsg.AddOffsetsToTxnRequest]{
		key:     KeyAddOffsetsToTxn,
		seed:    2501,
		ours:    txRandAddOffsetsToTxnRequest,
		newOurs: func() *AddOffsetsToTxnRequest { return new(AddOffsetsToTxnRequest) },
		newKmsg: kmsg.NewPtrAddOffsetsToTxnRequest,
		kmsg: func(rng *rand.Rand, v int16) *kmsg.AddOffsetsToTxnRequest {
			k := kmsg.NewPtrAddOffsetsToTxnRequest()
			k.Version = v
			k.TransactionalID = randString(rng, 20)
			k.ProducerID = randInt64(rng)
			k.ProducerEpoch = randInt16(rng)
			k.Group = randString(rng, 20)
			txTags(rng, v >= 3, &k.UnknownTags)
			return k
		},
		conv: func(k *kmsg.AddOffsetsToTxnRequest, v int16) *AddOffsetsToTxnRequest {
			return &AddOffsetsToTxnRequest{
				TransactionalID: k.TransactionalID,
				ProducerID:      k.ProducerID,
				ProducerEpoch:   k.ProducerEpoch,
				GroupID:         k.Group,
			}
		},
	}.run(t)
}

func TestAddOffsetsToTxnResponseOracle(t *testing.T) {
	txOracle[*AddOffsetsToTxnResponse, *kmsg.AddOffsetsToTxnResponse]{
		key:  KeyAddOffsetsToTxn,
		seed: 2502,
		ours: func(rng *rand.Rand, v int16) *AddOffsetsToTxnResponse {
			return &AddOffsetsToTxnResponse{ThrottleTimeMillis: randInt32(rng), ErrorCode: randInt16(rng)}
		},
		newOurs: func() *AddOffsetsToTxnResponse { return new(AddOffsetsToTxnResponse) },
		newKmsg: kmsg.NewPtrAddOffsetsToTxnResponse,
		kmsg: func(rng *rand.Rand, v int16) *kmsg.AddOffsetsToTxnResponse {
			k := kmsg.NewPtrAddOffsetsToTxnResponse()
			k.Version = v
			k.ThrottleMillis = randInt32(rng)
			k.ErrorCode = randInt16(rng)
			txTags(rng, v >= 3, &k.UnknownTags)
			return k
		},
		conv: func(k *kmsg.AddOffsetsToTxnResponse, v int16) *AddOffsetsToTxnResponse {
			return &AddOffsetsToTxnResponse{ThrottleTimeMillis: k.ThrottleMillis, ErrorCode: k.ErrorCode}
		},
	}.run(t)
}

func TestAddOffsetsToTxnTruncated(t *testing.T) {
	rng := newRand(2503)
	for _, v := range versionsOf(t, KeyAddOffsetsToTxn) {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			resp := &AddOffsetsToTxnResponse{ThrottleTimeMillis: 1, ErrorCode: 2}
			txRequireTruncationsFail(t, new(AddOffsetsToTxnResponse), resp.AppendTo(nil, v), v)
			req := txRandAddOffsetsToTxnRequest(rng, v)
			txRequireTruncationsFail(t, new(AddOffsetsToTxnRequest), req.AppendTo(nil, v), v)
		})
	}
}

// TestAddOffsetsToTxnTrailingBytes checks that DecodeMessage notices a
// frame longer than the schema; for a fixed-size body nothing else would.
func TestAddOffsetsToTxnTrailingBytes(t *testing.T) {
	b := (&AddOffsetsToTxnResponse{}).AppendTo(nil, 0)
	require.ErrorIs(t, DecodeMessage(new(AddOffsetsToTxnResponse), append(b, 0), 0), ErrMalformed)
}
