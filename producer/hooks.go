package producer

import (
	"fmt"
	"slices"
	"time"
)

// Hook receives the producer's events for a custom metrics sink, tracing
// or auditing. A Hook is any value that implements one or more of
// BatchWrittenHook, RequestDoneHook, RetryHook, ErrorHook and
// BatchAckedHook; register hooks with WithHooks.
//
// Hooks run synchronously on the producer's sender goroutine, once per
// batch or per request (never per record), in the order they were given.
// While a hook runs, no request is written and no response is handled, so
// a hook must be fast and must never block: update atomic counters, or
// hand the event to a buffered channel and drop it when the channel is
// full. A hook must not call the Producer (Flush or CommitTransaction
// would wait for the sender, which waits for the hook). A panic in a hook
// is recovered and logged. The event values are copies the hook may keep.
type Hook any

// BatchWrittenHook is told about every record batch written to a broker,
// once per attempt (a retried batch is reported again, with a higher
// Attempt).
type BatchWrittenHook interface {
	OnBatchWritten(BatchInfo)
}

// RequestDoneHook is told about every Produce request that finished:
// answered, written with acks=0, or failed with its connection.
type RequestDoneHook interface {
	OnRequestDone(RequestInfo)
}

// RetryHook is told about every batch put back for another attempt, with
// the error that caused the retry.
type RetryHook interface {
	OnRetry(BatchInfo, error)
}

// ErrorHook is told about every batch that failed for good, with the error
// its records' futures report. Records that fail inside Send (before they
// join a batch) are not reported here; Send returns their error.
type ErrorHook interface {
	OnError(BatchInfo, error)
}

// BatchAckedHook is told about every batch the broker acknowledged, with
// the offset of its first record (-1 when unknown, with acks=0).
type BatchAckedHook interface {
	OnBatchAcked(info BatchInfo, baseOffset int64)
}

// BatchInfo describes one record batch of one partition in a hook event.
type BatchInfo struct {
	Topic     string
	Partition int32
	// Node is the broker the batch was last written to, -1 if never.
	Node int32
	// Records is the number of records in the batch.
	Records int
	// Bytes is the batch's encoded size as written (after compression);
	// 0 if it was never written.
	Bytes int
	// UncompressedBytes is the size before compression (equal to Bytes
	// without compression).
	UncompressedBytes int
	// Attempt counts writes of the batch so far (1 on the first write).
	Attempt int
	// QueueTime is the time from the batch's creation to this event.
	QueueTime time.Duration
}

// RequestInfo describes one finished Produce request in a hook event.
type RequestInfo struct {
	Node    int32 // the broker
	Batches int   // batches in the request
	Records int   // records in the request
	Bytes   int   // encoded batch bytes in the request
	// Latency is the time from writing the request to its response; 0
	// when no response came (acks=0, or Err is set).
	Latency time.Duration
	// Throttle is the broker's throttle time from the response.
	Throttle time.Duration
	// Err is the connection's error when the whole request failed; per
	// partition errors are reported to RetryHook and ErrorHook instead.
	Err error
}

// WithHooks adds hooks that receive the producer's events (see Hook).
// Go only (Java has no equivalent; its metrics reporters see only
// aggregates). Default: none. Each hook must implement at least one of the
// hook interfaces, or New fails with a *ConfigError. Options accumulate:
// hooks given by several WithHooks calls are all registered.
func WithHooks(hooks ...Hook) Option {
	hooks = slices.Clone(hooks)
	return func(c *config) {
		for _, h := range hooks {
			if !isHook(h) {
				c.deferred = append(c.deferred, &ConfigError{Key: "hooks", Value: fmt.Sprintf("%T", h),
					Reason: "implements none of BatchWrittenHook, RequestDoneHook, RetryHook, ErrorHook, BatchAckedHook"})
				continue
			}
			c.hooks = append(c.hooks, h)
		}
	}
}

func isHook(h Hook) bool {
	switch h.(type) {
	case BatchWrittenHook, RequestDoneHook, RetryHook, ErrorHook, BatchAckedHook:
		return true
	}
	return false
}

// hookSet holds the registered hooks by interface, resolved once.
type hookSet struct {
	written []BatchWrittenHook
	done    []RequestDoneHook
	retry   []RetryHook
	errs    []ErrorHook
	acked   []BatchAckedHook
}

func newHookSet(hooks []Hook) hookSet {
	var hs hookSet
	for _, h := range hooks {
		if x, ok := h.(BatchWrittenHook); ok {
			hs.written = append(hs.written, x)
		}
		if x, ok := h.(RequestDoneHook); ok {
			hs.done = append(hs.done, x)
		}
		if x, ok := h.(RetryHook); ok {
			hs.retry = append(hs.retry, x)
		}
		if x, ok := h.(ErrorHook); ok {
			hs.errs = append(hs.errs, x)
		}
		if x, ok := h.(BatchAckedHook); ok {
			hs.acked = append(hs.acked, x)
		}
	}
	return hs
}
