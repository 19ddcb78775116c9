package protocol

import (
	"bytes"
	"testing"
)

// TestAppendFieldsMatchesAppend checks AppendFields encodes exactly what
// Append does and refuses a record that would cross the limit.
func TestAppendFieldsMatchesAppend(t *testing.T) {
	recs := []struct {
		ts         int64
		key, value []byte
		headers    []Header
	}{
		{1000, []byte("k"), []byte("v"), nil},
		{999, nil, bytes.Repeat([]byte("x"), 300), []Header{{Key: "h", Value: nil}}},
		{5000, []byte(""), nil, []Header{{Key: "a", Value: []byte("b")}, {Key: "c", Value: []byte{}}}},
	}
	var a, b BatchBuilder
	a.Reset(make([]byte, 0, 4096))
	b.Reset(make([]byte, 0, 4096))
	for _, r := range recs {
		a.Append(r.ts, r.key, r.value, r.headers)
		if !b.AppendFields(r.ts, RecordFieldsSize(r.key, r.value, r.headers), r.key, r.value, r.headers, 4096) {
			t.Fatal("AppendFields refused a record that fits")
		}
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) || a.NumRecords() != b.NumRecords() {
		t.Fatal("AppendFields encoded differently from Append")
	}
	// The limit: a record that would cross it is refused and nothing changes.
	before := len(b.Bytes())
	v := bytes.Repeat([]byte("y"), 100)
	limit := before + RecordSize(0, int32(b.NumRecords()), nil, v, nil) - 1
	if b.AppendFields(1000, RecordFieldsSize(nil, v, nil), nil, v, nil, limit) {
		t.Fatal("AppendFields appended past the limit")
	}
	if len(b.Bytes()) != before {
		t.Fatal("a refused AppendFields changed the batch")
	}
	if !b.AppendFields(1000, RecordFieldsSize(nil, v, nil), nil, v, nil, limit+1) {
		t.Fatal("AppendFields refused a record that exactly fits")
	}
	if got := EstimateRecordSizeFields(RecordFieldsSize(nil, v, nil)); got != EstimateRecordSize(nil, v, nil) {
		t.Fatalf("EstimateRecordSizeFields %d != EstimateRecordSize %d", got, EstimateRecordSize(nil, v, nil))
	}
}
