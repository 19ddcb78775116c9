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
// the producer's completion goroutine for the record's partition, for
// successes and failures (including records that failed before they were
// appended). Neither may block for long; a panic is recovered and logged.
type Interceptor interface {
	OnSend(r *Record) *Record
	OnAcknowledgement(md RecordMetadata, err error)
}

// Callback receives a record's outcome. It runs on the producer's
// completion goroutine for the record's partition, in offset order for that
// partition; a slow callback delays only later callbacks of its partition,
// never the sender or other partitions.
type Callback func(md RecordMetadata, err error)
