package producer

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-go/tributary/protocol"
)

// sendErr sends one record to topic and returns its error.
func sendErr(ctx context.Context, p *Producer, topic string) error {
	_, err := p.Send(ctx, &Record{Topic: topic, Value: []byte("v")}).Get(context.Background())
	return err
}

// metadataRequests counts the Metadata requests naming topic.
func metadataRequests(c *kfake.Cluster, topic string) *atomic.Int32 {
	var n atomic.Int32
	c.ControlKey(int16(kmsg.Metadata), func(r kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		for _, t := range r.(*kmsg.MetadataRequest).Topics {
			if t.Topic != nil && *t.Topic == topic {
				n.Add(1)
			}
		}
		return nil, nil, false
	})
	return &n
}

// TestSendBlockedOnMetadataThenClosed: Close releases a Send waiting for a
// topic's metadata with an error that matches ErrClosed and says so, not a
// max.block.ms timeout.
func TestSendBlockedOnMetadataThenClosed(t *testing.T) {
	checkNoLeaks(t)
	c := newCluster(t, 1, 1)
	asked := metadataRequests(c, "x")
	p := startProducer(t, c, WithMaxBlock(time.Minute))
	errc := make(chan error, 1)
	go func() { errc <- sendErr(context.Background(), p, "x") }()
	waitFor(t, "a Metadata request for x", func() bool { return asked.Load() > 0 })
	require.NoError(t, p.Close(context.Background()))
	err := <-errc
	assert.ErrorIs(t, err, ErrClosed)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, ErrMetadataTimeout)
	assert.Equal(t, `producer: closed while waiting for metadata for topic "x"`, err.Error())
}

// TestMetadataWaitErrorsSayWhatHappened: the caller's context ending,
// max.block.ms passing and the broker rejecting the topic are three
// different errors, each one sentence without repeats.
func TestMetadataWaitErrorsSayWhatHappened(t *testing.T) {
	checkNoLeaks(t)
	c := newCluster(t, 1, 1)
	c.ControlKey(int16(kmsg.Metadata), func(r kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := r.(*kmsg.MetadataRequest)
		for _, rt := range req.Topics {
			if rt.Topic == nil || *rt.Topic != "denied" {
				continue
			}
			resp := req.ResponseKind().(*kmsg.MetadataResponse)
			host, port, _ := net.SplitHostPort(c.ListenAddrs()[0])
			p, _ := strconv.Atoi(port)
			resp.Brokers = []kmsg.MetadataResponseBroker{{NodeID: 0, Host: host, Port: int32(p)}}
			rt := kmsg.NewMetadataResponseTopic()
			rt.Topic = kmsg.StringPtr("denied")
			rt.ErrorCode = protocol.ErrTopicAuthorizationFailed.Code
			resp.Topics = append(resp.Topics, rt)
			return resp, nil, true
		}
		return nil, nil, false
	})

	t.Run("caller's context", func(t *testing.T) {
		p := startProducer(t, c, WithMaxBlock(time.Minute))
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		err := sendErr(ctx, p, "missing")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, ErrMetadataTimeout)
		assert.NotContains(t, err.Error(), "max.block.ms")
		assert.True(t, strings.HasPrefix(err.Error(), `producer: stopped waiting for metadata for topic "missing" after `), err.Error())
		assertNoRepeats(t, err.Error())
	})
	t.Run("max.block.ms", func(t *testing.T) {
		p := startProducer(t, c, WithMaxBlock(300*time.Millisecond))
		err := sendErr(context.Background(), p, "missing")
		var te *MetadataTimeoutError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, "missing", te.Topic)
		assert.ErrorIs(t, err, ErrMetadataTimeout)
		assert.NotErrorIs(t, err, context.DeadlineExceeded, "the caller's context did not end")
		assert.ErrorIs(t, err, protocol.ErrUnknownTopicOrPartition, "the broker's last answer is the cause")
		assert.True(t, strings.HasPrefix(err.Error(), `producer: no metadata for topic "missing" within max.block.ms=300ms; last error: `), err.Error())
		assertNoRepeats(t, err.Error())
	})
	t.Run("rejected by the broker", func(t *testing.T) {
		p := startProducer(t, c, WithMaxBlock(time.Minute))
		err := sendErr(context.Background(), p, "denied")
		assert.ErrorIs(t, err, protocol.ErrTopicAuthorizationFailed)
		assert.NotErrorIs(t, err, ErrMetadataTimeout)
		assert.NotContains(t, err.Error(), "max.block.ms")
		assert.True(t, strings.HasPrefix(err.Error(), `producer: the broker rejected topic "denied": `), err.Error())
		assertNoRepeats(t, err.Error())
	})
}

// silentListener accepts connections and never writes to them.
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

// TestSilentBootstrapBroker: a bootstrap broker that accepts connections
// and never answers is named in the error, with the setting that ran out
// (or, before it ran out, how long it has been silent).
func TestSilentBootstrapBroker(t *testing.T) {
	checkNoLeaks(t)
	addr := silentListener(t)
	newP := func(t *testing.T, opts ...Option) *Producer {
		p, err := New(append([]Option{WithBootstrapServers(addr), WithLogger(testLogger(t))}, opts...)...)
		require.NoError(t, err)
		t.Cleanup(func() { p.Close(context.Background()) })
		return p
	}
	t.Run("setup timeout ran out", func(t *testing.T) {
		p := newP(t, WithMaxBlock(time.Second), WithSocketConnectionSetupTimeout(100*time.Millisecond, 100*time.Millisecond))
		err := sendErr(context.Background(), p, "t")
		assert.ErrorIs(t, err, ErrMetadataTimeout)
		assert.NotErrorIs(t, err, context.DeadlineExceeded)
		assert.Contains(t, err.Error(), "broker "+addr+" did not answer the ApiVersions handshake within socket.connection.setup.timeout.ms=100ms")
		assertNoRepeats(t, err.Error())
	})
	t.Run("still silent", func(t *testing.T) {
		p := newP(t, WithMaxBlock(300*time.Millisecond))
		err := sendErr(context.Background(), p, "t")
		assert.ErrorIs(t, err, ErrMetadataTimeout)
		assert.Contains(t, err.Error(), "broker "+addr+" has not answered connection setup for ")
		assert.Contains(t, err.Error(), "(socket.connection.setup.timeout.ms=10s)")
		assertNoRepeats(t, err.Error())
	})
}

// TestInvalidTopicNames: names Kafka would reject fail Send at once with
// *InvalidTopicError, without a Metadata request; a long name is printed
// once, truncated.
func TestInvalidTopicNames(t *testing.T) {
	checkNoLeaks(t)
	c := newCluster(t, 1, 1, "ok.topic_1-A")
	var asked atomic.Int32
	c.ControlKey(int16(kmsg.Metadata), func(r kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		for _, rt := range r.(*kmsg.MetadataRequest).Topics {
			if rt.Topic != nil && *rt.Topic != "ok.topic_1-A" {
				asked.Add(1)
			}
		}
		return nil, nil, false
	})
	p := startProducer(t, c, WithMaxBlock(time.Minute))
	long := strings.Repeat("a", 300)
	for _, name := range []string{"bad topic!", long, ".", "..", "tópico", strings.Repeat("b", 250)} {
		err := sendErr(context.Background(), p, name)
		var ie *InvalidTopicError
		require.ErrorAs(t, err, &ie, "%q", name)
		assert.Equal(t, name, ie.Topic)
		assert.ErrorIs(t, err, ErrInvalidTopic)
		assert.Contains(t, err.Error(), "[a-zA-Z0-9._-]")
		if len(name) > 64 {
			assert.Less(t, len(err.Error()), 250, "a long name is truncated: %s", err)
			assert.Equal(t, 1, strings.Count(err.Error(), name[:40]), "printed once: %s", err)
		}
		_, perr := p.PartitionsFor(context.Background(), name)
		assert.True(t, errors.Is(perr, ErrInvalidTopic), "PartitionsFor too: %v", perr)
	}
	assert.Zero(t, asked.Load(), "no broker was asked about an invalid name")
	// 249 characters and every allowed character are fine.
	require.NoError(t, validateTopic(strings.Repeat("z", 249)))
	require.NoError(t, sendErr(context.Background(), p, "ok.topic_1-A"))
}

// TestWrongPasswordIsAuthenticationError: a refused SCRAM password fails
// Send with the typed authentication error, not a metadata timeout, and
// the error never shows the password.
func TestWrongPasswordIsAuthenticationError(t *testing.T) {
	checkNoLeaks(t)
	const wrong = "Wr0ng-Secret-42"
	c := securedCluster(t, nil, kfake.EnableSASL(), kfake.Superuser(MechanismScramSHA256, saslUser, "Right-Secret-42"))
	p := newSecured(t, c, map[string]string{
		"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": MechanismScramSHA256,
		"sasl.jaas.config": jaasScram + ` required username="` + saslUser + `" password="` + wrong + `";`,
	})
	err := sendErr(context.Background(), p, "t")
	var ae *AuthError
	require.ErrorAs(t, err, &ae)
	assert.ErrorIs(t, err, ErrAuthentication)
	assert.ErrorIs(t, err, protocol.ErrSASLAuthenticationFailed)
	assert.NotErrorIs(t, err, ErrMetadataTimeout)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.NotContains(t, err.Error(), "max.block.ms")
	assert.NotContains(t, err.Error(), "no metadata")
	assert.NotContains(t, err.Error(), wrong)
	assertNoRepeats(t, err.Error())
	assert.Equal(t, 1, strings.Count(err.Error(), "127.0.0.1:"), "the broker is named once: %v", err)
}
