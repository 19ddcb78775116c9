package producer

import (
	"context"
	"time"
)

// Typed sends records whose keys and values are Go values of types K and
// V, serialized by the Serializers it was made with; it is the Go form of
// Java's KafkaProducer<K, V>. It sends through any Interface: a *Producer,
// or a producertest.Producer in unit tests. It adds no state of its own to
// the Producer: any number of Typed values may share one Producer, and a
// Typed is safe for concurrent use when its serializers are. Close the
// Producer, not the Typed.
type Typed[K, V any] struct {
	p      Interface
	keys   Serializer[K]
	values Serializer[V]
}

// TypedRecord is a record before serialization. Key and Value are
// serialized unless NullKey or NullValue asks for a null instead (a null
// value is a tombstone). The other fields mean what they mean in Record.
type TypedRecord[K, V any] struct {
	Topic        string
	Key          K
	Value        V
	NullKey      bool // send a null key; Key is not serialized
	NullValue    bool // send a null value; Value is not serialized
	Headers      []Header
	Timestamp    time.Time // zero means now
	Partition    int32
	UsePartition bool // send to Partition instead of asking the partitioner
}

// NewTyped returns a Typed that sends through p (a *Producer, or any other
// Interface such as a producertest.Producer), serializing keys with keys
// and values with values. It panics if either serializer is nil.
func NewTyped[K, V any](p Interface, keys Serializer[K], values Serializer[V]) *Typed[K, V] {
	if keys == nil || values == nil {
		panic("producer: NewTyped with a nil serializer")
	}
	return &Typed[K, V]{p: p, keys: keys, values: values}
}

// Producer returns the *Producer t sends through, or nil when t was made
// with another Interface implementation (see Sender).
func (t *Typed[K, V]) Producer() *Producer {
	p, _ := t.p.(*Producer)
	return p
}

// Sender returns the Interface t sends through, whatever its type.
func (t *Typed[K, V]) Sender() Interface { return t.p }

// Record serializes r into the Record that Send would hand to the
// Producer: the key first, then the value, each with r.Topic. It returns
// ErrNilRecord for a nil r and a *SerializationError when a serializer
// fails. It does not block (beyond the serializers) and keeps nothing; the
// Record shares r's Headers slice.
func (t *Typed[K, V]) Record(r *TypedRecord[K, V]) (*Record, error) {
	if r == nil {
		return nil, ErrNilRecord
	}
	rec := &Record{
		Topic:        r.Topic,
		Headers:      r.Headers,
		Timestamp:    r.Timestamp,
		Partition:    r.Partition,
		UsePartition: r.UsePartition,
	}
	var err error
	if !r.NullKey {
		if rec.Key, err = t.keys.Serialize(r.Topic, r.Key); err != nil {
			return nil, &SerializationError{Topic: r.Topic, IsKey: true, Err: err}
		}
	}
	if !r.NullValue {
		if rec.Value, err = t.values.Serialize(r.Topic, r.Value); err != nil {
			return nil, &SerializationError{Topic: r.Topic, Err: err}
		}
	}
	return rec, nil
}

// Send serializes r and sends it with Producer.Send, returning its Future;
// it blocks as Producer.Send does. If serialization fails, the record is
// not sent and the Future is already failed with a *SerializationError;
// interceptors do not see it (they see records only from Producer.Send on,
// so every OnAcknowledgement follows an OnSend). Send is safe for concurrent use; r may be reused once it returns.
func (t *Typed[K, V]) Send(ctx context.Context, r *TypedRecord[K, V]) *Future {
	rec, err := t.Record(r)
	if err != nil {
		topic, partition := "", int32(-1)
		if r != nil {
			topic = r.Topic
			if r.UsePartition {
				partition = r.Partition
			}
		}
		return failedFuture(topic, partition, err)
	}
	return t.p.Send(ctx, rec)
}

// SendCallback serializes r and sends it with Producer.SendCallback. If
// serialization fails, the record is not sent and cb runs on the calling
// goroutine, before SendCallback returns, with a *SerializationError (or
// ErrNilRecord); interceptors do not see it, as with Send. SendCallback is safe for concurrent use; r may be reused
// once it returns.
func (t *Typed[K, V]) SendCallback(ctx context.Context, r *TypedRecord[K, V], cb Callback) {
	rec, err := t.Record(r)
	if err != nil {
		md := RecordMetadata{Partition: -1, Offset: -1, SerializedKeySize: -1, SerializedValueSize: -1}
		if r != nil {
			md.Topic = r.Topic
		}
		if cb != nil {
			cb(md, err)
		}
		return
	}
	t.p.SendCallback(ctx, rec, cb)
}
