package fakebroker

import (
	"sync"

	"github.com/tributary-go/tributary/protocol"
)

// Partition logs and idempotent producer state.
//
// The sequence rules follow Kafka's ProducerStateManager, ProducerStateEntry
// and ProducerAppendInfo (storage/internals/log):
//
//   - Each (producer id, partition) keeps its epoch and the metadata of its
//     last five appended batches (first and last sequence, first offset).
//   - Before anything else, a batch whose epoch equals the entry's and whose
//     first and last sequence equal a cached batch's is a duplicate: it is
//     answered with success and the cached first offset, and not appended
//     (UnifiedLog's findDuplicateBatch; modern brokers no longer answer
//     DUPLICATE_SEQUENCE_NUMBER).
//   - An epoch below the entry's is INVALID_PRODUCER_EPOCH.
//   - A new (higher) epoch must start at sequence 0, else
//     OUT_OF_ORDER_SEQUENCE_NUMBER; the same epoch must continue at last
//     sequence + 1 (wrapping from MaxInt32 to 0), else the same error.
//   - A producer id the partition has no entry for may start anywhere
//     (checkSequence accepts any sequence when there is no current epoch);
//     Config.LegacyUnknownProducerID restores the pre-2.5 answer,
//     UNKNOWN_PRODUCER_ID for a non-zero sequence.
//
// Producer state belongs to the partition, not to a node, so it survives a
// leader move as replication would carry it.

// maxCachedBatches is how many recent batches Kafka remembers per producer
// and partition (ProducerStateEntry.NUM_BATCHES_TO_RETAIN).
const maxCachedBatches = 5

// partition is one partition's log. All fields are guarded by mu.
type partition struct {
	mu          sync.Mutex
	leader      int32
	leaderEpoch int32
	next        int64                    // the next offset, = records appended
	batches     []protocol.RecordBatch   // when Config.Store
	producers   map[int64]*producerState // idempotent producers seen
}

// producerState is one producer's state on one partition.
type producerState struct {
	epoch  int16
	recent [maxCachedBatches]batchMeta // ring of the last appended batches
	n      int                         // valid entries in recent
	head   int                         // index of the newest entry
}

type batchMeta struct {
	firstSeq, lastSeq int32
	firstOffset       int64
}

// lastSeq returns the newest batch's last sequence; ok=false when none.
func (s *producerState) lastSeq() (int32, bool) {
	if s.n == 0 {
		return 0, false
	}
	return s.recent[s.head].lastSeq, true
}

// duplicate returns the first offset of a cached batch with these
// sequences.
func (s *producerState) duplicate(firstSeq, lastSeq int32) (int64, bool) {
	for i := range s.n {
		m := s.recent[(s.head-i+maxCachedBatches)%maxCachedBatches]
		if m.firstSeq == firstSeq && m.lastSeq == lastSeq {
			return m.firstOffset, true
		}
	}
	return 0, false
}

// add records an appended batch; a new epoch forgets the old batches.
func (s *producerState) add(epoch int16, m batchMeta) {
	if epoch != s.epoch {
		s.epoch, s.n = epoch, 0
	}
	s.head = (s.head + 1) % maxCachedBatches
	s.recent[s.head] = m
	s.n = min(s.n+1, maxCachedBatches)
}

// batchHeader is what the sequence checks need from a batch.
type batchHeader struct {
	producerID int64
	epoch      int16
	baseSeq    int32
	count      int32
}

// lastSequence returns the batch's last sequence, wrapping as Kafka's
// DefaultRecordBatch.lastSequence does.
func (h batchHeader) lastSequence() int32 {
	return protocol.AddSequence(h.baseSeq, int(h.count)-1)
}

// checkSequenceLocked applies the idempotence rules to a batch about to be
// appended. It returns (code, 0, false) to reject it, (0, offset, true)
// for a duplicate, and (0, 0, false) to append it. p.mu is held.
func (p *partition) checkSequenceLocked(h batchHeader, legacyUnknown bool) (code int16, dupOffset int64, dup bool) {
	s := p.producers[h.producerID]
	if s != nil && h.epoch == s.epoch {
		if off, ok := s.duplicate(h.baseSeq, h.lastSequence()); ok {
			return 0, off, true
		}
	}
	switch {
	case s == nil:
		if legacyUnknown && h.baseSeq != 0 {
			return protocol.ErrUnknownProducerID.Code, 0, false
		}
	case h.epoch < s.epoch:
		return protocol.ErrInvalidProducerEpoch.Code, 0, false
	case h.epoch > s.epoch:
		if h.baseSeq != 0 {
			return protocol.ErrOutOfOrderSequenceNumber.Code, 0, false
		}
	default:
		last, ok := s.lastSeq()
		if ok && h.baseSeq != protocol.AddSequence(last, 1) {
			return protocol.ErrOutOfOrderSequenceNumber.Code, 0, false
		}
	}
	return 0, 0, false
}

// appendLocked assigns offsets to a validated batch, stores it when rb is
// not nil, and updates the producer's state. p.mu is held.
func (p *partition) appendLocked(h batchHeader, rb *protocol.RecordBatch) int64 {
	base := p.next
	p.next += int64(h.count)
	if rb != nil {
		rb.BaseOffset = base
		rb.PartitionLeaderEpoch = p.leaderEpoch
		p.batches = append(p.batches, *rb)
	}
	if h.producerID >= 0 {
		if p.producers == nil {
			p.producers = map[int64]*producerState{}
		}
		s := p.producers[h.producerID]
		if s == nil {
			s = &producerState{epoch: h.epoch}
			p.producers[h.producerID] = s
		}
		s.add(h.epoch, batchMeta{firstSeq: h.baseSeq, lastSeq: h.lastSequence(), firstOffset: base})
	}
	return base
}
