package sender

// Response handling: every batch of a finished request ends in exactly one
// of three ways, decided here on the sender goroutine: completed (acked),
// re-enqueued for another attempt, or failed. Errors are classified as the
// Java Sender.completeBatch does, by whether Kafka's Errors.java marks them
// retriable (RetriableException): retriable codes are retried with
// exponential backoff until retries or delivery.timeout.ms run out, leader
// errors also refresh metadata (at once from a KIP-951 hint when the broker
// sent one), and everything else fails the batch.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/protocol"
)

// handle processes one finished request.
func (s *Sender) handle(r *inflight, now time.Time) {
	s.finished(r)
	s.requestDone(r, now)
	defer s.releaseExpired(r)
	if r.err != nil {
		// The connection failed or timed out: the request may or may not
		// have been written. Retry every batch (idempotence, when on, makes
		// that safe) and refresh metadata in case the broker is gone.
		s.meta.RequestUpdate()
		s.requestFailed(r.node, r.err)
		for _, b := range r.batches {
			b.MaybeWritten = true
			s.retryOrFail(b, &NetworkError{Node: r.node, Err: r.err}, now, false)
		}
		return
	}
	s.answered(r.node)
	s.completeResponse(r, now, true)
}

// finished takes a request that was answered or failed out of the
// in-flight bookkeeping.
func (s *Sender) finished(r *inflight) {
	s.inflight[r.node]--
	s.total--
	delete(s.outstanding, r)
	if s.mute != nil {
		s.mute.unmute(r.batches)
	}
	// Batches that already failed at delivery.timeout.ms belong to their
	// futures' callbacks now: nothing below may touch them.
	kept := r.batches[:0]
	for _, b := range r.batches {
		if b.Expired {
			r.expired = append(r.expired, b)
			continue
		}
		kept = append(kept, b)
	}
	clear(r.batches[len(kept):])
	r.batches = kept
}

// completeResponse matches a response's partitions to the request's
// batches. acks=0 requests have no response: their batches succeed with
// offset -1 once written.
func (s *Sender) completeResponse(r *inflight, now time.Time, mayRetry bool) {
	if r.resp == nil {
		for _, b := range r.batches {
			s.complete(b, -1, -1)
		}
		return
	}
	var pf partitionFinder
	for _, b := range r.batches {
		p := pf.find(r.resp, b.Topic, b.Partition)
		if p == nil {
			s.fail(b, &ResponseError{Topic: b.Topic, Partition: b.Partition, Reason: "partition missing from the Produce response"})
			continue
		}
		s.handlePartition(b, p, r.resp.NodeEndpoints, now, mayRetry)
	}
}

// partitionFinder looks a request's batches up in its response. Brokers
// answer in request order, so it tries the entry after the last match
// first: a request of thousands of partitions costs a step per batch, not a
// scan.
type partitionFinder struct{ t, p int }

func (f *partitionFinder) find(resp *protocol.ProduceResponse, topic string, partition int32) *protocol.ProduceResponsePartition {
	for _, t := range [2]int{f.t, f.t + 1} {
		if t >= len(resp.Topics) || resp.Topics[t].Name != topic {
			continue
		}
		ps := resp.Topics[t].Partitions
		p := f.p
		if t != f.t {
			p = 0
		}
		if p < len(ps) && ps[p].Index == partition {
			f.t, f.p = t, p+1
			return &ps[p]
		}
	}
	return findPartition(resp, topic, partition)
}

func findPartition(resp *protocol.ProduceResponse, topic string, partition int32) *protocol.ProduceResponsePartition {
	for i := range resp.Topics {
		t := &resp.Topics[i]
		if t.Name != topic {
			continue
		}
		for j := range t.Partitions {
			if t.Partitions[j].Index == partition {
				return &t.Partitions[j]
			}
		}
	}
	return nil
}

func (s *Sender) handlePartition(b *accumulator.Batch, p *protocol.ProduceResponsePartition, endpoints []protocol.NodeEndpoint, now time.Time, mayRetry bool) {
	kerr := protocol.KafkaError(p.ErrorCode, p.ErrorMessage)
	switch {
	case kerr == nil:
		s.complete(b, p.BaseOffset, p.LogAppendTimeMillis)
		return
	case errors.Is(kerr, protocol.ErrDuplicateSequenceNumber):
		// The broker already has this batch (an earlier attempt landed):
		// success, though the original offset is not known here.
		s.complete(b, p.BaseOffset, p.LogAppendTimeMillis)
		return
	}
	if errors.Is(kerr, protocol.ErrMessageTooLarge) && mayRetry && b.NumRecords() > 1 {
		s.split(b, kerr)
		return
	}
	if errors.Is(kerr, protocol.ErrRequestTimedOut) || errors.Is(kerr, protocol.ErrNotEnoughReplicasAfterAppend) || errors.Is(kerr, protocol.ErrNetworkException) {
		b.MaybeWritten = true
	}
	berr := s.batchError(b, kerr, p)
	if s.cfg.Producer != nil && mayRetry && s.cfg.Producer.CanRetry(b, kerr) {
		s.retryOrFail(b, berr, now, false)
		return
	}
	// Stale metadata: apply the KIP-951 hint when it is news, else refresh.
	// Only a leader we now know moved justifies retrying without backoff;
	// a hint we already had (or an older one) must not turn the retry into
	// a hot loop against the old leader.
	moved := false
	if isLeaderError(kerr) {
		if hint := p.CurrentLeader.LeaderID; hint >= 0 && hint != b.Node {
			moved = s.meta.UpdateLeader(b.Topic, b.Partition, hint, p.CurrentLeader.LeaderEpoch, endpoints)
			if !moved { // an earlier batch of the partition may have applied it
				l, ok := s.meta.Snapshot().Leader(b.Topic, b.Partition)
				moved = ok && l.NodeID == hint
			}
		}
		if !moved {
			s.meta.RequestUpdate()
		}
	}
	if !mayRetry || !kerr.Retriable {
		s.fail(b, berr)
		return
	}
	s.retryOrFail(b, berr, now, moved)
}

// isLeaderError reports the errors that mean our metadata is stale.
func isLeaderError(err error) bool {
	for _, e := range []*protocol.Error{
		protocol.ErrUnknownTopicOrPartition, protocol.ErrLeaderNotAvailable,
		protocol.ErrNotLeaderOrFollower, protocol.ErrFencedLeaderEpoch,
		protocol.ErrUnknownLeaderEpoch, protocol.ErrKafkaStorageError,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// batchError builds the error a failed batch reports, attaching per-record
// errors (Produce v8+) when the broker named records.
func (s *Sender) batchError(b *accumulator.Batch, kerr *protocol.Error, p *protocol.ProduceResponsePartition) error {
	if errors.Is(kerr, protocol.ErrMessageTooLarge) {
		// Kafka's ProduceResponse names no sizes (the broker sends no
		// message for RECORD_TOO_LARGE), so say what was refused: the
		// batch's size against the limits it broke.
		detail := fmt.Sprintf("a batch of %d bytes with %d records is over the broker's message.max.bytes or the topic's max.message.bytes", b.SizeBytes(), b.NumRecords())
		if kerr.Detail != "" {
			detail += "; the broker said: " + kerr.Detail
		}
		kerr = kerr.WithMessage(detail)
	}
	return &BatchError{Topic: b.Topic, Partition: b.Partition, Err: kerr, Records: b.NumRecords(), RecordErrors: recordErrors(kerr, p)}
}

func recordErrors(kerr *protocol.Error, p *protocol.ProduceResponsePartition) map[int32]error {
	if len(p.RecordErrors) == 0 {
		return nil
	}
	m := make(map[int32]error, len(p.RecordErrors))
	for _, re := range p.RecordErrors {
		e := kerr
		if re.BatchIndexErrorMessage != nil {
			e = kerr.WithMessage(*re.BatchIndexErrorMessage)
		}
		m[re.BatchIndex] = e
	}
	return m
}

// retryOrFail re-enqueues b if it has attempts and time left, else fails it.
func (s *Sender) retryOrFail(b *accumulator.Batch, err error, now time.Time, immediate bool) {
	select {
	case <-s.force:
		s.fail(b, errors.Join(ErrClosedInFlight, err))
		return
	default:
	}
	b.LastErr = err
	if b.Attempts > s.cfg.Retries || now.Sub(b.Created()) >= s.cfg.DeliveryTimeout {
		if now.Sub(b.Created()) >= s.cfg.DeliveryTimeout {
			err = &DeliveryTimeoutError{Topic: b.Topic, Partition: b.Partition, Timeout: s.cfg.DeliveryTimeout, Records: b.NumRecords(), Last: err}
		}
		s.fail(b, err)
		return
	}
	delay := time.Duration(0)
	if !immediate {
		delay = s.backoff(b.Attempts)
	}
	s.log.Debug("retrying batch", "broker", LastNode(b), "topic", b.Topic, "partition", b.Partition, "attempt", b.Attempts, "err", err, "backoff", delay)
	if s.cfg.Observer != nil {
		s.cfg.Observer.BatchRetried(b, err)
	}
	s.acc.Reenqueue(b, now.Add(delay))
}

func (s *Sender) complete(b *accumulator.Batch, baseOffset, logAppendTime int64) {
	if s.cfg.Producer != nil {
		s.cfg.Producer.Acked(b)
	}
	if s.cfg.Observer != nil {
		s.cfg.Observer.BatchAcked(b, baseOffset)
	}
	b.Complete(baseOffset, logAppendTime, nil, nil)
	s.completed(b)
}

func (s *Sender) fail(b *accumulator.Batch, err error) {
	if s.cfg.Producer != nil {
		s.cfg.Producer.Failed(b, err)
	}
	var recErrs map[int32]error
	var be *BatchError
	if errors.As(err, &be) {
		recErrs = be.RecordErrors
	}
	s.log.Debug("batch failed", "broker", LastNode(b), "topic", b.Topic, "partition", b.Partition, "attempt", b.Attempts, "records", b.NumRecords(), "err", err)
	if s.cfg.Observer != nil {
		s.cfg.Observer.BatchFailed(b, err)
	}
	b.Complete(-1, -1, err, recErrs)
	s.completed(b)
}

// split answers MESSAGE_TOO_LARGE for a batch of several records: its
// batch.size pieces go back to the front of the partition's queue.
func (s *Sender) split(b *accumulator.Batch, kerr *protocol.Error) {
	children, err := s.acc.Split(b)
	if err != nil {
		s.fail(b, &BatchError{Topic: b.Topic, Partition: b.Partition, Err: errors.Join(kerr, err), Records: b.NumRecords()})
		return
	}
	if s.cfg.Producer != nil {
		s.cfg.Producer.Split(b, children)
	}
	if s.cfg.Observer != nil {
		s.cfg.Observer.BatchSplit(b)
	}
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		n := 0
		for _, c := range children {
			n += c.NumRecords()
		}
		s.log.Debug("split a batch the broker found too large", "broker", LastNode(b), "topic", b.Topic, "partition", b.Partition, "records", n, "batches", len(children))
	}
}

// expireInFlight fails the batches of outstanding requests that reached
// delivery.timeout.ms, without waiting for the request to end, as the Java
// Sender does (getExpiredInflightBatches). Such a batch may have been
// written, so it is marked MaybeWritten: with idempotence its partition's
// sequence becomes unresolved (Java markSequenceUnresolved) and no epoch
// bump can make a resend of it a duplicate. Its memory stays pinned until
// the request ends, because the connection may still be writing its bytes.
// It returns how long until the next in-flight batch expires (0: none).
func (s *Sender) expireInFlight(now time.Time) time.Duration {
	next := time.Duration(0)
	soonest := func(d time.Duration) {
		if next == 0 || d < next {
			next = d
		}
	}
	for r := range s.outstanding {
		if d := s.cfg.DeliveryTimeout - now.Sub(r.oldest); d > 0 {
			soonest(d)
			continue
		}
		for _, b := range r.batches {
			if b.Expired {
				continue
			}
			if d := s.cfg.DeliveryTimeout - now.Sub(b.Created()); d > 0 {
				soonest(d)
				continue
			}
			b.Expired, b.MaybeWritten = true, true
			s.acc.Pin(b)
			s.fail(b, &DeliveryTimeoutError{Topic: b.Topic, Partition: b.Partition, Timeout: s.cfg.DeliveryTimeout, Records: b.NumRecords(),
				Last: &InFlightError{Node: r.node, Sent: r.sent, Waited: now.Sub(r.sent), Previous: b.LastErr}})
		}
	}
	return next
}

// releaseExpired ends the request's hold on its expired batches. An expired
// batch the broker then acknowledged was written after all: the idempotence
// state learns it (its partition's sequence is resolved).
func (s *Sender) releaseExpired(r *inflight) {
	for _, b := range r.expired {
		if s.cfg.Producer != nil && r.err == nil && r.resp != nil {
			if p := findPartition(r.resp, b.Topic, b.Partition); p != nil && protocol.KafkaError(p.ErrorCode, nil) == nil {
				s.cfg.Producer.Acked(b)
			}
		}
		s.acc.Unpin(b)
	}
	r.expired = nil
}
