package accumulator

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of the accumulator. Typed errors below match them with
// errors.Is.
var (
	// ErrClosed is returned by Append and Allocate after Close.
	ErrClosed = errors.New("accumulator: closed")
	// ErrBufferExhausted is matched by *BufferExhaustedError.
	ErrBufferExhausted = errors.New("accumulator: buffer memory exhausted")
	// ErrRecordTooLarge is matched by *RecordTooLargeError.
	ErrRecordTooLarge = errors.New("accumulator: record too large")
	// ErrDeliveryTimeout fails batches that were not acknowledged within
	// delivery.timeout.ms.
	ErrDeliveryTimeout = errors.New("accumulator: delivery timeout expired")
	// ErrAborted fails batches that Abort removed (Close past its deadline,
	// an aborted transaction, a fatal producer error).
	ErrAborted = errors.New("accumulator: batch aborted before it was sent")

	errMaxBlock = errors.New("max.block.ms elapsed")
)

// BufferExhaustedError reports that Allocate waited for memory and gave up,
// because max.block.ms passed or the caller's context ended.
type BufferExhaustedError struct {
	Size   int           // bytes requested
	Total  int64         // buffer.memory
	Waited time.Duration // how long the caller waited
	Cause  error         // context error, or nil for max.block.ms
}

func (e *BufferExhaustedError) Error() string {
	why := "max.block.ms elapsed"
	if e.Cause != nil && !errors.Is(e.Cause, errMaxBlock) {
		why = e.Cause.Error()
	}
	return fmt.Sprintf("accumulator: no buffer memory for %d bytes after %v (buffer.memory=%d): %s",
		e.Size, e.Waited.Round(time.Millisecond), e.Total, why)
}

// Is makes the error match ErrBufferExhausted.
func (e *BufferExhaustedError) Is(target error) bool { return target == ErrBufferExhausted }

// Unwrap returns the context error that ended the wait, if any.
func (e *BufferExhaustedError) Unwrap() error {
	if errors.Is(e.Cause, errMaxBlock) {
		return nil
	}
	return e.Cause
}

// RecordTooLargeError reports a record whose serialized size exceeds a
// limit, named by its Java setting (max.request.size or buffer.memory).
type RecordTooLargeError struct {
	Size    int    // serialized size, batch header included
	Max     int    // the limit
	Setting string // the Java property name of the limit
}

func (e *RecordTooLargeError) Error() string {
	return fmt.Sprintf("accumulator: record of %d bytes (with batch overhead) exceeds %s=%d", e.Size, e.Setting, e.Max)
}

// Is makes the error match ErrRecordTooLarge.
func (e *RecordTooLargeError) Is(target error) bool { return target == ErrRecordTooLarge }
