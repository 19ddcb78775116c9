package protocol

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// headerCase pairs one of our requests with the kmsg request of the same
// content, so whole frames can be compared byte for byte.
type headerCase struct {
	name string
	ours Request
	kreq kmsg.Request
	v    int16
}

func headerCases() []headerCase {
	produce := func(v int16) headerCase {
		ours := &ProduceRequest{Acks: 1, TimeoutMillis: 1500, Topics: []ProduceRequestTopic{{
			Name: "t", Partitions: []ProduceRequestPartition{{Index: 0, Records: []byte{1, 2, 3}}},
		}}}
		k := kmsg.NewPtrProduceRequest()
		k.Version = v
		k.Acks, k.TimeoutMillis = 1, 1500
		kt := kmsg.NewProduceRequestTopic()
		kt.Topic = "t"
		kp := kmsg.NewProduceRequestTopicPartition()
		kp.Records = []byte{1, 2, 3}
		kt.Partitions = append(kt.Partitions, kp)
		k.Topics = append(k.Topics, kt)
		return headerCase{fmt.Sprintf("Produce v%d", v), ours, k, v}
	}
	metadata := func(v int16) headerCase {
		k := kmsg.NewPtrMetadataRequest()
		k.Version = v
		return headerCase{fmt.Sprintf("Metadata v%d", v), &MetadataRequest{}, k, v}
	}
	apiVersions := func(v int16) headerCase {
		ours := &APIVersionsRequest{}
		k := kmsg.NewPtrApiVersionsRequest()
		k.Version = v
		if v >= 3 {
			ours.ClientSoftwareName, ours.ClientSoftwareVersion = "tributary", "0.1.0"
			k.ClientSoftwareName, k.ClientSoftwareVersion = "tributary", "0.1.0"
		}
		return headerCase{fmt.Sprintf("ApiVersions v%d", v), ours, k, v}
	}
	return []headerCase{
		produce(3), produce(8), // header v1
		produce(9), produce(12), // header v2
		metadata(0), metadata(8), metadata(9), metadata(12),
		apiVersions(0), apiVersions(2), apiVersions(3), apiVersions(4),
	}
}

// TestRequestHeaderMatchesKmsg compares whole request frames (size, header,
// body) with those of kmsg's RequestFormatter, with and without a client id,
// and decodes kmsg's header with ours.
func TestRequestHeaderMatchesKmsg(t *testing.T) {
	for _, tc := range headerCases() {
		for _, clientID := range []*string{nil, strPtr(""), strPtr("tributary-client")} {
			name := fmt.Sprintf("%s client %q", tc.name, derefOr(clientID, "<nil>"))
			t.Run(name, func(t *testing.T) {
				var f *kmsg.RequestFormatter
				if clientID == nil {
					f = kmsg.NewRequestFormatter()
				} else {
					f = kmsg.NewRequestFormatter(kmsg.FormatterClientID(*clientID))
				}
				const corr = 0x01020304
				want := f.AppendRequest(nil, tc.kreq, corr)

				h := RequestHeader{Key: tc.ours.Key(), Version: tc.v, CorrelationID: corr, ClientID: clientID}
				require.Equal(t, want, AppendRequest(nil, h, tc.ours))

				// Our decoder reads kmsg's header and leaves exactly the body.
				r := NewReader(want[4:])
				got := DecodeRequestHeader(r)
				require.NoError(t, r.Err())
				require.Equal(t, h, got)
				require.Equal(t, fmt.Sprintf("%x", tc.ours.AppendTo(nil, tc.v)), fmt.Sprintf("%x", want[4+r.Offset():]))
			})
		}
	}
}

// TestRequestHeaderSkipsUnknownTags feeds a v2 header carrying a tagged
// field, which a future client could send.
func TestRequestHeaderSkipsUnknownTags(t *testing.T) {
	b := mustHex(t, `
		0000 0009 0000002a -- Produce v9, correlation 42
		ffff               -- null client id
		01 05 02 aabb      -- one tag (5), 2 bytes
		ee                 -- first body byte
	`)
	r := NewReader(b)
	h := DecodeRequestHeader(r)
	require.NoError(t, r.Err())
	require.Equal(t, RequestHeader{Key: KeyProduce, Version: 9, CorrelationID: 42}, h)
	require.Equal(t, 1, r.Remaining())
}

// TestResponseHeader checks response header bytes for flexible and
// non-flexible versions, taking flexibility from kmsg's response types, and
// that ApiVersions keeps header v0 even when its body is flexible.
func TestResponseHeader(t *testing.T) {
	tests := []struct {
		key Key
		v   int16
	}{
		{KeyProduce, 3}, {KeyProduce, 8}, {KeyProduce, 9}, {KeyProduce, 12},
		{KeyMetadata, 0}, {KeyMetadata, 8}, {KeyMetadata, 9}, {KeyMetadata, 12},
		{KeyAPIVersions, 0}, {KeyAPIVersions, 2}, {KeyAPIVersions, 3}, {KeyAPIVersions, 4},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v v%d", tt.key, tt.v), func(t *testing.T) {
			kresp := kmsg.ResponseForKey(int16(tt.key))
			kresp.SetVersion(tt.v)
			want := []byte{0xde, 0xad, 0xbe, 0xef}
			if kresp.IsFlexible() && tt.key != KeyAPIVersions {
				want = append(want, 0) // header v1: empty tag section
			}
			got := AppendResponseHeader(nil, tt.key, tt.v, -559038737) // 0xdeadbeef
			require.Equal(t, want, got)

			// Decoding reads exactly the header, tags included.
			withTag := append([]byte(nil), want...)
			if len(want) == 5 {
				withTag = append(want[:4:4], 0x01, 0x07, 0x01, 0xff) // one unknown tag
			}
			r := NewReader(append(withTag, 0x99))
			require.Equal(t, int32(-559038737), DecodeResponseHeader(r, tt.key, tt.v))
			require.NoError(t, r.Err())
			require.Equal(t, 1, r.Remaining())
		})
	}
}

// TestResponseHeaderAPIVersionsAlwaysV0 states the KIP-511 rule directly:
// no ApiVersions response header has tags, at any version.
func TestResponseHeaderAPIVersionsAlwaysV0(t *testing.T) {
	for _, v := range versionsOf(t, KeyAPIVersions) {
		require.Equal(t, int16(0), ResponseHeaderVersion(KeyAPIVersions, v), "v%d", v)
		require.Len(t, AppendResponseHeader(nil, KeyAPIVersions, v, 1), 4, "v%d", v)
	}
}
