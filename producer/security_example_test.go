package producer_test

import (
	"context"
	"crypto/tls"
	"errors"
	"log"
	"os"

	"github.com/tributary-go/tributary/producer"
)

// Amazon MSK style: SASL/SCRAM-SHA-512 over TLS, trusting the system's
// CAs.
func ExampleWithSASLScram() {
	p, err := producer.New(
		producer.WithBootstrapServers("b-1.example.kafka.us-east-1.amazonaws.com:9096"),
		producer.WithTLS(&tls.Config{MinVersion: tls.VersionTLS12}),
		producer.WithSASLScram(producer.MechanismScramSHA512, "alice", os.Getenv("KAFKA_PASSWORD")),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())

	_, err = p.Send(context.Background(), &producer.Record{Topic: "events", Value: []byte("hello")}).Get(context.Background())
	var authErr *producer.AuthError
	switch {
	case errors.As(err, &authErr):
		log.Fatalf("check the credentials for %s: %v", authErr.Mechanism, err)
	case errors.Is(err, producer.ErrAuthentication):
		log.Fatalf("TLS trust failed: %v", err)
	case err != nil:
		log.Fatal(err)
	}
}

// Confluent Cloud style: SASL/PLAIN over TLS from Java properties.
func ExampleNewFromProperties_saslSSL() {
	p, err := producer.NewFromProperties(map[string]string{
		"bootstrap.servers": "pkc-12345.us-east-1.aws.confluent.cloud:9092",
		"security.protocol": "SASL_SSL",
		"sasl.mechanism":    "PLAIN",
		"sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule required ` +
			`username="API_KEY" password="` + os.Getenv("CONFLUENT_API_SECRET") + `";`,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())
}

// OAUTHBEARER with a token source of your own; the provider is asked once
// per new connection and should cache its token.
func ExampleWithSASLOAuthBearer() {
	fetch := func(ctx context.Context) (producer.Token, error) {
		return producer.Token{Value: os.Getenv("KAFKA_TOKEN"), Extensions: map[string]string{"logicalCluster": "lkc-abc123"}}, nil
	}
	p, err := producer.New(
		producer.WithBootstrapServers("broker:9093"),
		producer.WithTLS(nil),
		producer.WithSASLOAuthBearer(fetch),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())
}
