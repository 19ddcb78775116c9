package accumulator

import (
	"errors"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDetachedResult: a detached Result is pending until FinishDetached,
// which makes it final with its error once; it keeps its owner's value,
// and FinishDetached leaves a batch's Result alone.
func TestDetachedResult(t *testing.T) {
	type token struct{ n int }
	v := &token{7}
	h := NewDetached("t", 3, v)
	r, idx := h.Result()
	require.NotNil(t, r)
	assert.Equal(t, int32(0), idx)
	assert.True(t, r.Detached())
	assert.Same(t, v, r.Value())
	assert.Equal(t, "t", r.Topic)
	assert.Equal(t, int32(3), r.Partition)
	assert.Equal(t, int64(-1), r.BaseOffset)
	assert.False(t, r.IsDone())
	done := r.Done()
	select {
	case <-done:
		t.Fatal("a detached Result is done before FinishDetached")
	default:
	}

	boom := errors.New("boom")
	r.FinishDetached(boom)
	<-done
	assert.True(t, r.IsDone())
	assert.Same(t, boom, r.Err)
	r.FinishDetached(nil) // already final: ignored
	assert.Same(t, boom, r.Err)

	b := newResult("t", 0)
	b.FinishDetached(boom)
	assert.False(t, b.IsDone(), "FinishDetached finished a batch's Result")
	assert.NoError(t, b.Err)
	assert.False(t, b.Detached())
	assert.Nil(t, b.Value())
}

// TestThunkSize pins the per-record Thunk at 32 bytes (see Thunk).
func TestThunkSize(t *testing.T) {
	assert.Equal(t, uintptr(32), unsafe.Sizeof(Thunk{}))
}
