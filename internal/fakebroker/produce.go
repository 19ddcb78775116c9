package fakebroker

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/tributary-go/tributary/internal/compress"
	"github.com/tributary-go/tributary/protocol"
)

// Produce handling. Validation is split so that sink mode stays cheap: the
// header checks and the CRC-32C run on the request's bytes in place, with no
// allocation; only with Config.Store is the batch copied and decoded with
// protocol.ReadBatch (which also decompresses and checks every record).
// Validation runs outside the partition lock; the leader check, the
// sequence checks and the append run under it.

// v2 batch header offsets, as KAFKA-FACTS.md lists them.
const (
	batchHeaderSize    = protocol.BatchHeaderSize
	offLength          = 8
	offMagic           = 16
	offCRC             = 17
	offAttributes      = 21
	offLastOffsetDelta = 23
	offProducerID      = 43
	offProducerEpoch   = 51
	offBaseSequence    = 53
	offRecordCount     = 57
	attrCodecMask      = 0x07
	attrControl        = 0x20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// produce answers a Produce request (the answer is discarded for acks=0).
// It reuses the connection's response value, so the result is valid only
// until the next request on the connection; the caller encodes it first.
func (c *brokerConn) produce(req *protocol.ProduceRequest, v int16, act *Action) *protocol.ProduceResponse {
	resp := &c.presp
	resp.ThrottleTimeMillis = 0
	resp.NodeEndpoints = resp.NodeEndpoints[:0]
	resp.Topics = resizeTopics(resp.Topics, len(req.Topics))
	validAcks := req.Acks == -1 || req.Acks == 0 || req.Acks == 1
	for i := range req.Topics {
		rt := &req.Topics[i]
		t := &resp.Topics[i]
		t.Name = rt.Name
		t.Partitions = resizePartitions(t.Partitions, len(rt.Partitions))
		for j := range rt.Partitions {
			rp := &rt.Partitions[j]
			out := &t.Partitions[j]
			*out = protocol.ProduceResponsePartition{
				Index: rp.Index, BaseOffset: -1, LogAppendTimeMillis: -1, LogStartOffset: -1,
				RecordErrors: out.RecordErrors[:0], CurrentLeader: protocol.NoLeader,
			}
			switch {
			case act.ErrorCode != 0 && !act.AppendThenError:
				c.actError(out, act)
			case !validAcks:
				out.ErrorCode = protocol.ErrInvalidRequiredAcks.Code
			default:
				c.b.appendPartition(c.node.id, rt.Name, rp, v, out)
				if act.ErrorCode != 0 && out.ErrorCode == 0 {
					c.actError(out, act)
				}
			}
			if out.CurrentLeader != protocol.NoLeader {
				c.addEndpoint(resp, out.CurrentLeader.LeaderID)
			}
		}
	}
	return resp
}

// actError turns a partition's answer into the Handler's error.
func (c *brokerConn) actError(out *protocol.ProduceResponsePartition, act *Action) {
	out.ErrorCode = act.ErrorCode
	out.BaseOffset = -1
	out.LogStartOffset = -1
	if act.Leader != nil {
		out.CurrentLeader = *act.Leader
	}
	out.RecordErrors = append(out.RecordErrors[:0], act.RecordErrors...)
}

// addEndpoint adds node id's endpoint to the response once.
func (c *brokerConn) addEndpoint(resp *protocol.ProduceResponse, id int32) {
	for _, e := range resp.NodeEndpoints {
		if e.NodeID == id {
			return
		}
	}
	if e, ok := c.b.endpoint(id); ok {
		resp.NodeEndpoints = append(resp.NodeEndpoints, e)
	}
}

// appendPartition validates and appends one partition's batch, filling out.
func (b *Broker) appendPartition(nodeID int32, topic string, rp *protocol.ProduceRequestPartition, v int16, out *protocol.ProduceResponsePartition) {
	p, err := b.partition(topic, rp.Index)
	if err != nil {
		out.ErrorCode = protocol.ErrUnknownTopicOrPartition.Code
		return
	}
	h, code := b.validate(rp.Records, v)
	var rb *protocol.RecordBatch
	if code == 0 && b.cfg.Store {
		decoded, _, err := protocol.ReadBatch(append([]byte(nil), rp.Records...))
		if err != nil {
			code = protocol.ErrCorruptMessage.Code
		} else {
			rb = &decoded
		}
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.leader != nodeID {
		out.ErrorCode = protocol.ErrNotLeaderOrFollower.Code
		out.CurrentLeader = protocol.LeaderIDAndEpoch{LeaderID: p.leader, LeaderEpoch: p.leaderEpoch}
		return
	}
	if code != 0 {
		out.ErrorCode = code
		return
	}
	if h.producerID >= 0 {
		code, off, dup := p.checkSequenceLocked(h, b.cfg.LegacyUnknownProducerID)
		if code != 0 {
			out.ErrorCode = code
			return
		}
		if dup {
			out.BaseOffset, out.LogStartOffset = off, 0
			return
		}
	}
	out.BaseOffset = p.appendLocked(h, rb)
	out.LogStartOffset = 0
}

// validate checks one partition's records as Kafka's LogValidator would,
// without allocating: exactly one v2 batch, a good CRC, a known codec,
// a consistent record count, within message.max.bytes.
func (b *Broker) validate(records []byte, v int16) (batchHeader, int16) {
	var h batchHeader
	if len(records) < batchHeaderSize {
		return h, protocol.ErrCorruptMessage.Code
	}
	if len(records) > b.cfg.MaxMessageBytes {
		return h, protocol.ErrMessageTooLarge.Code
	}
	total := 12 + int64(int32(binary.BigEndian.Uint32(records[offLength:])))
	switch {
	case total < batchHeaderSize || total > int64(len(records)):
		return h, protocol.ErrCorruptMessage.Code
	case total < int64(len(records)):
		// Produce v3+ must carry exactly one batch per partition.
		return h, protocol.ErrInvalidRecord.Code
	}
	if records[offMagic] != 2 {
		return h, protocol.ErrCorruptMessage.Code
	}
	if crc32.Checksum(records[offAttributes:], castagnoli) != binary.BigEndian.Uint32(records[offCRC:]) {
		return h, protocol.ErrCorruptMessage.Code
	}
	attrs := binary.BigEndian.Uint16(records[offAttributes:])
	switch codec := compress.Codec(attrs & attrCodecMask); {
	case codec > compress.Zstd:
		return h, protocol.ErrCorruptMessage.Code
	case codec == compress.Zstd && v < 7:
		return h, protocol.ErrUnsupportedCompressionType.Code
	}
	if attrs&attrControl != 0 {
		return h, protocol.ErrInvalidRecord.Code // clients may not write control batches
	}
	h = batchHeader{
		producerID: int64(binary.BigEndian.Uint64(records[offProducerID:])),
		epoch:      int16(binary.BigEndian.Uint16(records[offProducerEpoch:])),
		baseSeq:    int32(binary.BigEndian.Uint32(records[offBaseSequence:])),
		count:      int32(binary.BigEndian.Uint32(records[offRecordCount:])),
	}
	if h.count <= 0 || int32(binary.BigEndian.Uint32(records[offLastOffsetDelta:])) != h.count-1 {
		return h, protocol.ErrInvalidRecord.Code
	}
	if h.producerID >= 0 && (h.epoch < 0 || h.baseSeq < 0) {
		return h, protocol.ErrInvalidRecord.Code
	}
	return h, 0
}

func resizeTopics(s []protocol.ProduceResponseTopic, n int) []protocol.ProduceResponseTopic {
	if n <= cap(s) {
		return s[:n]
	}
	return append(s[:cap(s)], make([]protocol.ProduceResponseTopic, n-cap(s))...)
}

func resizePartitions(s []protocol.ProduceResponsePartition, n int) []protocol.ProduceResponsePartition {
	if n <= cap(s) {
		return s[:n]
	}
	return append(s[:cap(s)], make([]protocol.ProduceResponsePartition, n-cap(s))...)
}
