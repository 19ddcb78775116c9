package sender

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/protocol"
)

// TestTxnExplainTimeout: a fatal EndTxn answer to a transaction open past
// transaction.timeout.ms says the coordinator aborted it (the answers
// Kafka 3.9 and 4.1 give after their timeout abort), still matching the
// cause; earlier, or for other errors, the error is unchanged.
func TestTxnExplainTimeout(t *testing.T) {
	for _, cause := range []*protocol.Error{protocol.ErrProducerFenced, protocol.ErrInvalidTxnState} {
		err := explainTimeout(&TxnFatalError{Err: cause}, 4*time.Second, 3*time.Second)
		require.ErrorIs(t, err, ErrTxnFatal)
		require.ErrorIs(t, err, cause)
		var fe *TxnFatalError
		require.True(t, errors.As(err, &fe))
		assert.Contains(t, err.Error(), "longer than transaction.timeout.ms=3s, so the coordinator has aborted it")
		assert.Contains(t, err.Error(), "open for 4s")
	}
	for _, c := range []struct {
		name    string
		err     error
		open    time.Duration
		timeout time.Duration
	}{
		{"within the timeout", &TxnFatalError{Err: protocol.ErrProducerFenced}, 2 * time.Second, 3 * time.Second},
		{"another fatal cause", &TxnFatalError{Err: protocol.ErrTransactionalIDAuthorizationFailed}, time.Minute, 3 * time.Second},
		{"abortable", &TxnAbortableError{Err: protocol.ErrProducerFenced}, time.Minute, 3 * time.Second},
		{"no timeout", &TxnFatalError{Err: protocol.ErrProducerFenced}, time.Minute, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Same(t, c.err, explainTimeout(c.err, c.open, c.timeout))
		})
	}
}
