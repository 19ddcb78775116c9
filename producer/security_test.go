package producer

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/tributary-go/tributary/protocol"
)

// These tests produce through kfake clusters with TLS, SASL and ACLs, and
// check what arrived with franz-go's consumer logged in with the same
// credentials. Every wait is bounded by failFast, which is an upper bound
// for "fails at once", never a speed claim: without fast failure these
// sends would wait out max.block.ms or delivery.timeout.ms (60 s, 120 s).
const failFast = 10 * time.Second

const saslUser = "alice"

// securedCluster starts a kfake cluster of two brokers with topics, TLS
// when serverTLS is set, and the given options (users, ACLs).
func securedCluster(t *testing.T, serverTLS *tls.Config, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	all := []kfake.Opt{kfake.NumBrokers(2), kfake.SeedTopics(4, "t", "allowed", "denied", "hidden")}
	if serverTLS != nil {
		all = append(all, kfake.TLS(serverTLS))
	}
	c, err := kfake.NewCluster(append(all, opts...)...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// kgoSASL returns franz-go's mechanism for name.
func kgoSASL(name, user, pass string) sasl.Mechanism {
	switch name {
	case MechanismPlain:
		return plain.Auth{User: user, Pass: pass}.AsMechanism()
	case MechanismScramSHA256:
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
	}
	return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
}

// consumeSecured reads want records of topic with a kgo consumer using
// opts for TLS and SASL.
func consumeSecured(t *testing.T, c *kfake.Cluster, topic string, want int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(c.ListenAddrs()...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100 * time.Millisecond),
	}, opts...)...)
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records from %s", len(out), want, topic)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// newSecured returns a producer from props (bootstrap added) and opts,
// closed at cleanup.
func newSecured(t *testing.T, c *kfake.Cluster, props map[string]string, opts ...Option) *Producer {
	t.Helper()
	all := map[string]string{"bootstrap.servers": strings.Join(c.ListenAddrs(), ",")}
	for k, v := range props {
		all[k] = v
	}
	p, err := NewFromProperties(all, append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	return p
}

// produceN sends n keyed records to topic and waits for every
// acknowledgement.
func produceN(t *testing.T, p *Producer, topic string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	fs := make([]*Future, n)
	for i := range fs {
		fs[i] = p.Send(ctx, &Record{Topic: topic, Key: []byte(fmt.Sprint("k", i%7)), Value: []byte(fmt.Sprint("v", i))})
	}
	for i, f := range fs {
		_, err := f.Get(ctx)
		require.NoError(t, err, "record %d", i)
	}
}

func checkValues(t *testing.T, recs []*kgo.Record, n int) {
	t.Helper()
	require.Len(t, recs, n)
	seen := map[string]bool{}
	for _, r := range recs {
		seen[string(r.Value)] = true
	}
	for i := range n {
		assert.True(t, seen[fmt.Sprint("v", i)], "record %d arrived", i)
	}
}

// TestSASLProduce produces with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512,
// over SASL_PLAINTEXT and SASL_SSL, configured each way a user would:
// Go options, Java properties (sasl.jaas.config, PEM truststore) and
// librdkafka names (sasl.username, ssl.ca.location).
func TestSASLProduce(t *testing.T) {
	checkNoLeaks(t)
	const pass = "Sasl-Pa55word!"
	pki := newPKI(t)
	jaas := func(module string) string {
		return module + ` required username="` + saslUser + `" password="` + pass + `";`
	}
	for _, tc := range []struct {
		mech   string
		tls    bool
		style  string
		props  map[string]string
		option func(pki *testPKI) []Option
	}{
		{MechanismPlain, false, "options", nil, func(*testPKI) []Option { return []Option{WithSASLPlain(saslUser, pass)} }},
		{MechanismPlain, true, "Java properties (Confluent Cloud style)", map[string]string{
			"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN", "sasl.jaas.config": jaas(jaasPlain),
			"ssl.truststore.type": "PEM", "ssl.truststore.location": pki.caFile,
		}, nil},
		{MechanismScramSHA256, false, "librdkafka properties", map[string]string{
			"security.protocol": "sasl_plaintext", "sasl.mechanisms": "SCRAM-SHA-256", "sasl.username": saslUser, "sasl.password": pass,
		}, nil},
		{MechanismScramSHA256, true, "options", nil, func(pki *testPKI) []Option {
			return []Option{WithTLS(&tls.Config{RootCAs: pki.pool}), WithSASLScram(MechanismScramSHA256, saslUser, pass)}
		}},
		{MechanismScramSHA512, false, "options", nil, func(*testPKI) []Option {
			return []Option{WithSASLScram(MechanismScramSHA512, saslUser, pass)}
		}},
		{MechanismScramSHA512, true, "Java properties (MSK style) with ssl.ca.location", map[string]string{
			"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.jaas.config": jaas(jaasScram),
			"ssl.ca.location": pki.caFile,
		}, nil},
	} {
		proto := "SASL_PLAINTEXT"
		if tc.tls {
			proto = "SASL_SSL"
		}
		t.Run(tc.mech+"/"+proto+"/"+tc.style, func(t *testing.T) {
			var serverTLS *tls.Config
			kopts := []kgo.Opt{kgo.SASL(kgoSASL(tc.mech, saslUser, pass))}
			if tc.tls {
				serverTLS = pki.serverTLS("127.0.0.1")
				kopts = append(kopts, kgo.DialTLSConfig(&tls.Config{RootCAs: pki.pool}))
			}
			c := securedCluster(t, serverTLS, kfake.EnableSASL(), kfake.Superuser(tc.mech, saslUser, pass))
			var opts []Option
			if tc.option != nil {
				opts = tc.option(pki)
			}
			p := newSecured(t, c, tc.props, opts...)
			assert.Equal(t, proto, p.cfg.securityProtocol)
			produceN(t, p, "t", 40)
			checkValues(t, consumeSecured(t, c, "t", 40, kopts...), 40)
		})
	}
}

// TestMutualTLS produces over SSL to a broker that requires a client
// certificate, given as a PEM keystore (chain and key in one file).
func TestMutualTLS(t *testing.T) {
	checkNoLeaks(t)
	pki := newPKI(t)
	client := pki.issue("producer")
	keystore := pki.write("keystore.pem", append(append([]byte{}, client.certPEM...), client.keyPEM...))
	server := pki.serverTLS("127.0.0.1")
	server.ClientAuth, server.ClientCAs = tls.RequireAndVerifyClientCert, pki.pool
	c := securedCluster(t, server)

	p := newSecured(t, c, map[string]string{
		"security.protocol":   "SSL",
		"ssl.truststore.type": "PEM", "ssl.truststore.location": pki.caFile,
		"ssl.keystore.type": "PEM", "ssl.keystore.location": keystore,
	})
	produceN(t, p, "t", 20)
	checkValues(t, consumeSecured(t, c, "t", 20,
		kgo.DialTLSConfig(&tls.Config{RootCAs: pki.pool, Certificates: []tls.Certificate{client.tls}})), 20)

	t.Run("without a client certificate", func(t *testing.T) {
		p := newSecured(t, c, map[string]string{"security.protocol": "SSL", "ssl.truststore.location": pki.caFile})
		err := sendOneErr(t, p, "t")
		assert.ErrorIs(t, err, ErrAuthentication)
		var te *TLSError
		assert.ErrorAs(t, err, &te)
	})
}

// sendOneErr sends one record and returns its error, failing the test if
// it takes longer than failFast although max.block.ms is a minute.
func sendOneErr(t *testing.T, p *Producer, topic string) error {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*failFast)
	defer cancel()
	_, err := p.Send(ctx, &Record{Topic: topic, Value: []byte("x")}).Get(ctx)
	require.Error(t, err)
	assert.Less(t, time.Since(start), failFast, "failed fast: %v", err)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	return err
}

// TestWrongPasswordFailsFast: a refused password fails Send within
// seconds with the typed authentication error, and the password appears
// in no error and no log line.
func TestWrongPasswordFailsFast(t *testing.T) {
	checkNoLeaks(t)
	const right, wrong = "Right-Pa55", "Wr0ng-Pa55-zz"
	for _, mech := range []string{MechanismPlain, MechanismScramSHA256, MechanismScramSHA512} {
		t.Run(mech, func(t *testing.T) {
			c := securedCluster(t, nil, kfake.EnableSASL(), kfake.Superuser(mech, saslUser, right))
			var logs syncBuffer
			p := newSecured(t, c, map[string]string{
				"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": mech,
				"sasl.jaas.config": jaasScram + ` required username="` + saslUser + `" password="` + wrong + `";`,
			}, WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))

			err := sendOneErr(t, p, "t")
			var ae *AuthError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, mech, ae.Mechanism)
			assert.ErrorIs(t, err, ErrAuthentication)
			assert.ErrorIs(t, err, protocol.ErrSASLAuthenticationFailed)

			_, err2 := p.PartitionsFor(context.Background(), "t")
			assert.ErrorIs(t, err2, ErrAuthentication)

			for _, s := range []string{fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err),
				fmt.Sprintf("%v %+v", p.cfg, p.cfg), logs.String()} {
				assert.NotContains(t, s, wrong)
			}
			assert.Contains(t, logs.String(), "authentication failed", "the failure is logged")
		})
	}
}

// TestUntrustedBroker: a certificate from an unknown CA, or one naming
// another host, fails Send fast with a TLS error. Turning off host name
// verification (ssl.endpoint.identification.algorithm=) accepts the
// second but still rejects the first: the chain is still verified.
func TestUntrustedBroker(t *testing.T) {
	checkNoLeaks(t)
	pki, stranger := newPKI(t), newPKI(t)
	wrongHost := securedCluster(t, pki.serverTLS("kafka.example.com"))
	unknownCA := securedCluster(t, stranger.serverTLS("127.0.0.1"))
	trustPKI := map[string]string{"security.protocol": "SSL", "ssl.truststore.type": "PEM", "ssl.truststore.location": pki.caFile}
	noHostCheck := map[string]string{"ssl.endpoint.identification.algorithm": ""}
	with := func(a, b map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range a {
			m[k] = v
		}
		for k, v := range b {
			m[k] = v
		}
		return m
	}

	for _, tc := range []struct {
		name    string
		c       *kfake.Cluster
		props   map[string]string
		mention string
	}{
		{"unknown CA", unknownCA, trustPKI, "not signed by a trusted CA"},
		{"host name mismatch", wrongHost, trustPKI, "does not name the address dialed"},
		{"unknown CA without host check", unknownCA, with(trustPKI, noHostCheck), "unknown authority"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newSecured(t, tc.c, tc.props)
			err := sendOneErr(t, p, "t")
			var te *TLSError
			require.ErrorAs(t, err, &te)
			assert.ErrorIs(t, err, ErrAuthentication)
			var cve *tls.CertificateVerificationError
			assert.ErrorAs(t, err, &cve)
			assert.Contains(t, err.Error(), tc.mention)
		})
	}
	t.Run("host name mismatch without host check", func(t *testing.T) {
		p := newSecured(t, wrongHost, with(trustPKI, noHostCheck))
		produceN(t, p, "t", 5)
	})
}

// TestTopicAuthorization: with ACLs, a user allowed to write one topic and
// only to describe another gets TOPIC_AUTHORIZATION_FAILED for the second
// at once, without retries, while the first topic in the same producer
// succeeds; a topic it may not even describe fails at metadata time.
func TestTopicAuthorization(t *testing.T) {
	checkNoLeaks(t)
	const pass = "Acl-Pa55"
	lit := kmsg.ACLResourcePatternTypeLiteral
	acls := []kfake.ACL{
		{Resource: kmsg.ACLResourceTypeTopic, Name: "allowed", Pattern: lit, Operation: kmsg.ACLOperationDescribe, Allow: true},
		{Resource: kmsg.ACLResourceTypeTopic, Name: "allowed", Pattern: lit, Operation: kmsg.ACLOperationWrite, Allow: true},
		{Resource: kmsg.ACLResourceTypeTopic, Name: "denied", Pattern: lit, Operation: kmsg.ACLOperationDescribe, Allow: true},
	}
	c := securedCluster(t, nil, kfake.EnableSASL(), kfake.EnableACLs(),
		kfake.Superuser(MechanismScramSHA256, "admin", "admin"),
		kfake.User(MechanismScramSHA256, saslUser, pass, acls...))
	p := newSecured(t, c, nil, WithSASLScram(MechanismScramSHA256, saslUser, pass))

	ctx, cancel := context.WithTimeout(context.Background(), 2*failFast)
	defer cancel()
	start := time.Now()
	var allowed, denied []*Future
	for i := range 20 {
		allowed = append(allowed, p.Send(ctx, &Record{Topic: "allowed", Value: []byte(fmt.Sprint("v", i))}))
		denied = append(denied, p.Send(ctx, &Record{Topic: "denied", Value: []byte(fmt.Sprint("v", i))}))
	}
	for i := range allowed {
		_, err := allowed[i].Get(ctx)
		require.NoError(t, err, "allowed record %d", i)
		_, err = denied[i].Get(ctx)
		require.ErrorIs(t, err, protocol.ErrTopicAuthorizationFailed, "denied record %d", i)
	}
	assert.Less(t, time.Since(start), failFast, "denied records failed without retrying until delivery.timeout.ms")

	err := sendOneErr(t, p, "hidden")
	assert.ErrorIs(t, err, protocol.ErrTopicAuthorizationFailed)

	admin := kgo.SASL(kgoSASL(MechanismScramSHA256, "admin", "admin"))
	checkValues(t, consumeSecured(t, c, "allowed", 20, admin), 20)
	assert.Zero(t, highWatermarks(t, c, "denied"), "nothing was written to the denied topic")
}

// highWatermarks sums the topic's high watermarks.
func highWatermarks(t *testing.T, c *kfake.Cluster, topic string) int64 {
	t.Helper()
	var sum int64
	for p := int32(0); p < 4; p++ {
		pi := c.PartitionInfo(topic, p)
		require.NotNil(t, pi)
		sum += pi.HighWatermark
	}
	return sum
}

// TestClusterAuthorizationIsFatal: an idempotent producer whose user may
// not write anywhere gets CLUSTER_AUTHORIZATION_FAILED from InitProducerId,
// which fails its records with a fatal error at once.
func TestClusterAuthorizationIsFatal(t *testing.T) {
	checkNoLeaks(t)
	const pass = "Acl-Pa55"
	describe := kfake.ACL{Resource: kmsg.ACLResourceTypeTopic, Name: "t", Pattern: kmsg.ACLResourcePatternTypeLiteral,
		Operation: kmsg.ACLOperationDescribe, Allow: true}
	c := securedCluster(t, nil, kfake.EnableSASL(), kfake.EnableACLs(),
		kfake.Superuser(MechanismPlain, "admin", "admin"), kfake.User(MechanismPlain, saslUser, pass, describe))
	p := newSecured(t, c, nil, WithSASLPlain(saslUser, pass))
	err := sendOneErr(t, p, "t")
	assert.ErrorIs(t, err, protocol.ErrClusterAuthorizationFailed)
	assert.Contains(t, err.Error(), "fatal")
}

// TestOAuthBearer emulates a broker's OAUTHBEARER side with kfake control
// functions (kfake has none): it checks the client's initial response byte
// for byte on every connection and accepts it; a second cluster rejects
// the token the way Kafka does (error JSON, the client's %x01, then
// SASL_AUTHENTICATION_FAILED).
func TestOAuthBearer(t *testing.T) {
	checkNoLeaks(t)
	const token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	ext := map[string]string{"logicalCluster": "lkc-123", "identityPoolId": "pool-9"}
	want := "n,,\x01auth=Bearer " + token + "\x01identityPoolId=pool-9\x01logicalCluster=lkc-123\x01\x01"

	emulate := func(c *kfake.Cluster, accept bool) *oauthBroker {
		b := &oauthBroker{}
		c.ControlKey(int16(kmsg.SASLHandshake), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
			c.KeepControl()
			req := kreq.(*kmsg.SASLHandshakeRequest)
			resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
			b.record("handshake:" + req.Mechanism)
			if req.Mechanism != MechanismOAuthBearer {
				resp.ErrorCode = protocol.ErrUnsupportedSASLMechanism.Code
				resp.SupportedMechanisms = []string{MechanismOAuthBearer}
			}
			return resp, nil, true
		})
		c.ControlKey(int16(kmsg.SASLAuthenticate), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
			c.KeepControl()
			req := kreq.(*kmsg.SASLAuthenticateRequest)
			resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
			b.record(string(req.SASLAuthBytes))
			switch {
			case string(req.SASLAuthBytes) == "\x01":
				resp.ErrorCode = protocol.ErrSASLAuthenticationFailed.Code
				msg := "Authentication failed: token expired"
				resp.ErrorMessage = &msg
			case string(req.SASLAuthBytes) != want:
				resp.ErrorCode = protocol.ErrSASLAuthenticationFailed.Code
				msg := "unexpected initial response"
				resp.ErrorMessage = &msg
			case !accept:
				resp.SASLAuthBytes = []byte(`{"status":"invalid_token"}`)
			}
			return resp, nil, true
		})
		return b
	}

	t.Run("accepted", func(t *testing.T) {
		c := securedCluster(t, nil)
		b := emulate(c, true)
		var calls atomic.Int32
		p := newSecured(t, c, map[string]string{
			"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "OAUTHBEARER",
			"sasl.jaas.config": jaasOAuthBearer + " required;",
		}, WithSASLOAuthBearer(func(ctx context.Context) (Token, error) {
			calls.Add(1)
			return Token{Value: token, Extensions: ext}, nil
		}))
		produceN(t, p, "t", 20)
		checkValues(t, consumeSecured(t, c, "t", 20), 20)
		seen := b.seen()
		require.NotEmpty(t, seen)
		for _, s := range seen {
			if !strings.HasPrefix(s, "handshake:") {
				assert.Equal(t, want, s, "initial client response, byte for byte")
			} else {
				assert.Equal(t, "handshake:OAUTHBEARER", s)
			}
		}
		assert.Equal(t, int(calls.Load()), len(seen)/2, "one token per connection")
	})

	t.Run("rejected", func(t *testing.T) {
		c := securedCluster(t, nil)
		emulate(c, false)
		p := newSecured(t, c, nil, WithSASLOAuthBearer(StaticToken(Token{Value: token, Extensions: ext})))
		err := sendOneErr(t, p, "t")
		var ae *AuthError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, MechanismOAuthBearer, ae.Mechanism)
		assert.ErrorIs(t, err, protocol.ErrSASLAuthenticationFailed)
		assert.Contains(t, err.Error(), "token expired")
		assert.Contains(t, err.Error(), "invalid_token")
		assert.NotContains(t, fmt.Sprintf("%+v", err), token)
	})
}

type oauthBroker struct {
	mu   sync.Mutex
	msgs []string
}

func (b *oauthBroker) record(s string) {
	b.mu.Lock()
	b.msgs = append(b.msgs, s)
	b.mu.Unlock()
}

func (b *oauthBroker) seen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.msgs...)
}

// TestReauthentication: a broker limiting sessions to one second
// (connections.max.reauth.ms, KIP-368) sees the producer authenticate
// again on new connections while it keeps several idempotent requests in
// flight, and across the changeovers no record fails, is duplicated or
// changes order within its key.
func TestReauthentication(t *testing.T) {
	checkNoLeaks(t)
	const pass = "Reauth-Pa55"
	c := securedCluster(t, nil, kfake.EnableSASL(), kfake.Superuser(MechanismScramSHA512, saslUser, pass),
		kfake.BrokerConfigs(map[string]string{"connections.max.reauth.ms": "1000"}))
	var handshakes atomic.Int32
	c.ControlKey(int16(kmsg.SASLHandshake), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		handshakes.Add(1)
		return nil, nil, false
	})
	p := newSecured(t, c, nil, WithSASLScram(MechanismScramSHA512, saslUser, pass), WithLinger(time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := p.Send(ctx, &Record{Topic: "t", Value: []byte("warm-up")}).Get(ctx)
	require.NoError(t, err)
	first := handshakes.Load()
	// Produce for longer than the session lifetime, in bursts that keep
	// several requests in flight: the connections in use must be replaced
	// on the way.
	var fs []*Future
	n := 0
	for deadline := time.Now().Add(2500 * time.Millisecond); time.Now().Before(deadline); {
		for range 20 {
			fs = append(fs, p.Send(ctx, &Record{Topic: "t", Key: []byte(fmt.Sprint("k", n%5)), Value: []byte(fmt.Sprint(n))}))
			n++
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i, f := range fs {
		_, err := f.Get(ctx)
		require.NoError(t, err, "record %d", i)
	}
	assert.Greater(t, handshakes.Load(), first, "connections re-authenticated after the session lifetime")

	got := consumeSecured(t, c, "t", n+1, kgo.SASL(kgoSASL(MechanismScramSHA512, saslUser, pass)))
	assert.Len(t, got, n+1, "every record exactly once")
	last := map[string]int{}
	for _, r := range got {
		if r.Key == nil {
			continue // the warm-up record
		}
		var v int
		_, err := fmt.Sscan(string(r.Value), &v)
		require.NoError(t, err)
		if prev, ok := last[string(r.Key)]; ok {
			assert.Greater(t, v, prev, "order within key %s", r.Key)
		}
		last[string(r.Key)] = v
	}
}

// syncBuffer is a bytes.Buffer safe for the producer's concurrent logging.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
