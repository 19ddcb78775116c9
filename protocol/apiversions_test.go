package protocol

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestAPIVersionsRequestOracle(t *testing.T) {
	for _, v := range versionsOf(t, KeyAPIVersions) {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			rng := newRand(400 + uint64(v))
			for range oracleIters {
				var want APIVersionsRequest
				if v >= 3 {
					want = APIVersionsRequest{ClientSoftwareName: randString(rng, 16), ClientSoftwareVersion: randString(rng, 8)}
				}

				b := want.AppendTo(nil, v)
				k := kmsg.NewPtrApiVersionsRequest()
				decodeKmsg(t, k, b, v)
				require.Equal(t, want, APIVersionsRequest{ClientSoftwareName: k.ClientSoftwareName, ClientSoftwareVersion: k.ClientSoftwareVersion})

				k = kmsg.NewPtrApiVersionsRequest()
				k.Version = v
				k.ClientSoftwareName, k.ClientSoftwareVersion = want.ClientSoftwareName, want.ClientSoftwareVersion
				if v >= 3 {
					randUnknownTags(rng, &k.UnknownTags)
				}
				var got APIVersionsRequest
				decodeOurs(t, &got, k.AppendTo(nil), v)
				require.Equal(t, want, got)
			}
		})
	}
}

// randAPIVersionsResponse returns a response holding only what version v
// can carry, tagged fields included from v3.
func randAPIVersionsResponse(rng *rand.Rand, v int16) APIVersionsResponse {
	resp := APIVersionsResponse{ErrorCode: randInt16(rng), FinalizedFeaturesEpoch: -1}
	if n := randLen(rng, 8); n > 0 {
		resp.APIKeys = make([]APIVersionsResponseKey, n)
		for i := range resp.APIKeys {
			resp.APIKeys[i] = APIVersionsResponseKey{APIKey: randInt16(rng), MinVersion: randInt16(rng), MaxVersion: randInt16(rng)}
		}
	}
	if v >= 1 {
		resp.ThrottleTimeMillis = randInt32(rng)
	}
	if v < 3 {
		return resp
	}
	if n := randLen(rng, 3); n > 0 {
		resp.SupportedFeatures = make([]SupportedFeature, n)
		for i := range resp.SupportedFeatures {
			resp.SupportedFeatures[i] = SupportedFeature{Name: randString(rng, 20), MinVersion: randInt16(rng), MaxVersion: randInt16(rng)}
		}
	}
	if randBool(rng) {
		resp.FinalizedFeaturesEpoch = randInt64(rng)
	}
	if n := randLen(rng, 3); n > 0 {
		resp.FinalizedFeatures = make([]FinalizedFeature, n)
		for i := range resp.FinalizedFeatures {
			resp.FinalizedFeatures[i] = FinalizedFeature{Name: randString(rng, 20), MaxVersionLevel: randInt16(rng), MinVersionLevel: randInt16(rng)}
		}
	}
	resp.ZkMigrationReady = randBool(rng)
	return resp
}

func apiVersionsResponseToKmsg(rng *rand.Rand, resp *APIVersionsResponse, v int16) *kmsg.ApiVersionsResponse {
	k := kmsg.NewPtrApiVersionsResponse()
	k.Version = v
	flex := v >= 3
	k.ErrorCode = resp.ErrorCode
	for _, a := range resp.APIKeys {
		ka := kmsg.NewApiVersionsResponseApiKey()
		ka.ApiKey, ka.MinVersion, ka.MaxVersion = a.APIKey, a.MinVersion, a.MaxVersion
		if flex {
			randUnknownTags(rng, &ka.UnknownTags)
		}
		k.ApiKeys = append(k.ApiKeys, ka)
	}
	k.ThrottleMillis = resp.ThrottleTimeMillis
	for _, f := range resp.SupportedFeatures {
		kf := kmsg.NewApiVersionsResponseSupportedFeature()
		kf.Name, kf.MinVersion, kf.MaxVersion = f.Name, f.MinVersion, f.MaxVersion
		randUnknownTags(rng, &kf.UnknownTags)
		k.SupportedFeatures = append(k.SupportedFeatures, kf)
	}
	k.FinalizedFeaturesEpoch = resp.FinalizedFeaturesEpoch
	for _, f := range resp.FinalizedFeatures {
		kf := kmsg.NewApiVersionsResponseFinalizedFeature()
		kf.Name, kf.MaxVersionLevel, kf.MinVersionLevel = f.Name, f.MaxVersionLevel, f.MinVersionLevel
		randUnknownTags(rng, &kf.UnknownTags)
		k.FinalizedFeatures = append(k.FinalizedFeatures, kf)
	}
	k.ZkMigrationReady = resp.ZkMigrationReady
	if flex {
		randUnknownTags(rng, &k.UnknownTags)
	}
	return k
}

func apiVersionsResponseFromKmsg(k *kmsg.ApiVersionsResponse) APIVersionsResponse {
	resp := APIVersionsResponse{
		ErrorCode: k.ErrorCode, ThrottleTimeMillis: k.ThrottleMillis,
		FinalizedFeaturesEpoch: k.FinalizedFeaturesEpoch, ZkMigrationReady: k.ZkMigrationReady,
	}
	for _, a := range k.ApiKeys {
		resp.APIKeys = append(resp.APIKeys, APIVersionsResponseKey{APIKey: a.ApiKey, MinVersion: a.MinVersion, MaxVersion: a.MaxVersion})
	}
	for _, f := range k.SupportedFeatures {
		resp.SupportedFeatures = append(resp.SupportedFeatures, SupportedFeature{Name: f.Name, MinVersion: f.MinVersion, MaxVersion: f.MaxVersion})
	}
	for _, f := range k.FinalizedFeatures {
		resp.FinalizedFeatures = append(resp.FinalizedFeatures, FinalizedFeature{Name: f.Name, MaxVersionLevel: f.MaxVersionLevel, MinVersionLevel: f.MinVersionLevel})
	}
	return resp
}

func TestAPIVersionsResponseOracle(t *testing.T) {
	for _, v := range versionsOf(t, KeyAPIVersions) {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			rng := newRand(500 + uint64(v))
			for range oracleIters {
				want := randAPIVersionsResponse(rng, v)

				b := want.AppendTo(nil, v)
				k := kmsg.NewPtrApiVersionsResponse()
				decodeKmsg(t, k, b, v)
				require.Equal(t, want, apiVersionsResponseFromKmsg(k), "kmsg decoding our v%d encoding", v)

				kb := apiVersionsResponseToKmsg(rng, &want, v).AppendTo(nil)
				var got APIVersionsResponse
				decodeOurs(t, &got, kb, v)
				require.Equal(t, want, got, "our decoding of kmsg's v%d encoding", v)
			}
		})
	}
}

// TestAPIVersionsResponseDefaultTagsOmitted checks that tagged fields at
// their defaults are not written: a v3 response with nothing in them ends
// in an empty tag section.
func TestAPIVersionsResponseDefaultTagsOmitted(t *testing.T) {
	resp := NewAPIVersionsResponse()
	resp.APIKeys = []APIVersionsResponseKey{{APIKey: 18, MinVersion: 0, MaxVersion: 4}}
	want := mustHex(t, `
		0000        -- error_code
		02          -- compact array of 1
		0012 0000 0004 00 -- key 18, v0-v4, no tags
		00000000    -- throttle
		00          -- no tagged fields
	`)
	require.Equal(t, want, resp.AppendTo(nil, 3))
}

func TestAPIVersionsResponseVersions(t *testing.T) {
	resp := APIVersionsResponse{APIKeys: []APIVersionsResponseKey{
		{APIKey: 0, MinVersion: 3, MaxVersion: 11},
		{APIKey: 3, MinVersion: 0, MaxVersion: 12},
		{APIKey: 3, MinVersion: 1, MaxVersion: 13}, // a repeat keeps the last
	}}
	require.Equal(t, map[Key]VersionRange{
		KeyProduce:  {Min: 3, Max: 11},
		KeyMetadata: {Min: 1, Max: 13},
	}, resp.Versions())
}

func TestValidClientSoftware(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"tributary", true},
		{"tributary-go", true},
		{"1.2.3", true},
		{"v0.1.0-rc.1", true},
		{"a", true},
		{"9", true},
		{"A-.-Z", true},
		{"", false},
		{"-a", false},
		{"a-", false},
		{".a", false},
		{"a.", false},
		{"-", false},
		{".", false},
		{"a b", false},
		{"a_b", false},
		{"a/b", false},
		{"a+b", false},
		{"é", false},
		{"aé", false},
		{"a\x00b", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			require.Equal(t, tt.want, ValidClientSoftware(tt.in))
		})
	}
}

func FuzzDecodeAPIVersionsResponse(f *testing.F) {
	rng := newRand(903)
	for _, v := range versionsOf(f, KeyAPIVersions) {
		for range 3 {
			resp := randAPIVersionsResponse(rng, v)
			f.Add(resp.AppendTo(nil, v), uint8(v))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		checkFuzzRoundTrip[APIVersionsResponse](t, data, fuzzVersion(KeyAPIVersions, sel))
	})
}
