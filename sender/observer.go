package sender

import (
	"time"

	"github.com/tributary-go/tributary/accumulator"
)

// Observer hears what the sender does, for metrics and hooks. Every method
// is called on the sender goroutine, once per request or once per batch,
// never per record, and must return quickly without blocking: the sender
// does nothing else meanwhile. Batches passed in belong to the sender;
// an Observer must not keep them or their slices past the call.
type Observer interface {
	// RequestSent is called once per Produce request, just before it is
	// written, with its batches (Attempts already counts this write).
	RequestSent(node int32, batches []*accumulator.Batch, now time.Time)
	// RequestDone is called once per written request when it was
	// answered or failed (including acks=0 requests, once written).
	RequestDone(r RequestResult)
	// BatchRetried is called when b goes back into its queue for another
	// attempt after err.
	BatchRetried(b *accumulator.Batch, err error)
	// BatchFailed is called when b fails for good with err, just before
	// its futures resolve.
	BatchFailed(b *accumulator.Batch, err error)
	// BatchAcked is called when the broker acknowledged b, just before its
	// futures resolve; baseOffset is -1 when unknown (acks=0).
	BatchAcked(b *accumulator.Batch, baseOffset int64)
	// BatchSplit is called when b, rejected as too large, was split into
	// batch.size pieces.
	BatchSplit(b *accumulator.Batch)
}

// RequestResult describes a finished Produce request for an Observer.
type RequestResult struct {
	Node    int32
	Batches []*accumulator.Batch
	Sent    time.Time
	Done    time.Time
	// Answered reports that a response arrived (false for acks=0 and for
	// requests whose connection failed).
	Answered bool
	// Throttle is the broker's throttle time from the response.
	Throttle time.Duration
	// Err is the connection's error when the request failed as a whole.
	Err error
}

// requestDone tells the Observer, if any, that r finished at now.
func (s *Sender) requestDone(r *inflight, now time.Time) {
	if s.cfg.Observer == nil {
		return
	}
	res := RequestResult{Node: r.node, Batches: r.batches, Sent: r.sent, Done: now, Err: r.err}
	if r.resp != nil && r.err == nil {
		res.Answered = true
		res.Throttle = time.Duration(r.resp.ThrottleTimeMillis) * time.Millisecond
	}
	s.cfg.Observer.RequestDone(res)
}

// LastNode returns the broker b was last written to, or -1 if it never
// was (Batch.Node is meaningful only after a write).
func LastNode(b *accumulator.Batch) int32 {
	if b.Attempts == 0 {
		return -1
	}
	return b.Node
}
