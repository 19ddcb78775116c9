package producer

import (
	"errors"
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIntSerializers checks the bytes against Java's IntegerSerializer and
// LongSerializer (big-endian two's complement), written out by hand.
func TestIntSerializers(t *testing.T) {
	int32s := []struct {
		v    int32
		want []byte
	}{
		{0, []byte{0, 0, 0, 0}},
		{1, []byte{0, 0, 0, 1}},
		{-1, []byte{0xff, 0xff, 0xff, 0xff}},
		{256, []byte{0, 0, 1, 0}},
		{0x01020304, []byte{1, 2, 3, 4}},
		{math.MaxInt32, []byte{0x7f, 0xff, 0xff, 0xff}},
		{math.MinInt32, []byte{0x80, 0, 0, 0}},
	}
	for _, tt := range int32s {
		t.Run("int32 "+strconv.Itoa(int(tt.v)), func(t *testing.T) {
			got, err := Int32Serializer().Serialize("t", tt.v)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	int64s := []struct {
		v    int64
		want []byte
	}{
		{0, []byte{0, 0, 0, 0, 0, 0, 0, 0}},
		{1, []byte{0, 0, 0, 0, 0, 0, 0, 1}},
		{-1, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{0x0102030405060708, []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		{math.MaxInt64, []byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{math.MinInt64, []byte{0x80, 0, 0, 0, 0, 0, 0, 0}},
	}
	for _, tt := range int64s {
		t.Run("int64 "+strconv.FormatInt(tt.v, 10), func(t *testing.T) {
			got, err := Int64Serializer().Serialize("t", tt.v)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestStringSerializer(t *testing.T) {
	tests := []struct {
		v    string
		want []byte
	}{
		{"", []byte{}},
		{"abc", []byte("abc")},
		{"héllo, 世界", []byte{'h', 0xc3, 0xa9, 'l', 'l', 'o', ',', ' ', 0xe4, 0xb8, 0x96, 0xe7, 0x95, 0x8c}},
	}
	for _, tt := range tests {
		t.Run(tt.v, func(t *testing.T) {
			got, err := StringSerializer().Serialize("t", tt.v)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.NotNil(t, got, "a string never serializes to null")
		})
	}
}

func TestBytesSerializer(t *testing.T) {
	in := []byte("raw")
	got, err := BytesSerializer().Serialize("t", in)
	require.NoError(t, err)
	assert.Same(t, &in[0], &got[0], "passes the slice through without copying")

	got, err = BytesSerializer().Serialize("t", nil)
	require.NoError(t, err)
	assert.Nil(t, got, "nil stays null")

	got, err = BytesSerializer().Serialize("t", []byte{})
	require.NoError(t, err)
	assert.NotNil(t, got, "empty stays empty, not null")
}

type jsonEvent struct {
	ID   int      `json:"id"`
	Name string   `json:"name"`
	Tags []string `json:"tags,omitempty"`
}

func TestJSONSerializer(t *testing.T) {
	t.Run("struct", func(t *testing.T) {
		got, err := JSONSerializer[jsonEvent]().Serialize("t", jsonEvent{ID: 7, Name: "x", Tags: []string{"a"}})
		require.NoError(t, err)
		assert.Equal(t, `{"id":7,"name":"x","tags":["a"]}`, string(got))
	})
	t.Run("nil pointer is JSON null, not Kafka null", func(t *testing.T) {
		got, err := JSONSerializer[*jsonEvent]().Serialize("t", nil)
		require.NoError(t, err)
		assert.Equal(t, []byte("null"), got)
	})
	t.Run("map sorted", func(t *testing.T) {
		got, err := JSONSerializer[map[string]int]().Serialize("t", map[string]int{"b": 2, "a": 1})
		require.NoError(t, err)
		assert.Equal(t, `{"a":1,"b":2}`, string(got))
	})
	t.Run("unsupported value", func(t *testing.T) {
		_, err := JSONSerializer[any]().Serialize("t", make(chan int))
		require.Error(t, err)
	})
	t.Run("NaN", func(t *testing.T) {
		_, err := JSONSerializer[float64]().Serialize("t", math.NaN())
		require.Error(t, err)
	})
}

func TestSerializerFunc(t *testing.T) {
	var s Serializer[int] = SerializerFunc[int](func(topic string, v int) ([]byte, error) {
		return []byte(topic + "/" + strconv.Itoa(v)), nil
	})
	got, err := s.Serialize("orders", 42)
	require.NoError(t, err)
	assert.Equal(t, "orders/42", string(got))
}

func TestSerializationError(t *testing.T) {
	cause := errors.New("boom")
	tests := []struct {
		err  *SerializationError
		want string
	}{
		{&SerializationError{Topic: "t", IsKey: true, Err: cause}, `producer: serializing key for topic "t": boom`},
		{&SerializationError{Topic: "t", Err: cause}, `producer: serializing value for topic "t": boom`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error())
			assert.ErrorIs(t, tt.err, ErrSerialization)
			assert.ErrorIs(t, tt.err, cause)
			assert.NotErrorIs(t, tt.err, ErrInvalidConfig)
		})
	}
}

var errBadValue = errors.New("bad value")

// failing serializes ints, failing for negative ones, and counts its calls.
type failing struct {
	mu    sync.Mutex
	calls int
}

func (f *failing) Serialize(_ string, v int) ([]byte, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	if v < 0 {
		return nil, errBadValue
	}
	return []byte(strconv.Itoa(v)), nil
}

// TestTypedRecord checks the conversion from TypedRecord to Record.
func TestTypedRecord(t *testing.T) {
	ts := time.UnixMilli(1_700_000_000_000)
	headers := []Header{{Key: "h", Value: []byte("v")}, {Key: "null"}}
	tests := []struct {
		name       string
		rec        *TypedRecord[string, int]
		want       *Record
		errIsKey   *bool // non-nil: a *SerializationError is expected
		valueCalls int   // calls to the value serializer
	}{
		{
			name:       "plain",
			rec:        &TypedRecord[string, int]{Topic: "t", Key: "k", Value: 5},
			want:       &Record{Topic: "t", Key: []byte("k"), Value: []byte("5")},
			valueCalls: 1,
		},
		{
			name: "all fields",
			rec: &TypedRecord[string, int]{Topic: "t", Key: "k", Value: 5, Headers: headers, Timestamp: ts,
				Partition: 3, UsePartition: true},
			want:       &Record{Topic: "t", Key: []byte("k"), Value: []byte("5"), Headers: headers, Timestamp: ts, Partition: 3, UsePartition: true},
			valueCalls: 1,
		},
		{
			name:       "empty key is not null",
			rec:        &TypedRecord[string, int]{Topic: "t", Value: 1},
			want:       &Record{Topic: "t", Key: []byte{}, Value: []byte("1")},
			valueCalls: 1,
		},
		{
			name:       "null key",
			rec:        &TypedRecord[string, int]{Topic: "t", Key: "ignored", NullKey: true, Value: 1},
			want:       &Record{Topic: "t", Value: []byte("1")},
			valueCalls: 1,
		},
		{
			name: "null value (tombstone) skips the value serializer",
			rec:  &TypedRecord[string, int]{Topic: "t", Key: "k", Value: -1, NullValue: true},
			want: &Record{Topic: "t", Key: []byte("k")},
		},
		{
			name: "both null",
			rec:  &TypedRecord[string, int]{Topic: "t", NullKey: true, NullValue: true},
			want: &Record{Topic: "t"},
		},
		{
			name:       "value fails",
			rec:        &TypedRecord[string, int]{Topic: "t", Key: "k", Value: -1},
			errIsKey:   new(bool),
			valueCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := &failing{}
			typed := NewTyped[string, int](nil, StringSerializer(), values)
			got, err := typed.Record(tt.rec)
			assert.Equal(t, tt.valueCalls, values.calls)
			if tt.errIsKey != nil {
				require.Error(t, err)
				assert.Nil(t, got)
				var se *SerializationError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, *tt.errIsKey, se.IsKey)
				assert.Equal(t, tt.rec.Topic, se.Topic)
				assert.ErrorIs(t, err, errBadValue)
				assert.ErrorIs(t, err, ErrSerialization)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			if tt.want.Key == nil {
				assert.Nil(t, got.Key, "null key")
			} else {
				assert.NotNil(t, got.Key)
			}
			if tt.want.Value == nil {
				assert.Nil(t, got.Value, "null value")
			}
		})
	}
}

func TestTypedRecordKeyError(t *testing.T) {
	keys, values := &failing{}, &failing{}
	typed := NewTyped[int, int](nil, keys, values)
	_, err := typed.Record(&TypedRecord[int, int]{Topic: "t", Key: -1, Value: 1})
	var se *SerializationError
	require.ErrorAs(t, err, &se)
	assert.True(t, se.IsKey)
	assert.Equal(t, 0, values.calls, "the value is not serialized after the key failed")
	assert.Contains(t, err.Error(), "key")
	assert.Contains(t, err.Error(), `"t"`)
}

func TestTypedRecordSerializerSeesTopic(t *testing.T) {
	var topics []string
	ser := SerializerFunc[string](func(topic, v string) ([]byte, error) {
		topics = append(topics, topic)
		return []byte(v), nil
	})
	_, err := NewTyped(nil, ser, ser).Record(&TypedRecord[string, string]{Topic: "orders", Key: "k", Value: "v"})
	require.NoError(t, err)
	assert.Equal(t, []string{"orders", "orders"}, topics, "key first, then value, both with the topic")
}

func TestTypedRecordSerializerReturnsNil(t *testing.T) {
	null := SerializerFunc[string](func(string, string) ([]byte, error) { return nil, nil })
	rec, err := NewTyped(nil, null, null).Record(&TypedRecord[string, string]{Topic: "t", Key: "k", Value: "v"})
	require.NoError(t, err)
	assert.Nil(t, rec.Key)
	assert.Nil(t, rec.Value)
}

func TestTypedRecordNil(t *testing.T) {
	_, err := NewTyped(nil, StringSerializer(), StringSerializer()).Record(nil)
	assert.ErrorIs(t, err, ErrNilRecord)
}

// TestTypedSendSerializationFailure checks that Send and SendCallback fail
// at once, without reaching the Producer (nil here), when serialization
// fails.
func TestTypedSendSerializationFailure(t *testing.T) {
	typed := NewTyped[string, int](nil, StringSerializer(), &failing{})
	bad := &TypedRecord[string, int]{Topic: "t", Key: "k", Value: -1, Partition: 2, UsePartition: true}

	t.Run("Send", func(t *testing.T) {
		f := typed.Send(t.Context(), bad)
		select {
		case <-f.Done():
		default:
			t.Fatal("future not done")
		}
		md, err := f.Get(t.Context())
		assert.ErrorIs(t, err, ErrSerialization)
		assert.ErrorIs(t, err, errBadValue)
		assert.Equal(t, "t", md.Topic)
		assert.Equal(t, int32(2), md.Partition)
		assert.Equal(t, int64(-1), md.Offset)
	})
	t.Run("Send unpartitioned", func(t *testing.T) {
		md, err := typed.Send(t.Context(), &TypedRecord[string, int]{Topic: "t", Value: -1, Partition: 2}).Get(t.Context())
		assert.ErrorIs(t, err, ErrSerialization)
		assert.Equal(t, int32(-1), md.Partition)
	})
	t.Run("Send nil", func(t *testing.T) {
		_, err := typed.Send(t.Context(), nil).Get(t.Context())
		assert.ErrorIs(t, err, ErrNilRecord)
	})
	t.Run("SendCallback", func(t *testing.T) {
		var (
			called bool
			gotMD  RecordMetadata
			gotErr error
		)
		typed.SendCallback(t.Context(), bad, func(md RecordMetadata, err error) {
			called, gotMD, gotErr = true, md, err
		})
		require.True(t, called, "callback runs before SendCallback returns")
		assert.ErrorIs(t, gotErr, ErrSerialization)
		assert.Equal(t, RecordMetadata{Topic: "t", Partition: -1, Offset: -1, SerializedKeySize: -1, SerializedValueSize: -1}, gotMD)
	})
	t.Run("SendCallback nil callback", func(t *testing.T) {
		assert.NotPanics(t, func() { typed.SendCallback(t.Context(), bad, nil) })
	})
}

func TestNewTyped(t *testing.T) {
	assert.Panics(t, func() { NewTyped[string, string](nil, nil, StringSerializer()) })
	assert.Panics(t, func() { NewTyped[string, string](nil, StringSerializer(), nil) })
	p := &Producer{}
	assert.Same(t, p, NewTyped(p, StringSerializer(), BytesSerializer()).Producer())
}

// TestTypedConcurrent runs the built-in serializers and Typed.Record from
// many goroutines, for the race detector.
func TestTypedConcurrent(t *testing.T) {
	typed := NewTyped(nil, Int64Serializer(), JSONSerializer[jsonEvent]())
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				rec, err := typed.Record(&TypedRecord[int64, jsonEvent]{Topic: "t", Key: int64(g*1000 + i), Value: jsonEvent{ID: i}})
				if !assert.NoError(t, err) {
					return
				}
				assert.Len(t, rec.Key, 8)
				assert.Equal(t, `{"id":`+strconv.Itoa(i)+`,"name":""}`, string(rec.Value))
			}
		})
	}
	wg.Wait()
}
