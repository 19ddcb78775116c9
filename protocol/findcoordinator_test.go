package protocol

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestFindCoordinatorRequestOracle(t *testing.T) {
	txOracle[*FindCoordinatorRequest, *kmsg.FindCoordinatorRequest]{
		key:     KeyFindCoordinator,
		seed:    1001,
		ours:    txRandFindCoordinatorRequest,
		newOurs: func() *FindCoordinatorRequest { return new(FindCoordinatorRequest) },
		newKmsg: kmsg.NewPtrFindCoordinatorRequest,
		kmsg: func(rng *rand.Rand, v int16) *kmsg.FindCoordinatorRequest {
			k := kmsg.NewPtrFindCoordinatorRequest()
			k.Version = v
			if v <= 3 {
				k.CoordinatorKey = randString(rng, 20)
			}
			if v >= 1 {
				k.CoordinatorType = int8(rng.Uint32())
			}
			if v >= 4 {
				k.CoordinatorKeys = txStrings(rng, 5)
			}
			txTags(rng, v >= 3, &k.UnknownTags)
			return k
		},
		conv: func(k *kmsg.FindCoordinatorRequest, v int16) *FindCoordinatorRequest {
			req := new(FindCoordinatorRequest)
			if v <= 3 {
				req.CoordinatorKey = k.CoordinatorKey
			}
			if v >= 1 {
				req.KeyType = k.CoordinatorType
			}
			if v >= 4 {
				req.CoordinatorKeys = nilIfEmpty(k.CoordinatorKeys)
			}
			return req
		},
	}.run(t)
}

func txRandFindCoordinatorRequest(rng *rand.Rand, v int16) *FindCoordinatorRequest {
	req := new(FindCoordinatorRequest)
	if v <= 3 {
		req.CoordinatorKey = randString(rng, 20)
	}
	if v >= 1 {
		req.KeyType = int8(rng.Uint32())
	}
	if v >= 4 {
		req.CoordinatorKeys = txStrings(rng, 5)
	}
	return req
}

func TestFindCoordinatorResponseOracle(t *testing.T) {
	txOracle[*FindCoordinatorResponse, *kmsg.FindCoordinatorResponse]{
		key:     KeyFindCoordinator,
		seed:    1002,
		ours:    txRandFindCoordinatorResponse,
		newOurs: func() *FindCoordinatorResponse { return new(FindCoordinatorResponse) },
		newKmsg: kmsg.NewPtrFindCoordinatorResponse,
		kmsg: func(rng *rand.Rand, v int16) *kmsg.FindCoordinatorResponse {
			k := kmsg.NewPtrFindCoordinatorResponse()
			k.Version = v
			if v >= 1 {
				k.ThrottleMillis = randInt32(rng)
			}
			if v <= 3 {
				k.ErrorCode = randInt16(rng)
				if v >= 1 {
					k.ErrorMessage = randNullableString(rng, 30)
				}
				k.NodeID = randInt32(rng)
				k.Host = randString(rng, 20)
				k.Port = randInt32(rng)
			} else {
				for range randLen(rng, 4) {
					c := kmsg.NewFindCoordinatorResponseCoordinator()
					c.Key = randString(rng, 20)
					c.NodeID = randInt32(rng)
					c.Host = randString(rng, 20)
					c.Port = randInt32(rng)
					c.ErrorCode = randInt16(rng)
					c.ErrorMessage = randNullableString(rng, 30)
					txTags(rng, true, &c.UnknownTags)
					k.Coordinators = append(k.Coordinators, c)
				}
			}
			txTags(rng, v >= 3, &k.UnknownTags)
			return k
		},
		conv: func(k *kmsg.FindCoordinatorResponse, v int16) *FindCoordinatorResponse {
			resp := new(FindCoordinatorResponse)
			if v >= 1 {
				resp.ThrottleTimeMillis = k.ThrottleMillis
			}
			if v <= 3 {
				resp.ErrorCode = k.ErrorCode
				if v >= 1 {
					resp.ErrorMessage = k.ErrorMessage
				}
				resp.NodeID = k.NodeID
				resp.Host = k.Host
				resp.Port = k.Port
				return resp
			}
			for _, c := range k.Coordinators {
				resp.Coordinators = append(resp.Coordinators, Coordinator{
					Key: c.Key, NodeID: c.NodeID, Host: c.Host, Port: c.Port,
					ErrorCode: c.ErrorCode, ErrorMessage: c.ErrorMessage,
				})
			}
			return resp
		},
	}.run(t)
}

func txRandFindCoordinatorResponse(rng *rand.Rand, v int16) *FindCoordinatorResponse {
	resp := new(FindCoordinatorResponse)
	if v >= 1 {
		resp.ThrottleTimeMillis = randInt32(rng)
	}
	if v <= 3 {
		resp.ErrorCode = randInt16(rng)
		if v >= 1 {
			resp.ErrorMessage = randNullableString(rng, 30)
		}
		resp.NodeID = randInt32(rng)
		resp.Host = randString(rng, 20)
		resp.Port = randInt32(rng)
		return resp
	}
	for range randLen(rng, 4) {
		resp.Coordinators = append(resp.Coordinators, Coordinator{
			Key:          randString(rng, 20),
			NodeID:       randInt32(rng),
			Host:         randString(rng, 20),
			Port:         randInt32(rng),
			ErrorCode:    randInt16(rng),
			ErrorMessage: randNullableString(rng, 30),
		})
	}
	return resp
}

// TestFindCoordinatorShapeByVersion checks that each version writes only
// its own shape: the single-key fields up to v3, the batch from v4, so a
// value carrying both (a caller's mistake) cannot leak the wrong one.
func TestFindCoordinatorShapeByVersion(t *testing.T) {
	req := &FindCoordinatorRequest{CoordinatorKey: "g", KeyType: CoordinatorTransaction, CoordinatorKeys: []string{"a", "b"}}
	tests := []struct {
		v    int16
		want string
	}{
		{0, "0001 67"},
		{1, "0001 67 01"},
		{3, "02 67 01 00"},
		{4, "01 03 02 61 02 62 00"},
		{5, "01 03 02 61 02 62 00"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("v%d", tt.v), func(t *testing.T) {
			require.Equal(t, mustHex(t, tt.want), req.AppendTo(nil, tt.v))
		})
	}
}

func TestFindCoordinatorTruncated(t *testing.T) {
	rng := newRand(1003)
	for _, v := range versionsOf(t, KeyFindCoordinator) {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			resp := txRandFindCoordinatorResponse(rng, v)
			txRequireTruncationsFail(t, new(FindCoordinatorResponse), resp.AppendTo(nil, v), v)
			req := txRandFindCoordinatorRequest(rng, v)
			txRequireTruncationsFail(t, new(FindCoordinatorRequest), req.AppendTo(nil, v), v)
		})
	}
}

func FuzzDecodeFindCoordinatorResponse(f *testing.F) {
	rng := newRand(1004)
	for _, v := range versionsOf(f, KeyFindCoordinator) {
		for range 3 {
			f.Add(txRandFindCoordinatorResponse(rng, v).AppendTo(nil, v), uint8(v))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		checkFuzzRoundTrip[FindCoordinatorResponse](t, data, fuzzVersion(KeyFindCoordinator, sel))
	})
}
