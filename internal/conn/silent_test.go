package conn

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// silentListener accepts connections and never writes to them; it closes
// them when the test ends.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestDialSilentBroker: a broker that accepts and never answers the
// ApiVersions handshake fails Dial with a *SetupTimeoutError that names
// its address and socket.connection.setup.timeout.ms, and does not claim
// the caller's context ended.
func TestDialSilentBroker(t *testing.T) {
	checkNoLeaks(t)
	addr := silentListener(t)
	_, err := Dial(context.Background(), addr, &Config{DialTimeout: 100 * time.Millisecond})
	var te *SetupTimeoutError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, ErrSetupTimeout)
	assert.NotErrorIs(t, err, context.DeadlineExceeded, "the caller's context did not end")
	assert.Equal(t, "conn: broker "+addr+" did not answer the ApiVersions handshake within socket.connection.setup.timeout.ms=100ms", err.Error())

	// The caller's own deadline is reported as such.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = Dial(ctx, addr, &Config{DialTimeout: time.Minute})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, ErrSetupTimeout)
}

// TestRequestTimeoutNamesBrokerAndSetting: the error of a request nobody
// answers says which broker stayed silent and which setting ran out.
func TestRequestTimeoutNamesBrokerAndSetting(t *testing.T) {
	checkNoLeaks(t)
	cl := newCluster(t)
	cl.ControlKey(int16(kmsg.Metadata), func(kmsg.Request) (kmsg.Response, error, bool) {
		cl.KeepControl()
		return nil, nil, true // swallow: never answer
	})
	addr := cl.ListenAddrs()[0]
	c := dial(t, addr, &Config{RequestTimeout: 100 * time.Millisecond})
	_, err := c.Do(context.Background(), metadataReq("t"))
	require.ErrorIs(t, err, ErrRequestTimeout)
	assert.Regexp(t, `^conn: broker `+addr+` did not answer Metadata v\d+ \(correlation id \d+\) within request.timeout.ms=100ms$`, err.Error())
}
