package protocol

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func txRandTxnOffsetCommitRequest(rng *rand.Rand, v int16) *TxnOffsetCommitRequest {
	req := NewTxnOffsetCommitRequest()
	req.TransactionalID = randString(rng, 20)
	req.GroupID = randString(rng, 20)
	req.ProducerID = randInt64(rng)
	req.ProducerEpoch = randInt16(rng)
	if v >= 3 {
		req.GenerationID = randInt32(rng)
		req.MemberID = randString(rng, 20)
		req.GroupInstanceID = randNullableString(rng, 20)
	}
	for range randLen(rng, 3) {
		tp := TxnOffsetCommitRequestTopic{Name: randString(rng, 15)}
		for range randLen(rng, 4) {
			p := TxnOffsetCommitRequestPartition{
				PartitionIndex:       randInt32(rng),
				CommittedOffset:      randInt64(rng),
				CommittedLeaderEpoch: -1,
				CommittedMetadata:    randNullableString(rng, 20),
			}
			if v >= 2 {
				p.CommittedLeaderEpoch = randInt32(rng)
			}
			tp.Partitions = append(tp.Partitions, p)
		}
		req.Topics = append(req.Topics, tp)
	}
	return req
}

func TestTxnOffsetCommitRequestOracle(t *testing.T) {
	txOracle[*TxnOffsetCommitRequest, *kmsg.TxnOffsetCommitRequest]{
		key:     KeyTxnOffsetCommit,
		seed:    2801,
		ours:    txRandTxnOffsetCommitRequest,
		newOurs: func() *TxnOffsetCommitRequest { return new(TxnOffsetCommitRequest) },
		newKmsg: kmsg.NewPtrTxnOffsetCommitRequest,
		kmsg: func(rng *rand.Rand, v int16) *kmsg.TxnOffsetCommitRequest {
			flex := v >= 3
			k := kmsg.NewPtrTxnOffsetCommitRequest()
			k.Version = v
			k.TransactionalID = randString(rng, 20)
			k.Group = randString(rng, 20)
			k.ProducerID = randInt64(rng)
			k.ProducerEpoch = randInt16(rng)
			if v >= 3 {
				k.Generation = randInt32(rng)
				k.MemberID = randString(rng, 20)
				k.InstanceID = randNullableString(rng, 20)
			}
			for range randLen(rng, 3) {
				kt := kmsg.NewTxnOffsetCommitRequestTopic()
				kt.Topic = randString(rng, 15)
				for range randLen(rng, 4) {
					kp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
					kp.Partition = randInt32(rng)
					kp.Offset = randInt64(rng)
					if v >= 2 {
						kp.LeaderEpoch = randInt32(rng)
					}
					kp.Metadata = randNullableString(rng, 20)
					txTags(rng, flex, &kp.UnknownTags)
					kt.Partitions = append(kt.Partitions, kp)
				}
				txTags(rng, flex, &kt.UnknownTags)
				k.Topics = append(k.Topics, kt)
			}
			txTags(rng, flex, &k.UnknownTags)
			return k
		},
		conv: func(k *kmsg.TxnOffsetCommitRequest, v int16) *TxnOffsetCommitRequest {
			req := NewTxnOffsetCommitRequest()
			req.TransactionalID = k.TransactionalID
			req.GroupID = k.Group
			req.ProducerID = k.ProducerID
			req.ProducerEpoch = k.ProducerEpoch
			if v >= 3 {
				req.GenerationID = k.Generation
				req.MemberID = k.MemberID
				req.GroupInstanceID = k.InstanceID
			}
			for _, kt := range k.Topics {
				tp := TxnOffsetCommitRequestTopic{Name: kt.Topic}
				for _, kp := range kt.Partitions {
					p := TxnOffsetCommitRequestPartition{
						PartitionIndex:       kp.Partition,
						CommittedOffset:      kp.Offset,
						CommittedLeaderEpoch: -1,
						CommittedMetadata:    kp.Metadata,
					}
					if v >= 2 {
						p.CommittedLeaderEpoch = kp.LeaderEpoch
					}
					tp.Partitions = append(tp.Partitions, p)
				}
				req.Topics = append(req.Topics, tp)
			}
			return req
		},
	}.run(t)
}

func txRandTxnOffsetCommitResponse(rng *rand.Rand) *TxnOffsetCommitResponse {
	resp := &TxnOffsetCommitResponse{ThrottleTimeMillis: randInt32(rng)}
	for range randLen(rng, 3) {
		tp := TxnOffsetCommitResponseTopic{Name: randString(rng, 15)}
		for range randLen(rng, 4) {
			tp.Partitions = append(tp.Partitions, TxnOffsetCommitResponsePartition{
				PartitionIndex: randInt32(rng),
				ErrorCode:      randInt16(rng),
			})
		}
		resp.Topics = append(resp.Topics, tp)
	}
	return resp
}

func TestTxnOffsetCommitResponseOracle(t *testing.T) {
	txOracle[*TxnOffsetCommitResponse, *kmsg.TxnOffsetCommitResponse]{
		key:     KeyTxnOffsetCommit,
		seed:    2802,
		ours:    func(rng *rand.Rand, v int16) *TxnOffsetCommitResponse { return txRandTxnOffsetCommitResponse(rng) },
		newOurs: func() *TxnOffsetCommitResponse { return new(TxnOffsetCommitResponse) },
		newKmsg: kmsg.NewPtrTxnOffsetCommitResponse,
		kmsg: func(rng *rand.Rand, v int16) *kmsg.TxnOffsetCommitResponse {
			flex := v >= 3
			k := kmsg.NewPtrTxnOffsetCommitResponse()
			k.Version = v
			k.ThrottleMillis = randInt32(rng)
			for range randLen(rng, 3) {
				kt := kmsg.NewTxnOffsetCommitResponseTopic()
				kt.Topic = randString(rng, 15)
				for range randLen(rng, 4) {
					kp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
					kp.Partition = randInt32(rng)
					kp.ErrorCode = randInt16(rng)
					txTags(rng, flex, &kp.UnknownTags)
					kt.Partitions = append(kt.Partitions, kp)
				}
				txTags(rng, flex, &kt.UnknownTags)
				k.Topics = append(k.Topics, kt)
			}
			txTags(rng, flex, &k.UnknownTags)
			return k
		},
		conv: func(k *kmsg.TxnOffsetCommitResponse, v int16) *TxnOffsetCommitResponse {
			resp := &TxnOffsetCommitResponse{ThrottleTimeMillis: k.ThrottleMillis}
			for _, kt := range k.Topics {
				tp := TxnOffsetCommitResponseTopic{Name: kt.Topic}
				for _, kp := range kt.Partitions {
					tp.Partitions = append(tp.Partitions, TxnOffsetCommitResponsePartition{PartitionIndex: kp.Partition, ErrorCode: kp.ErrorCode})
				}
				resp.Topics = append(resp.Topics, tp)
			}
			return resp
		},
	}.run(t)
}

// TestTxnOffsetCommitDefaults checks that fields added in later versions
// decode to Kafka's defaults at earlier ones: generation -1 (v3) and
// leader epoch -1 (v2), which brokers read as "unknown", not as 0.
func TestTxnOffsetCommitDefaults(t *testing.T) {
	req := NewTxnOffsetCommitRequest()
	req.TransactionalID, req.GroupID = "tx", "g"
	req.Topics = []TxnOffsetCommitRequestTopic{{Name: "t", Partitions: []TxnOffsetCommitRequestPartition{{CommittedOffset: 5}}}}
	b := req.AppendTo(nil, 1)
	got := &TxnOffsetCommitRequest{GenerationID: 7}
	require.NoError(t, DecodeMessage(got, b, 1))
	require.Equal(t, int32(-1), got.GenerationID)
	require.Equal(t, int32(-1), got.Topics[0].Partitions[0].CommittedLeaderEpoch)
	require.Nil(t, got.GroupInstanceID)
}

func TestTxnOffsetCommitTruncated(t *testing.T) {
	rng := newRand(2803)
	for _, v := range versionsOf(t, KeyTxnOffsetCommit) {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			txRequireTruncationsFail(t, new(TxnOffsetCommitResponse), txRandTxnOffsetCommitResponse(rng).AppendTo(nil, v), v)
			txRequireTruncationsFail(t, new(TxnOffsetCommitRequest), txRandTxnOffsetCommitRequest(rng, v).AppendTo(nil, v), v)
		})
	}
}
