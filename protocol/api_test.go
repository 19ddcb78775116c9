package protocol

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestNegotiate(t *testing.T) {
	produce, _ := Info(KeyProduce) // we speak v3-v12
	tests := []struct {
		name    string
		key     Key
		broker  map[Key]VersionRange
		want    int16
		wantErr *NoVersionError
	}{
		{
			name:   "broker range covers ours: our max",
			key:    KeyProduce,
			broker: map[Key]VersionRange{KeyProduce: {0, 13}},
			want:   produce.Max,
		},
		{
			name:   "broker max lower than ours: broker max",
			key:    KeyProduce,
			broker: map[Key]VersionRange{KeyProduce: {0, 7}},
			want:   7,
		},
		{
			name:   "broker max equals our min",
			key:    KeyProduce,
			broker: map[Key]VersionRange{KeyProduce: {0, 3}},
			want:   3,
		},
		{
			name:   "partial overlap above our min",
			key:    KeyProduce,
			broker: map[Key]VersionRange{KeyProduce: {5, 9}},
			want:   9,
		},
		{
			name:    "broker too old",
			key:     KeyProduce,
			broker:  map[Key]VersionRange{KeyProduce: {0, 2}},
			wantErr: &NoVersionError{Key: KeyProduce, OurMin: 3, OurMax: produce.Max, BrokerMin: 0, BrokerMax: 2},
		},
		{
			name:    "broker too new",
			key:     KeyProduce,
			broker:  map[Key]VersionRange{KeyProduce: {13, 14}},
			wantErr: &NoVersionError{Key: KeyProduce, OurMin: 3, OurMax: produce.Max, BrokerMin: 13, BrokerMax: 14},
		},
		{
			name:    "API missing",
			key:     KeyProduce,
			broker:  map[Key]VersionRange{KeyMetadata: {0, 12}},
			wantErr: &NoVersionError{Key: KeyProduce, OurMin: 3, OurMax: produce.Max, Missing: true},
		},
		{
			name:    "empty broker map",
			key:     KeyAPIVersions,
			broker:  nil,
			wantErr: &NoVersionError{Key: KeyAPIVersions, OurMin: 0, OurMax: 4, Missing: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Negotiate(tt.key, tt.broker)
			if tt.wantErr == nil {
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
				return
			}
			var nv *NoVersionError
			require.True(t, errors.As(err, &nv), "want *NoVersionError, got %v", err)
			require.Equal(t, tt.wantErr, nv)
			require.NotEmpty(t, err.Error())
		})
	}
}

func TestNegotiateUnknownAPI(t *testing.T) {
	_, err := Negotiate(Key(1), map[Key]VersionRange{Key(1): {0, 16}}) // Fetch: not ours
	require.Error(t, err)
	var nv *NoVersionError
	require.False(t, errors.As(err, &nv), "an API we do not speak is not a broker mismatch")
}

// TestFlexibleMatchesKmsg checks IsFlexible and both header versions for
// every API and version in our table against kmsg's generated types.
func TestFlexibleMatchesKmsg(t *testing.T) {
	for _, a := range APIs() {
		kreq := kmsg.RequestForKey(int16(a.Key))
		require.NotNil(t, kreq, "kmsg knows %v", a.Key)
		require.LessOrEqual(t, a.Max, kreq.MaxVersion(), "%v: our max above Kafka's", a.Key)
		// kmsg spells some names its own way (SASLHandshake, InitProducerID).
		require.True(t, strings.EqualFold(kmsg.NameForKey(int16(a.Key)), a.Name), "%s vs kmsg %s", a.Name, kmsg.NameForKey(int16(a.Key)))
		for v := a.Min; v <= a.Max; v++ {
			t.Run(fmt.Sprintf("%v v%d", a.Key, v), func(t *testing.T) {
				kreq.SetVersion(v)
				kresp := kreq.ResponseKind()
				require.Equal(t, kreq.IsFlexible(), IsFlexible(a.Key, v), "request flexible")
				require.Equal(t, kresp.IsFlexible(), IsFlexible(a.Key, v), "response flexible")

				wantReqHeader := int16(1)
				if kreq.IsFlexible() {
					wantReqHeader = 2
				}
				require.Equal(t, wantReqHeader, RequestHeaderVersion(a.Key, v))

				wantRespHeader := int16(0)
				if kresp.IsFlexible() && a.Key != KeyAPIVersions {
					wantRespHeader = 1
				}
				require.Equal(t, wantRespHeader, ResponseHeaderVersion(a.Key, v))
			})
		}
	}
}

func TestKeyString(t *testing.T) {
	require.Equal(t, "Produce", KeyProduce.String())
	require.Equal(t, "ApiVersions", KeyAPIVersions.String())
	require.Equal(t, "api(1)", Key(1).String())
}
