package sender

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tributary-go/tributary/accumulator"
	"github.com/tributary-go/tributary/protocol"
)

// TestInFlightErrorCarriesPreviousAttempt: a batch retried after
// NOT_ENOUGH_REPLICAS that expires while its next attempt is in flight
// still matches NOT_ENOUGH_REPLICAS through the delivery timeout
// (TestKafkaNotEnoughReplicas on a real cluster depends on it).
func TestInFlightErrorCarriesPreviousAttempt(t *testing.T) {
	err := error(&DeliveryTimeoutError{Topic: "t", Timeout: 10 * time.Second, Records: 3,
		Last: &InFlightError{Node: 1, Waited: 6 * time.Millisecond, Previous: protocol.ErrNotEnoughReplicas}})
	require.ErrorIs(t, err, accumulator.ErrDeliveryTimeout)
	require.ErrorIs(t, err, protocol.ErrNotEnoughReplicas)
	var ife *InFlightError
	require.True(t, errors.As(err, &ife))
	require.Contains(t, err.Error(), "previous attempt failed")

	bare := error(&InFlightError{Node: 1, Waited: time.Second})
	require.NotErrorIs(t, bare, protocol.ErrNotEnoughReplicas)
	require.NotContains(t, bare.Error(), "previous attempt")
}
