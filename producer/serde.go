package producer

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrSerialization is matched (with errors.Is) by every
// *SerializationError.
var ErrSerialization = errors.New("producer: serialization failed")

// SerializationError reports a key or value that its Serializer could not
// turn into bytes; the record was not sent. It wraps the serializer's
// error and matches ErrSerialization.
type SerializationError struct {
	Topic string
	IsKey bool // the key failed, not the value
	Err   error
}

func (e *SerializationError) Error() string {
	what := "value"
	if e.IsKey {
		what = "key"
	}
	return fmt.Sprintf("producer: serializing %s for topic %q: %v", what, e.Topic, e.Err)
}

// Unwrap returns the serializer's error.
func (e *SerializationError) Unwrap() error { return e.Err }

// Is reports whether target is ErrSerialization.
func (e *SerializationError) Is(target error) bool { return target == ErrSerialization }

// Serializer turns a key or value of type T into the bytes of a record,
// like Java's org.apache.kafka.common.serialization.Serializer. topic is
// the record's topic, for serializers that depend on it (schema
// registries). A nil result is sent as null. Implementations must be safe
// for concurrent use. The producer keeps neither v nor the returned slice:
// Send copies the bytes into its batch before it returns.
type Serializer[T any] interface {
	Serialize(topic string, v T) ([]byte, error)
}

// SerializerFunc adapts an ordinary function to the Serializer interface.
// The function must be safe for concurrent use.
type SerializerFunc[T any] func(topic string, v T) ([]byte, error)

// Serialize returns f(topic, v).
func (f SerializerFunc[T]) Serialize(topic string, v T) ([]byte, error) { return f(topic, v) }

// BytesSerializer returns a Serializer that passes byte slices through
// unchanged (a nil slice is null), like Java's ByteArraySerializer. It is
// safe for concurrent use and does not allocate.
func BytesSerializer() Serializer[[]byte] { return bytesSerializer{} }

type bytesSerializer struct{}

func (bytesSerializer) Serialize(_ string, v []byte) ([]byte, error) { return v, nil }

// StringSerializer returns a Serializer that encodes a string as its UTF-8
// bytes, like Java's StringSerializer with its default UTF-8 encoding. The
// empty string becomes an empty, non-null key or value; use
// TypedRecord.NullKey or NullValue to send null. It is safe for concurrent
// use.
func StringSerializer() Serializer[string] { return stringSerializer{} }

type stringSerializer struct{}

func (stringSerializer) Serialize(_ string, v string) ([]byte, error) {
	if v == "" {
		return []byte{}, nil
	}
	return []byte(v), nil
}

// JSONSerializer returns a Serializer that encodes values with
// encoding/json. A nil pointer, map or slice encodes as the JSON text
// "null", not as a Kafka null; use TypedRecord.NullKey or NullValue for
// that. Values json.Marshal rejects (channels, functions, cyclic data,
// NaN) fail with its error. It is safe for concurrent use.
func JSONSerializer[T any]() Serializer[T] { return jsonSerializer[T]{} }

type jsonSerializer[T any] struct{}

func (jsonSerializer[T]) Serialize(_ string, v T) ([]byte, error) { return json.Marshal(v) }

// Int32Serializer returns a Serializer that encodes an int32 as 4 bytes,
// big-endian two's complement, like Java's IntegerSerializer. It is safe
// for concurrent use.
func Int32Serializer() Serializer[int32] { return int32Serializer{} }

type int32Serializer struct{}

func (int32Serializer) Serialize(_ string, v int32) ([]byte, error) {
	return binary.BigEndian.AppendUint32(make([]byte, 0, 4), uint32(v)), nil
}

// Int64Serializer returns a Serializer that encodes an int64 as 8 bytes,
// big-endian two's complement, like Java's LongSerializer. It is safe for
// concurrent use.
func Int64Serializer() Serializer[int64] { return int64Serializer{} }

type int64Serializer struct{}

func (int64Serializer) Serialize(_ string, v int64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(v)), nil
}
