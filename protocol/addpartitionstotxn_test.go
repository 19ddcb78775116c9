package protocol

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func txRandTopics(rng *rand.Rand) []AddPartitionsToTxnTopic {
	var ts []AddPartitionsToTxnTopic
	for range randLen(rng, 3) {
		ts = append(ts, AddPartitionsToTxnTopic{Name: randString(rng, 15), Partitions: randInt32s(rng, 5)})
	}
	return ts
}

func txRandAddPartitionsToTxnRequest(rng *rand.Rand, v int16) *AddPartitionsToTxnRequest {
	req := new(AddPartitionsToTxnRequest)
	if v >= 4 {
		for range randLen(rng, 3) {
			req.Transactions = append(req.Transactions, AddPartitionsToTxnTransaction{
				TransactionalID: randString(rng, 15),
				ProducerID:      randInt64(rng),
				ProducerEpoch:   randInt16(rng),
				VerifyOnly:      randBool(rng),
				Topics:          txRandTopics(rng),
			})
		}
		return req
	}
	req.V3AndBelowTransactionalID = randString(rng, 15)
	req.V3AndBelowProducerID = randInt64(rng)
	req.V3AndBelowProducerEpoch = randInt16(rng)
	req.V3AndBelowTopics = txRandTopics(rng)
	return req
}

func TestAddPartitionsToTxnRequestOracle(t *testing.T) {
	txOracle[*AddPartitionsToTxnRequest, *kmsg.AddPartitionsToTxnRequest]{
		key:     KeyAddPartitionsToTxn,
		seed:    2401,
		ours:    txRandAddPartitionsToTxnRequest,
		newOurs: func() *AddPartitionsToTxnRequest { return new(AddPartitionsToTxnRequest) },
		newKmsg: kmsg.NewPtrAddPartitionsToTxnRequest,
		kmsg: func(rng *rand.Rand, v int16) *kmsg.AddPartitionsToTxnRequest {
			flex := v >= 3
			k := kmsg.NewPtrAddPartitionsToTxnRequest()
			k.Version = v
			if v >= 4 {
				for range randLen(rng, 3) {
					tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
					tx.TransactionalID = randString(rng, 15)
					tx.ProducerID = randInt64(rng)
					tx.ProducerEpoch = randInt16(rng)
					tx.VerifyOnly = randBool(rng)
					for range randLen(rng, 3) {
						tt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
						tt.Topic = randString(rng, 15)
						tt.Partitions = randInt32s(rng, 5)
						txTags(rng, true, &tt.UnknownTags)
						tx.Topics = append(tx.Topics, tt)
					}
					txTags(rng, true, &tx.UnknownTags)
					k.Transactions = append(k.Transactions, tx)
				}
			} else {
				k.TransactionalID = randString(rng, 15)
				k.ProducerID = randInt64(rng)
				k.ProducerEpoch = randInt16(rng)
				for range randLen(rng, 3) {
					tt := kmsg.NewAddPartitionsToTxnRequestTopic()
					tt.Topic = randString(rng, 15)
					tt.Partitions = randInt32s(rng, 5)
					txTags(rng, flex, &tt.UnknownTags)
					k.Topics = append(k.Topics, tt)
				}
			}
			txTags(rng, flex, &k.UnknownTags)
			return k
		},
		conv: func(k *kmsg.AddPartitionsToTxnRequest, v int16) *AddPartitionsToTxnRequest {
			req := new(AddPartitionsToTxnRequest)
			if v >= 4 {
				for _, tx := range k.Transactions {
					o := AddPartitionsToTxnTransaction{
						TransactionalID: tx.TransactionalID,
						ProducerID:      tx.ProducerID,
						ProducerEpoch:   tx.ProducerEpoch,
						VerifyOnly:      tx.VerifyOnly,
					}
					for _, tt := range tx.Topics {
						o.Topics = append(o.Topics, AddPartitionsToTxnTopic{Name: tt.Topic, Partitions: nilIfEmpty(tt.Partitions)})
					}
					req.Transactions = append(req.Transactions, o)
				}
				return req
			}
			req.V3AndBelowTransactionalID = k.TransactionalID
			req.V3AndBelowProducerID = k.ProducerID
			req.V3AndBelowProducerEpoch = k.ProducerEpoch
			for _, tt := range k.Topics {
				req.V3AndBelowTopics = append(req.V3AndBelowTopics, AddPartitionsToTxnTopic{Name: tt.Topic, Partitions: nilIfEmpty(tt.Partitions)})
			}
			return req
		},
	}.run(t)
}

func txRandTopicResults(rng *rand.Rand) []AddPartitionsToTxnTopicResult {
	var ts []AddPartitionsToTxnTopicResult
	for range randLen(rng, 3) {
		tr := AddPartitionsToTxnTopicResult{Name: randString(rng, 15)}
		for range randLen(rng, 4) {
			tr.ResultsByPartition = append(tr.ResultsByPartition, AddPartitionsToTxnPartitionResult{
				PartitionIndex:     randInt32(rng),
				PartitionErrorCode: randInt16(rng),
			})
		}
		ts = append(ts, tr)
	}
	return ts
}

func txRandAddPartitionsToTxnResponse(rng *rand.Rand, v int16) *AddPartitionsToTxnResponse {
	resp := &AddPartitionsToTxnResponse{ThrottleTimeMillis: randInt32(rng)}
	if v >= 4 {
		resp.ErrorCode = randInt16(rng)
		for range randLen(rng, 3) {
			resp.ResultsByTransaction = append(resp.ResultsByTransaction, AddPartitionsToTxnResult{
				TransactionalID: randString(rng, 15),
				TopicResults:    txRandTopicResults(rng),
			})
		}
		return resp
	}
	resp.ResultsByTopicV3AndBelow = txRandTopicResults(rng)
	return resp
}

func TestAddPartitionsToTxnResponseOracle(t *testing.T) {
	txOracle[*AddPartitionsToTxnResponse, *kmsg.AddPartitionsToTxnResponse]{
		key:     KeyAddPartitionsToTxn,
		seed:    2402,
		ours:    txRandAddPartitionsToTxnResponse,
		newOurs: func() *AddPartitionsToTxnResponse { return new(AddPartitionsToTxnResponse) },
		newKmsg: kmsg.NewPtrAddPartitionsToTxnResponse,
		kmsg: func(rng *rand.Rand, v int16) *kmsg.AddPartitionsToTxnResponse {
			flex := v >= 3
			k := kmsg.NewPtrAddPartitionsToTxnResponse()
			k.Version = v
			k.ThrottleMillis = randInt32(rng)
			if v >= 4 {
				k.ErrorCode = randInt16(rng)
				for range randLen(rng, 3) {
					tx := kmsg.NewAddPartitionsToTxnResponseTransaction()
					tx.TransactionalID = randString(rng, 15)
					for range randLen(rng, 3) {
						tt := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
						tt.Topic = randString(rng, 15)
						for range randLen(rng, 4) {
							p := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
							p.Partition = randInt32(rng)
							p.ErrorCode = randInt16(rng)
							txTags(rng, true, &p.UnknownTags)
							tt.Partitions = append(tt.Partitions, p)
						}
						txTags(rng, true, &tt.UnknownTags)
						tx.Topics = append(tx.Topics, tt)
					}
					txTags(rng, true, &tx.UnknownTags)
					k.Transactions = append(k.Transactions, tx)
				}
			} else {
				for range randLen(rng, 3) {
					tt := kmsg.NewAddPartitionsToTxnResponseTopic()
					tt.Topic = randString(rng, 15)
					for range randLen(rng, 4) {
						p := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
						p.Partition = randInt32(rng)
						p.ErrorCode = randInt16(rng)
						txTags(rng, flex, &p.UnknownTags)
						tt.Partitions = append(tt.Partitions, p)
					}
					txTags(rng, flex, &tt.UnknownTags)
					k.Topics = append(k.Topics, tt)
				}
			}
			txTags(rng, flex, &k.UnknownTags)
			return k
		},
		conv: func(k *kmsg.AddPartitionsToTxnResponse, v int16) *AddPartitionsToTxnResponse {
			resp := &AddPartitionsToTxnResponse{ThrottleTimeMillis: k.ThrottleMillis}
			if v >= 4 {
				resp.ErrorCode = k.ErrorCode
				for _, tx := range k.Transactions {
					o := AddPartitionsToTxnResult{TransactionalID: tx.TransactionalID}
					for _, tt := range tx.Topics {
						tr := AddPartitionsToTxnTopicResult{Name: tt.Topic}
						for _, p := range tt.Partitions {
							tr.ResultsByPartition = append(tr.ResultsByPartition,
								AddPartitionsToTxnPartitionResult{PartitionIndex: p.Partition, PartitionErrorCode: p.ErrorCode})
						}
						o.TopicResults = append(o.TopicResults, tr)
					}
					resp.ResultsByTransaction = append(resp.ResultsByTransaction, o)
				}
				return resp
			}
			for _, tt := range k.Topics {
				tr := AddPartitionsToTxnTopicResult{Name: tt.Topic}
				for _, p := range tt.Partitions {
					tr.ResultsByPartition = append(tr.ResultsByPartition,
						AddPartitionsToTxnPartitionResult{PartitionIndex: p.Partition, PartitionErrorCode: p.ErrorCode})
				}
				resp.ResultsByTopicV3AndBelow = append(resp.ResultsByTopicV3AndBelow, tr)
			}
			return resp
		},
	}.run(t)
}

// TestAddPartitionsToTxnGolden pins the client form (v3, flexible) byte by
// byte, as worked out from Kafka's schema.
func TestAddPartitionsToTxnGolden(t *testing.T) {
	req := &AddPartitionsToTxnRequest{
		V3AndBelowTransactionalID: "tx",
		V3AndBelowProducerID:      5,
		V3AndBelowProducerEpoch:   1,
		V3AndBelowTopics:          []AddPartitionsToTxnTopic{{Name: "t", Partitions: []int32{0, 2}}},
	}
	want := mustHex(t, ""+
		"03 7478"+ // transactional id "tx", compact
		"0000000000000005 0001"+ // producer id, epoch
		"02"+ // one topic
		"02 74"+ // "t"
		"03 00000000 00000002"+ // partitions [0 2]
		"00"+ // topic tags
		"00") // request tags
	require.Equal(t, want, req.AppendTo(nil, 3))
	got := new(AddPartitionsToTxnRequest)
	require.NoError(t, DecodeMessage(got, want, 3))
	require.Equal(t, req, got)
}

// TestTxnNullArrayRejected checks that a null array where the schema
// forbids one fails, as in Kafka, instead of reading as empty.
func TestTxnNullArrayRejected(t *testing.T) {
	tests := []struct {
		name string
		m    Message
		v    int16
		in   string
	}{
		{"AddPartitionsToTxnResponse v0", new(AddPartitionsToTxnResponse), 0, "00000000 ffffffff"},
		{"AddPartitionsToTxnResponse v4", new(AddPartitionsToTxnResponse), 4, "00000000 0000 00 00"},
		{"TxnOffsetCommitResponse v3", new(TxnOffsetCommitResponse), 3, "00000000 00 00"},
		{"SaslHandshakeResponse v1", new(SaslHandshakeResponse), 1, "0000 ffffffff"},
		{"FindCoordinatorResponse v4", new(FindCoordinatorResponse), 4, "00000000 00 00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, DecodeMessage(tt.m, mustHex(t, tt.in), tt.v), ErrMalformed)
		})
	}
}

func TestAddPartitionsToTxnTruncated(t *testing.T) {
	rng := newRand(2403)
	for _, v := range versionsOf(t, KeyAddPartitionsToTxn) {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			resp := txRandAddPartitionsToTxnResponse(rng, v)
			txRequireTruncationsFail(t, new(AddPartitionsToTxnResponse), resp.AppendTo(nil, v), v)
			req := txRandAddPartitionsToTxnRequest(rng, v)
			txRequireTruncationsFail(t, new(AddPartitionsToTxnRequest), req.AppendTo(nil, v), v)
		})
	}
}

// TestTxnRequestsAppendAllocs checks that encoding each request of this
// group into a buffer with room allocates nothing, which keeps the
// transactional send path allocation free.
func TestTxnRequestsAppendAllocs(t *testing.T) {
	tid := "txn-1"
	reqs := []Request{
		&InitProducerIDRequest{TransactionalID: &tid, TransactionTimeoutMillis: 60000, ProducerID: 3, ProducerEpoch: 1},
		&FindCoordinatorRequest{CoordinatorKey: tid, KeyType: CoordinatorTransaction, CoordinatorKeys: []string{tid}},
		&AddPartitionsToTxnRequest{
			V3AndBelowTransactionalID: tid,
			V3AndBelowTopics:          []AddPartitionsToTxnTopic{{Name: "t", Partitions: []int32{0, 1, 2}}},
			Transactions: []AddPartitionsToTxnTransaction{{TransactionalID: tid,
				Topics: []AddPartitionsToTxnTopic{{Name: "t", Partitions: []int32{0}}}}},
		},
		&AddOffsetsToTxnRequest{TransactionalID: tid, GroupID: "g"},
		&EndTxnRequest{TransactionalID: tid, Committed: true},
		&TxnOffsetCommitRequest{TransactionalID: tid, GroupID: "g", GroupInstanceID: &tid,
			Topics: []TxnOffsetCommitRequestTopic{{Name: "t", Partitions: []TxnOffsetCommitRequestPartition{{CommittedOffset: 9, CommittedMetadata: &tid}}}}},
		&SaslHandshakeRequest{Mechanism: "SCRAM-SHA-256"},
		&SaslAuthenticateRequest{AuthBytes: []byte("n,,n=user,r=nonce")},
	}
	buf := make([]byte, 0, 4096)
	for _, req := range reqs {
		a, _ := Info(req.Key())
		for v := a.Min; v <= a.Max; v++ {
			t.Run(fmt.Sprintf("%v/v%d", req.Key(), v), func(t *testing.T) {
				allocs := testing.AllocsPerRun(50, func() { buf = req.AppendTo(buf[:0], v) })
				require.Zero(t, allocs)
			})
		}
	}
}

// TestTxnMessageKinds checks each request's key and that ResponseKind
// returns the matching, default-valued response.
func TestTxnMessageKinds(t *testing.T) {
	tests := []struct {
		req  Request
		key  Key
		resp Response
	}{
		{new(InitProducerIDRequest), KeyInitProducerID, &InitProducerIDResponse{ProducerID: -1}},
		{new(FindCoordinatorRequest), KeyFindCoordinator, &FindCoordinatorResponse{}},
		{new(AddPartitionsToTxnRequest), KeyAddPartitionsToTxn, &AddPartitionsToTxnResponse{}},
		{new(AddOffsetsToTxnRequest), KeyAddOffsetsToTxn, &AddOffsetsToTxnResponse{}},
		{new(EndTxnRequest), KeyEndTxn, &EndTxnResponse{ProducerID: -1, ProducerEpoch: -1}},
		{new(TxnOffsetCommitRequest), KeyTxnOffsetCommit, &TxnOffsetCommitResponse{}},
		{new(SaslHandshakeRequest), KeySaslHandshake, &SaslHandshakeResponse{}},
		{new(SaslAuthenticateRequest), KeySaslAuthenticate, &SaslAuthenticateResponse{}},
	}
	for _, tt := range tests {
		t.Run(tt.key.String(), func(t *testing.T) {
			require.Equal(t, tt.key, tt.req.Key())
			resp := tt.req.ResponseKind()
			require.Equal(t, tt.key, resp.Key())
			require.Equal(t, tt.resp, resp)
		})
	}
}

// FuzzDecodeTxnResponses fuzzes the AddPartitionsToTxn, AddOffsetsToTxn,
// EndTxn and TxnOffsetCommit response decoders; kind picks the message.
func FuzzDecodeTxnResponses(f *testing.F) {
	rng := newRand(2404)
	for _, v := range versionsOf(f, KeyAddPartitionsToTxn) {
		f.Add(txRandAddPartitionsToTxnResponse(rng, v).AppendTo(nil, v), uint8(0), uint8(v))
	}
	for _, v := range versionsOf(f, KeyAddOffsetsToTxn) {
		resp := &AddOffsetsToTxnResponse{ThrottleTimeMillis: randInt32(rng), ErrorCode: randInt16(rng)}
		f.Add(resp.AppendTo(nil, v), uint8(1), uint8(v))
	}
	for _, v := range versionsOf(f, KeyEndTxn) {
		resp := &EndTxnResponse{ThrottleTimeMillis: 1, ErrorCode: 51, ProducerID: randInt64(rng), ProducerEpoch: randInt16(rng)}
		f.Add(resp.AppendTo(nil, v), uint8(2), uint8(v))
	}
	for _, v := range versionsOf(f, KeyTxnOffsetCommit) {
		f.Add(txRandTxnOffsetCommitResponse(rng).AppendTo(nil, v), uint8(3), uint8(v))
	}
	f.Fuzz(func(t *testing.T, data []byte, kind, sel uint8) {
		switch kind % 4 {
		case 0:
			checkFuzzRoundTrip[AddPartitionsToTxnResponse](t, data, fuzzVersion(KeyAddPartitionsToTxn, sel))
		case 1:
			checkFuzzRoundTrip[AddOffsetsToTxnResponse](t, data, fuzzVersion(KeyAddOffsetsToTxn, sel))
		case 2:
			checkFuzzRoundTrip[EndTxnResponse](t, data, fuzzVersion(KeyEndTxn, sel))
		case 3:
			checkFuzzRoundTrip[TxnOffsetCommitResponse](t, data, fuzzVersion(KeyTxnOffsetCommit, sel))
		}
	})
}

func BenchmarkAddPartitionsToTxnRequestAppend(b *testing.B) {
	b.ReportAllocs()
	req := &AddPartitionsToTxnRequest{
		V3AndBelowTransactionalID: "txn-1",
		V3AndBelowProducerID:      1000,
		V3AndBelowTopics: []AddPartitionsToTxnTopic{
			{Name: "orders", Partitions: []int32{0, 1, 2, 3, 4, 5, 6, 7}},
			{Name: "payments", Partitions: []int32{0, 1}},
		},
	}
	buf := make([]byte, 0, 512)
	for range b.N {
		buf = req.AppendTo(buf[:0], 3)
	}
}

func BenchmarkAddPartitionsToTxnResponseDecode(b *testing.B) {
	b.ReportAllocs()
	resp := &AddPartitionsToTxnResponse{ResultsByTopicV3AndBelow: []AddPartitionsToTxnTopicResult{
		{Name: "orders", ResultsByPartition: []AddPartitionsToTxnPartitionResult{{0, 0}, {1, 0}, {2, 0}, {3, 0}}},
	}}
	in := resp.AppendTo(nil, 3)
	var r Reader
	var got AddPartitionsToTxnResponse
	for range b.N {
		r.Reset(in)
		got.Decode(&r, 3)
	}
}
