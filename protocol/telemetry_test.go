package protocol

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func telRandInt8s(rng *rand.Rand, max int) []int8 {
	n := randLen(rng, max)
	if n == 0 {
		return nil
	}
	out := make([]int8, n)
	for i := range out {
		out[i] = int8(rng.IntN(256) - 128)
	}
	return out
}

func TestGetTelemetrySubscriptionsRequestOracle(t *testing.T) {
	txOracle[*GetTelemetrySubscriptionsRequest, *kmsg.GetTelemetrySubscriptionsRequest]{
		key:  KeyGetTelemetrySubscriptions,
		seed: 7101,
		ours: func(rng *rand.Rand, v int16) *GetTelemetrySubscriptionsRequest {
			return &GetTelemetrySubscriptionsRequest{ClientInstanceID: randUUID(rng)}
		},
		newOurs: func() *GetTelemetrySubscriptionsRequest { return new(GetTelemetrySubscriptionsRequest) },
		newKmsg: kmsg.NewPtrGetTelemetrySubscriptionsRequest,
		kmsg: func(rng *rand.Rand, v int16) *kmsg.GetTelemetrySubscriptionsRequest {
			k := kmsg.NewPtrGetTelemetrySubscriptionsRequest()
			k.Version = v
			k.ClientInstanceID = randUUID(rng)
			txTags(rng, true, &k.UnknownTags)
			return k
		},
		conv: func(k *kmsg.GetTelemetrySubscriptionsRequest, v int16) *GetTelemetrySubscriptionsRequest {
			return &GetTelemetrySubscriptionsRequest{ClientInstanceID: k.ClientInstanceID}
		},
	}.run(t)
}

func telRandSubscriptionsResponse(rng *rand.Rand, v int16) *GetTelemetrySubscriptionsResponse {
	return &GetTelemetrySubscriptionsResponse{
		ThrottleTimeMillis:       randInt32(rng),
		ErrorCode:                randInt16(rng),
		ClientInstanceID:         randUUID(rng),
		SubscriptionID:           randInt32(rng),
		AcceptedCompressionTypes: telRandInt8s(rng, 5),
		PushIntervalMillis:       randInt32(rng),
		TelemetryMaxBytes:        randInt32(rng),
		DeltaTemporality:         randBool(rng),
		RequestedMetrics:         txStrings(rng, 4),
	}
}

func TestGetTelemetrySubscriptionsResponseOracle(t *testing.T) {
	txOracle[*GetTelemetrySubscriptionsResponse, *kmsg.GetTelemetrySubscriptionsResponse]{
		key:     KeyGetTelemetrySubscriptions,
		seed:    7102,
		ours:    telRandSubscriptionsResponse,
		newOurs: func() *GetTelemetrySubscriptionsResponse { return new(GetTelemetrySubscriptionsResponse) },
		newKmsg: kmsg.NewPtrGetTelemetrySubscriptionsResponse,
		kmsg: func(rng *rand.Rand, v int16) *kmsg.GetTelemetrySubscriptionsResponse {
			k := kmsg.NewPtrGetTelemetrySubscriptionsResponse()
			k.Version = v
			k.ThrottleMillis = randInt32(rng)
			k.ErrorCode = randInt16(rng)
			k.ClientInstanceID = randUUID(rng)
			k.SubscriptionID = randInt32(rng)
			k.AcceptedCompressionTypes = telRandInt8s(rng, 5)
			k.PushIntervalMillis = randInt32(rng)
			k.TelemetryMaxBytes = randInt32(rng)
			k.DeltaTemporality = randBool(rng)
			k.RequestedMetrics = txStrings(rng, 4)
			txTags(rng, true, &k.UnknownTags)
			return k
		},
		conv: func(k *kmsg.GetTelemetrySubscriptionsResponse, v int16) *GetTelemetrySubscriptionsResponse {
			resp := &GetTelemetrySubscriptionsResponse{
				ThrottleTimeMillis: k.ThrottleMillis,
				ErrorCode:          k.ErrorCode,
				ClientInstanceID:   k.ClientInstanceID,
				SubscriptionID:     k.SubscriptionID,
				PushIntervalMillis: k.PushIntervalMillis,
				TelemetryMaxBytes:  k.TelemetryMaxBytes,
				DeltaTemporality:   k.DeltaTemporality,
			}
			if len(k.AcceptedCompressionTypes) > 0 {
				resp.AcceptedCompressionTypes = k.AcceptedCompressionTypes
			}
			if len(k.RequestedMetrics) > 0 {
				resp.RequestedMetrics = k.RequestedMetrics
			}
			return resp
		},
	}.run(t)
}

func telRandPushRequest(rng *rand.Rand, v int16) *PushTelemetryRequest {
	return &PushTelemetryRequest{
		ClientInstanceID: randUUID(rng),
		SubscriptionID:   randInt32(rng),
		Terminating:      randBool(rng),
		CompressionType:  int8(rng.IntN(5)),
		Metrics:          randBytes(rng, 200),
	}
}

func TestPushTelemetryRequestOracle(t *testing.T) {
	txOracle[*PushTelemetryRequest, *kmsg.PushTelemetryRequest]{
		key:     KeyPushTelemetry,
		seed:    7201,
		ours:    telRandPushRequest,
		newOurs: func() *PushTelemetryRequest { return new(PushTelemetryRequest) },
		newKmsg: kmsg.NewPtrPushTelemetryRequest,
		kmsg: func(rng *rand.Rand, v int16) *kmsg.PushTelemetryRequest {
			k := kmsg.NewPtrPushTelemetryRequest()
			k.Version = v
			k.ClientInstanceID = randUUID(rng)
			k.SubscriptionID = randInt32(rng)
			k.Terminating = randBool(rng)
			k.CompressionType = int8(rng.IntN(5))
			k.Metrics = randBytes(rng, 200)
			txTags(rng, true, &k.UnknownTags)
			return k
		},
		conv: func(k *kmsg.PushTelemetryRequest, v int16) *PushTelemetryRequest {
			return &PushTelemetryRequest{
				ClientInstanceID: k.ClientInstanceID,
				SubscriptionID:   k.SubscriptionID,
				Terminating:      k.Terminating,
				CompressionType:  k.CompressionType,
				Metrics:          k.Metrics,
			}
		},
	}.run(t)
}

func TestPushTelemetryResponseOracle(t *testing.T) {
	txOracle[*PushTelemetryResponse, *kmsg.PushTelemetryResponse]{
		key:  KeyPushTelemetry,
		seed: 7202,
		ours: func(rng *rand.Rand, v int16) *PushTelemetryResponse {
			return &PushTelemetryResponse{ThrottleTimeMillis: randInt32(rng), ErrorCode: randInt16(rng)}
		},
		newOurs: func() *PushTelemetryResponse { return new(PushTelemetryResponse) },
		newKmsg: kmsg.NewPtrPushTelemetryResponse,
		kmsg: func(rng *rand.Rand, v int16) *kmsg.PushTelemetryResponse {
			k := kmsg.NewPtrPushTelemetryResponse()
			k.Version = v
			k.ThrottleMillis = randInt32(rng)
			k.ErrorCode = randInt16(rng)
			txTags(rng, true, &k.UnknownTags)
			return k
		},
		conv: func(k *kmsg.PushTelemetryResponse, v int16) *PushTelemetryResponse {
			return &PushTelemetryResponse{ThrottleTimeMillis: k.ThrottleMillis, ErrorCode: k.ErrorCode}
		},
	}.run(t)
}

// TestGetTelemetrySubscriptionsResponseLayout pins the field order of
// GetTelemetrySubscriptionsResponse.json v0 byte by byte.
func TestGetTelemetrySubscriptionsResponseLayout(t *testing.T) {
	in := mustHex(t, "00000005 0000 000102030405060708090a0b0c0d0e0f 0000002a 03 0400 000003e8 00100000 01 02 0e6f72672e6170616368652e6b61 00")
	got := new(GetTelemetrySubscriptionsResponse)
	require.NoError(t, DecodeMessage(got, in, 0))
	require.Equal(t, GetTelemetrySubscriptionsResponse{
		ThrottleTimeMillis:       5,
		ClientInstanceID:         [16]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
		SubscriptionID:           42,
		AcceptedCompressionTypes: []int8{4, 0},
		PushIntervalMillis:       1000,
		TelemetryMaxBytes:        1 << 20,
		DeltaTemporality:         true,
		RequestedMetrics:         []string{"org.apache.ka"},
	}, *got)
	require.Equal(t, in, got.AppendTo(nil, 0))
}

func TestTelemetryTruncated(t *testing.T) {
	rng := newRand(7103)
	for range 20 {
		txRequireTruncationsFail(t, new(GetTelemetrySubscriptionsResponse), telRandSubscriptionsResponse(rng, 0).AppendTo(nil, 0), 0)
		txRequireTruncationsFail(t, new(PushTelemetryRequest), telRandPushRequest(rng, 0).AppendTo(nil, 0), 0)
		txRequireTruncationsFail(t, new(PushTelemetryResponse), (&PushTelemetryResponse{ErrorCode: 117}).AppendTo(nil, 0), 0)
		txRequireTruncationsFail(t, new(GetTelemetrySubscriptionsRequest), (&GetTelemetrySubscriptionsRequest{}).AppendTo(nil, 0), 0)
	}
}

func FuzzDecodeTelemetry(f *testing.F) {
	rng := newRand(7104)
	f.Add(uint8(0), telRandSubscriptionsResponse(rng, 0).AppendTo(nil, 0))
	f.Add(uint8(1), telRandPushRequest(rng, 0).AppendTo(nil, 0))
	f.Add(uint8(2), (&PushTelemetryResponse{ErrorCode: 118}).AppendTo(nil, 0))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		switch which % 4 {
		case 0:
			checkFuzzRoundTrip[GetTelemetrySubscriptionsResponse](t, data, 0)
		case 1:
			checkFuzzRoundTrip[PushTelemetryRequest](t, data, 0)
		case 2:
			checkFuzzRoundTrip[PushTelemetryResponse](t, data, 0)
		default:
			checkFuzzRoundTrip[GetTelemetrySubscriptionsRequest](t, data, 0)
		}
	})
}

func TestTelemetryKeys(t *testing.T) {
	for _, k := range []Key{KeyGetTelemetrySubscriptions, KeyPushTelemetry} {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			require.True(t, IsFlexible(k, 0))
			require.Equal(t, int16(2), RequestHeaderVersion(k, 0))
			require.Equal(t, int16(1), ResponseHeaderVersion(k, 0))
		})
	}
}
