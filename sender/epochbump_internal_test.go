package sender

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/protocol"
)

// initCall is one InitProducerId an Idempotence asked for.
type initCall struct {
	id    int64
	epoch int16
}

// fakeInit hands out the answers in order and records what it was asked.
type fakeInit struct {
	mu      sync.Mutex
	answers []initCall
	calls   []initCall
}

func (f *fakeInit) init(_ context.Context, id int64, epoch int16) (int64, int16, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, initCall{id, epoch})
	a := f.answers[0]
	f.answers = f.answers[1:]
	return a.id, a.epoch, nil
}

func (f *fakeInit) asked() []initCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]initCall(nil), f.calls...)
}

// readyWithin calls m.Ready(0) until it reports true (a background
// InitProducerId has to finish first), failing after a generous deadline.
func readyWithin(t *testing.T, m *Idempotence) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !m.Ready(0) {
		if time.Now().After(deadline) {
			t.Fatal("the producer id never became ready")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestIdempotentEpochBumpLocalOrNewID covers the two ways an epoch bump of an
// idempotent producer ends (Java's
// TransactionManager.bumpIdempotentEpochAndResetIdIfNeeded): below the
// largest epoch it is local (the same id, epoch+1, no InitProducerId);
// at epoch 32767 it asks InitProducerId for a new id, without the old id
// and epoch.
func TestIdempotentEpochBumpLocalOrNewID(t *testing.T) {
	for _, tc := range []struct {
		name      string
		epoch     int16
		wantID    int64
		wantEpoch int16
		wantCalls []initCall
	}{
		{"local", 3, 7, 4, []initCall{{-1, -1}}},
		{"exhausted", math.MaxInt16, 8, 0, []initCall{{-1, -1}, {-1, -1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeInit{answers: []initCall{{7, tc.epoch}, {8, 0}}}
			m := NewIdempotence(f.init, func() {}, func(int) time.Duration { return time.Millisecond })
			t.Cleanup(m.Close)
			readyWithin(t, m)

			first, second := batch("t", 0), batch("t", 0)
			assert.Equal(t, protocol.BatchOptions{ProducerID: 7, ProducerEpoch: tc.epoch, BaseSequence: 0}, m.Options(first))
			m.Options(second)
			// The broker lost first's sequence: a real gap, so a bump.
			require.True(t, m.CanRetry(first, protocol.ErrOutOfOrderSequenceNumber))
			assert.False(t, m.Ready(1), "no bump while a request is in flight")
			readyWithin(t, m)

			id, epoch := m.ProducerID()
			assert.Equal(t, tc.wantID, id)
			assert.Equal(t, tc.wantEpoch, epoch)
			assert.Equal(t, tc.wantCalls, f.asked())
			third := batch("t", 0)
			// (These batches hold no records, so every sequence is 0.)
			assert.Equal(t, protocol.BatchOptions{ProducerID: tc.wantID, ProducerEpoch: tc.wantEpoch, BaseSequence: 0}, m.Options(third))
		})
	}
}
