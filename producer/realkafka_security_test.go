package producer_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/tributary-go/tributary/internal/kafkatest"
	"github.com/tributary-go/tributary/producer"
	"github.com/tributary-go/tributary/protocol"
)

// saslProps returns the Java client properties for user over SASL_SSL
// with mechanism, trusting the cluster's CA through a PEM trust store.
func saslProps(c *kafkatest.Cluster, mechanism string, u kafkatest.User) map[string]string {
	module := "org.apache.kafka.common.security.scram.ScramLoginModule"
	if mechanism == "PLAIN" {
		module = "org.apache.kafka.common.security.plain.PlainLoginModule"
	}
	return map[string]string{
		"bootstrap.servers":       strings.Join(c.SASLBootstrap(), ","),
		"security.protocol":       "SASL_SSL",
		"sasl.mechanism":          mechanism,
		"sasl.jaas.config":        fmt.Sprintf(`%s required username="%s" password="%s";`, module, u.Name, u.Password),
		"ssl.truststore.type":     "PEM",
		"ssl.truststore.location": c.CAFile(),
	}
}

func propsProducer(t *testing.T, props map[string]string) *producer.Producer {
	t.Helper()
	p, err := producer.NewFromProperties(props, producer.WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeProducer(t, p) })
	return p
}

// TestKafkaSASL sends over SASL_SSL with PLAIN, SCRAM-SHA-256 and
// SCRAM-SHA-512, configured through Java property names, and reads the
// records back with Kafka's ConsoleConsumer.
func TestKafkaSASL(t *testing.T) {
	t.Parallel() // real-Kafka tests overlap each other only: they start after the serial (leakcheck) tests
	c := kafkatest.Shared(t)
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			const n = 30
			topic := realTopic(t, c, 3)
			p := propsProducer(t, saslProps(c, mech, kafkatest.Admin))
			recs := realRecords(topic, 3, n)
			began := time.Now()
			mds := sendAll(t, p, recs)
			t.Logf("%s: %d records acknowledged over SASL_SSL in %s", mech, n, time.Since(began).Round(time.Millisecond))
			checkConsumed(t, recs, mds, consume(t, c, topic, n, false))
		})
	}
}

// TestKafkaSASLWrongPassword checks that a wrong password fails Send
// within max.block.ms with an authentication error that does not reveal
// the password.
func TestKafkaSASLWrongPassword(t *testing.T) {
	t.Parallel() // real-Kafka tests overlap each other only: they start after the serial (leakcheck) tests
	c := kafkatest.Shared(t)
	topic := realTopic(t, c, 1)
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			const secret = "not-the-password-5f3a"
			props := saslProps(c, mech, kafkatest.User{Name: kafkatest.Alice.Name, Password: secret})
			props["max.block.ms"] = "60000"
			p := propsProducer(t, props)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			began := time.Now()
			_, err := p.Send(ctx, &producer.Record{Topic: topic, Value: []byte("x")}).Get(ctx)
			t.Logf("%s: wrong password failed after %s: %v", mech, time.Since(began).Round(time.Millisecond), err)
			if err == nil {
				t.Fatal("Send with a wrong password succeeded")
			}
			if !errors.Is(err, protocol.ErrSASLAuthenticationFailed) {
				t.Errorf("error %v (%T) does not match protocol.ErrSASLAuthenticationFailed", err, err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error text reveals the password: %v", err)
			}
		})
	}
}

// TestKafkaTopicAuthorization gives bob (SCRAM-SHA-512) WRITE on one topic
// only: sending there works, sending to another topic fails with
// TOPIC_AUTHORIZATION_FAILED.
func TestKafkaTopicAuthorization(t *testing.T) {
	t.Parallel() // real-Kafka tests overlap each other only: they start after the serial (leakcheck) tests
	c := kafkatest.Shared(t)
	allowed, denied := realTopic(t, c, 3), realTopic(t, c, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	adm, err := c.Admin()
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	principal := "User:" + kafkatest.Bob.Name
	acl := kadm.NewACLs().Allow(principal).AllowHosts().Topics(allowed).
		Operations(kadm.OpWrite).ResourcePatternType(kadm.ACLPatternLiteral)
	results, err := adm.CreateACLs(ctx, acl)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil {
			t.Fatalf("CreateACLs: %v", r.Err)
		}
	}
	waitAuthorized(t, ctx, c, allowed)

	p := propsProducer(t, saslProps(c, "SCRAM-SHA-512", kafkatest.Bob))
	recs := realRecords(allowed, 3, 10)
	mds := sendAll(t, p, recs)
	checkConsumed(t, recs, mds, consume(t, c, allowed, len(recs), false))

	began := time.Now()
	_, err = p.Send(ctx, &producer.Record{Topic: denied, Value: []byte("x")}).Get(ctx)
	t.Logf("send to %s without ACL failed after %s: %v", denied, time.Since(began).Round(time.Millisecond), err)
	if !errors.Is(err, protocol.ErrTopicAuthorizationFailed) {
		t.Fatalf("send to a topic without ACL: error %v (%T), want protocol.ErrTopicAuthorizationFailed", err, err)
	}
	// The authorized topic still works on the same producer.
	sendAll(t, p, []*producer.Record{{Topic: allowed, Value: []byte("after the denial")}})
}

// waitAuthorized waits until every broker lets bob describe topic (WRITE
// implies DESCRIBE): ACLs reach each broker's authorizer through the
// metadata log, a moment after CreateACLs returns.
func waitAuthorized(t *testing.T, ctx context.Context, c *kafkatest.Cluster, topic string) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CAPEM())
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.SASLBootstrap()...),
		kgo.DialTLSConfig(&tls.Config{RootCAs: pool}),
		kgo.SASL(scram.Auth{User: kafkatest.Bob.Name, Pass: kafkatest.Bob.Password}.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, n := range c.Nodes {
		for {
			req := kmsg.NewPtrMetadataRequest()
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(topic)
			req.Topics = append(req.Topics, rt)
			resp, err := req.RequestWith(ctx, cl.Broker(n.ID))
			if err == nil && len(resp.Topics) == 1 && resp.Topics[0].ErrorCode == 0 {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("ACL for bob on %s not effective on node %d: %v", topic, n.ID, ctx.Err())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
