package metadata

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/protocol"
)

// authFailing is a Fetcher whose every fetch fails like a dial whose
// credentials the broker refused.
type authFailing struct{}

func (authFailing) Fetch(context.Context, []string, bool) (*protocol.MetadataResponse, error) {
	return nil, &conn.DialError{Addr: "b:9092", Err: errors.Join(conn.ErrAuthentication, errors.New("refused"))}
}

// TestWaitForTopicAuthFailsFast: with a context that would allow waiting
// for the whole hang limit, WaitForTopic returns the authentication error
// as soon as a fetch has failed with it, instead of waiting out ctx.
func TestWaitForTopicAuthFailsFast(t *testing.T) {
	checkNoLeaks(t)
	m := New(Config{}, authFailing{})
	m.Start()
	defer m.Close()
	_, err := m.WaitForTopic(ctxFor(t, hangLimit), "t")
	var te *TopicError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, conn.ErrAuthentication)
	assert.NotErrorIs(t, err, context.DeadlineExceeded, "it did not wait for ctx")
}
