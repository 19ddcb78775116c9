package sender_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/internal/fakebroker"
	"github.com/tributary-go/tributary/protocol"
	"github.com/tributary-go/tributary/sender"
)

// TestMessageTooLargeSizes: a single record over the broker's
// message.max.bytes cannot be split; it fails with a *BatchError matching
// protocol.ErrMessageTooLarge whose message gives the batch's size and the
// limits it broke (the broker's answer names no sizes), and the broker
// stores nothing.
func TestMessageTooLargeSizes(t *testing.T) {
	e := newEnv(t, options{broker: fakebroker.Config{Topics: map[string]int32{"t": 1}, Store: true, MaxMessageBytes: 1000}})
	r := e.send("t", 0, strings.Repeat("x", 2000))
	e.flush()
	_, err := r.wait(t)
	require.ErrorIs(t, err, protocol.ErrMessageTooLarge)
	var be *sender.BatchError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, 1, be.Records)
	assert.Contains(t, err.Error(), "message.max.bytes")
	m := regexp.MustCompile(`a batch of (\d+) bytes with 1 records`).FindStringSubmatch(err.Error())
	require.NotNil(t, m, "the batch's size in %q", err)
	size, _ := strconv.Atoi(m[1])
	assert.Greater(t, size, 2000, "the batch's size includes the record")
	assert.Zero(t, e.fb.Records("t", 0))
}
