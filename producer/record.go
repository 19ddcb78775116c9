package producer

import (
	"time"

	"github.com/tributary-go/tributary/protocol"
)

// Header is a record header: a string key and an optional value (nil is a
// null value).
type Header = protocol.Header

// Record is one record to send. The zero value of Partition with
// UsePartition false lets the partitioner choose; set UsePartition to send
// to Partition explicitly. A nil Value is a tombstone (null value); a zero
// Timestamp means "now".
//
// Send copies Key, Value and Headers into the batch before it returns, so
// the caller may reuse them (and the Record) afterwards.
type Record struct {
	Topic        string
	Key          []byte
	Value        []byte
	Headers      []Header
	Timestamp    time.Time
	Partition    int32
	UsePartition bool
}

// RecordMetadata describes a record the broker acknowledged (or that
// failed): where it went and what it weighed.
type RecordMetadata struct {
	Topic     string
	Partition int32
	// Offset is the record's offset, or -1 when unknown (acks=0, or the
	// send failed).
	Offset int64
	// Timestamp is the record's timestamp: the one sent, or the broker's
	// log-append time when the topic uses LogAppendTime.
	Timestamp time.Time
	// SerializedKeySize and SerializedValueSize are -1 for null.
	SerializedKeySize   int
	SerializedValueSize int
}

// Interceptor sees every record before it is partitioned and every
// acknowledgement, like the Java ProducerInterceptor. Implementations must
// be safe for concurrent use. OnSend runs on the caller's goroutine and may
// return a replacement record (or the same one); OnAcknowledgement runs on
// one of the producer's completion workers, in offset order per partition,
// for successes and failures (for a record that failed before it was
// appended, on the goroutine that called Send). Neither may block for
// long; a panic is recovered and logged.
type Interceptor interface {
	OnSend(r *Record) *Record
	OnAcknowledgement(md RecordMetadata, err error)
}

// Callback receives a record's outcome. It runs on one of the producer's
// completion workers (at most max(4, GOMAXPROCS)), in offset order for its
// partition; a slow callback delays the later callbacks of its partition
// and occupies one worker, never the sender. Keep it quick, as in Java
// (which runs every callback on its one I/O thread): callbacks blocked in
// every worker at once stall all completions.
type Callback func(md RecordMetadata, err error)
