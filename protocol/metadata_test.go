package protocol

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// randMetadataRequest returns a request holding only what version v can
// carry, including the three meanings of Topics where v can express them.
func randMetadataRequest(rng *rand.Rand, v int16) MetadataRequest {
	var req MetadataRequest
	switch n := randLen(rng, 4); {
	case n > 0:
		req.Topics = make([]MetadataRequestTopic, n)
		for i := range req.Topics {
			t := &req.Topics[i]
			if v >= 10 {
				t.TopicID = randUUID(rng)
				t.Name = randNullableString(rng, 16)
			} else {
				t.Name = strPtr(randString(rng, 16))
			}
		}
	case v >= 1 && randBool(rng):
		req.Topics = []MetadataRequestTopic{} // no topics; v0 cannot say this
	}
	if v >= 4 {
		req.AllowAutoTopicCreation = randBool(rng)
	}
	if v >= 8 && v <= 10 {
		req.IncludeClusterAuthorizedOperations = randBool(rng)
	}
	if v >= 8 {
		req.IncludeTopicAuthorizedOperations = randBool(rng)
	}
	return req
}

func metadataRequestToKmsg(rng *rand.Rand, req *MetadataRequest, v int16) *kmsg.MetadataRequest {
	k := kmsg.NewPtrMetadataRequest()
	k.Version = v
	flex := v >= 9
	if req.Topics != nil {
		k.Topics = []kmsg.MetadataRequestTopic{}
	}
	for _, t := range req.Topics {
		kt := kmsg.NewMetadataRequestTopic()
		kt.TopicID, kt.Topic = t.TopicID, t.Name
		if flex {
			randUnknownTags(rng, &kt.UnknownTags)
		}
		k.Topics = append(k.Topics, kt)
	}
	k.AllowAutoTopicCreation = req.AllowAutoTopicCreation
	k.IncludeClusterAuthorizedOperations = req.IncludeClusterAuthorizedOperations
	k.IncludeTopicAuthorizedOperations = req.IncludeTopicAuthorizedOperations
	if flex {
		randUnknownTags(rng, &k.UnknownTags)
	}
	return k
}

// metadataRequestFromKmsg maps kmsg's decoding onto our struct, keeping
// kmsg's distinction between a null and an empty topic array.
func metadataRequestFromKmsg(k *kmsg.MetadataRequest) MetadataRequest {
	req := MetadataRequest{
		AllowAutoTopicCreation:             k.AllowAutoTopicCreation,
		IncludeClusterAuthorizedOperations: k.IncludeClusterAuthorizedOperations,
		IncludeTopicAuthorizedOperations:   k.IncludeTopicAuthorizedOperations,
	}
	if k.Topics != nil {
		req.Topics = []MetadataRequestTopic{}
	}
	for _, kt := range k.Topics {
		req.Topics = append(req.Topics, MetadataRequestTopic{TopicID: kt.TopicID, Name: kt.Topic})
	}
	return req
}

func TestMetadataRequestOracle(t *testing.T) {
	for _, v := range versionsOf(t, KeyMetadata) {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			rng := newRand(200 + uint64(v))
			for range oracleIters {
				want := randMetadataRequest(rng, v)

				b := want.AppendTo(nil, v)
				k := kmsg.NewPtrMetadataRequest()
				decodeKmsg(t, k, b, v)
				fromK := metadataRequestFromKmsg(k)
				if v == 0 && len(fromK.Topics) == 0 {
					fromK.Topics = nil // at v0 an empty array means all topics
				}
				require.Equal(t, want, fromK, "kmsg decoding our v%d encoding", v)

				kb := metadataRequestToKmsg(rng, &want, v).AppendTo(nil)
				var got MetadataRequest
				decodeOurs(t, &got, kb, v)
				require.Equal(t, want, got, "our decoding of kmsg's v%d encoding", v)
			}
		})
	}
}

// TestMetadataRequestTopicsMeaning pins the wire form of "all topics" and
// "no topics" at the versions where they differ.
func TestMetadataRequestTopicsMeaning(t *testing.T) {
	tests := []struct {
		name   string
		topics []MetadataRequestTopic
		v      int16
		want   string
	}{
		{"all v0 is empty array", nil, 0, "00000000"},
		{"none v0 is also empty array", []MetadataRequestTopic{}, 0, "00000000"},
		{"all v1 is null array", nil, 1, "ffffffff"},
		{"none v1 is empty array", []MetadataRequestTopic{}, 1, "00000000"},
		// v9: the array, then allow_auto_topic_creation,
		// include_cluster_authorized_operations,
		// include_topic_authorized_operations and an empty tag section.
		{"all v9 is compact null", nil, 9, "00 000000 00"},
		{"none v9 is compact empty", []MetadataRequestTopic{}, 9, "01 000000 00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := MetadataRequest{Topics: tt.topics}
			got := req.AppendTo(nil, tt.v)
			require.Equal(t, mustHex(t, tt.want), got)
		})
	}
}

// randMetadataResponse returns a response holding only what version v can
// carry; absent fields keep Kafka's defaults.
func randMetadataResponse(rng *rand.Rand, v int16) MetadataResponse {
	resp := MetadataResponse{ControllerID: -1, ClusterAuthorizedOperations: AuthorizedOperationsUnknown}
	if v >= 3 {
		resp.ThrottleTimeMillis = randInt32(rng)
	}
	if n := randLen(rng, 4); n > 0 {
		resp.Brokers = make([]MetadataBroker, n)
		for i := range resp.Brokers {
			b := MetadataBroker{NodeID: randInt32(rng), Host: randString(rng, 20), Port: randInt32(rng)}
			if v >= 1 {
				b.Rack = randNullableString(rng, 8)
			}
			resp.Brokers[i] = b
		}
	}
	if v >= 2 {
		resp.ClusterID = randNullableString(rng, 22)
	}
	if v >= 1 {
		resp.ControllerID = randInt32(rng)
	}
	if n := randLen(rng, 3); n > 0 {
		resp.Topics = make([]MetadataTopic, n)
		for i := range resp.Topics {
			resp.Topics[i] = randMetadataTopic(rng, v)
		}
	}
	if v >= 8 && v <= 10 {
		resp.ClusterAuthorizedOperations = randInt32(rng)
	}
	if v >= 13 {
		resp.ErrorCode = randInt16(rng)
	}
	return resp
}

func randMetadataTopic(rng *rand.Rand, v int16) MetadataTopic {
	t := MetadataTopic{ErrorCode: randInt16(rng), TopicAuthorizedOperations: AuthorizedOperationsUnknown}
	if v >= 12 {
		t.Name = randNullableString(rng, 16)
	} else {
		t.Name = strPtr(randString(rng, 16))
	}
	if v >= 10 {
		t.TopicID = randUUID(rng)
	}
	if v >= 1 {
		t.IsInternal = randBool(rng)
	}
	if n := randLen(rng, 4); n > 0 {
		t.Partitions = make([]MetadataPartition, n)
		for i := range t.Partitions {
			p := MetadataPartition{
				ErrorCode: randInt16(rng), PartitionIndex: randInt32(rng), LeaderID: randInt32(rng),
				LeaderEpoch: -1, ReplicaNodes: randInt32s(rng, 5), IsrNodes: randInt32s(rng, 5),
			}
			if v >= 7 {
				p.LeaderEpoch = randInt32(rng)
			}
			if v >= 5 {
				p.OfflineReplicas = randInt32s(rng, 3)
			}
			t.Partitions[i] = p
		}
	}
	if v >= 8 {
		t.TopicAuthorizedOperations = randInt32(rng)
	}
	return t
}

func metadataResponseToKmsg(rng *rand.Rand, resp *MetadataResponse, v int16) *kmsg.MetadataResponse {
	k := kmsg.NewPtrMetadataResponse()
	k.Version = v
	flex := v >= 9
	k.ThrottleMillis = resp.ThrottleTimeMillis
	for _, b := range resp.Brokers {
		kb := kmsg.NewMetadataResponseBroker()
		kb.NodeID, kb.Host, kb.Port, kb.Rack = b.NodeID, b.Host, b.Port, b.Rack
		if flex {
			randUnknownTags(rng, &kb.UnknownTags)
		}
		k.Brokers = append(k.Brokers, kb)
	}
	k.ClusterID = resp.ClusterID
	k.ControllerID = resp.ControllerID
	for _, t := range resp.Topics {
		kt := kmsg.NewMetadataResponseTopic()
		kt.ErrorCode, kt.Topic, kt.TopicID, kt.IsInternal = t.ErrorCode, t.Name, t.TopicID, t.IsInternal
		kt.AuthorizedOperations = t.TopicAuthorizedOperations
		for _, p := range t.Partitions {
			kp := kmsg.NewMetadataResponseTopicPartition()
			kp.ErrorCode, kp.Partition, kp.Leader, kp.LeaderEpoch = p.ErrorCode, p.PartitionIndex, p.LeaderID, p.LeaderEpoch
			kp.Replicas, kp.ISR, kp.OfflineReplicas = p.ReplicaNodes, p.IsrNodes, p.OfflineReplicas
			if flex {
				randUnknownTags(rng, &kp.UnknownTags)
			}
			kt.Partitions = append(kt.Partitions, kp)
		}
		if flex {
			randUnknownTags(rng, &kt.UnknownTags)
		}
		k.Topics = append(k.Topics, kt)
	}
	k.AuthorizedOperations = resp.ClusterAuthorizedOperations
	k.ErrorCode = resp.ErrorCode
	if flex {
		randUnknownTags(rng, &k.UnknownTags)
	}
	return k
}

func metadataResponseFromKmsg(k *kmsg.MetadataResponse) MetadataResponse {
	resp := MetadataResponse{
		ThrottleTimeMillis: k.ThrottleMillis, ClusterID: k.ClusterID,
		ControllerID: k.ControllerID, ClusterAuthorizedOperations: k.AuthorizedOperations, ErrorCode: k.ErrorCode,
	}
	for _, kb := range k.Brokers {
		resp.Brokers = append(resp.Brokers, MetadataBroker{NodeID: kb.NodeID, Host: kb.Host, Port: kb.Port, Rack: kb.Rack})
	}
	for _, kt := range k.Topics {
		t := MetadataTopic{
			ErrorCode: kt.ErrorCode, Name: kt.Topic, TopicID: kt.TopicID, IsInternal: kt.IsInternal,
			TopicAuthorizedOperations: kt.AuthorizedOperations,
		}
		for _, kp := range kt.Partitions {
			t.Partitions = append(t.Partitions, MetadataPartition{
				ErrorCode: kp.ErrorCode, PartitionIndex: kp.Partition, LeaderID: kp.Leader, LeaderEpoch: kp.LeaderEpoch,
				ReplicaNodes: nilIfEmpty(kp.Replicas), IsrNodes: nilIfEmpty(kp.ISR), OfflineReplicas: nilIfEmpty(kp.OfflineReplicas),
			})
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

func TestMetadataResponseOracle(t *testing.T) {
	for _, v := range versionsOf(t, KeyMetadata) {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			rng := newRand(300 + uint64(v))
			for range oracleIters {
				want := randMetadataResponse(rng, v)

				b := want.AppendTo(nil, v)
				k := kmsg.NewPtrMetadataResponse()
				decodeKmsg(t, k, b, v)
				require.Equal(t, want, metadataResponseFromKmsg(k), "kmsg decoding our v%d encoding", v)

				kb := metadataResponseToKmsg(rng, &want, v).AppendTo(nil)
				var got MetadataResponse
				decodeOurs(t, &got, kb, v)
				require.Equal(t, want, got, "our decoding of kmsg's v%d encoding", v)
			}
		})
	}
}

// TestMetadataNilNameBeforeNullable checks that a nil name is sent as ""
// where the schema has no null, rather than as a null the broker rejects.
func TestMetadataNilNameBeforeNullable(t *testing.T) {
	for _, v := range []int16{0, 9, 11} {
		t.Run(fmt.Sprintf("response v%d", v), func(t *testing.T) {
			resp := MetadataResponse{Topics: []MetadataTopic{{Name: nil}}}
			var got MetadataResponse
			decodeOurs(t, &got, resp.AppendTo(nil, v), v)
			require.Len(t, got.Topics, 1)
			require.NotNil(t, got.Topics[0].Name)
			require.Equal(t, "", *got.Topics[0].Name)
		})
	}
	for _, v := range []int16{0, 9} {
		t.Run(fmt.Sprintf("request v%d", v), func(t *testing.T) {
			req := MetadataRequest{Topics: []MetadataRequestTopic{{Name: nil}}}
			var got MetadataRequest
			decodeOurs(t, &got, req.AppendTo(nil, v), v)
			require.Equal(t, []MetadataRequestTopic{{Name: strPtr("")}}, got.Topics)
		})
	}
}

func FuzzDecodeMetadataResponse(f *testing.F) {
	rng := newRand(902)
	for _, v := range versionsOf(f, KeyMetadata) {
		for range 3 {
			resp := randMetadataResponse(rng, v)
			f.Add(resp.AppendTo(nil, v), uint8(v))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		checkFuzzRoundTrip[MetadataResponse](t, data, fuzzVersion(KeyMetadata, sel))
	})
}
