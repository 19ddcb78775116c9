package producer

import (
	"bytes"
	"log/slog"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/internal/compress"
	"github.com/tributary-go/tributary/metadata"
)

// TestPropertiesParse sets each implemented property to a non-default value
// and checks the field it lands in. Every name PropertyNames returns must
// appear here.
func TestPropertiesParse(t *testing.T) {
	tests := []struct {
		key, value string
		check      func(t *testing.T, c *config)
	}{
		{"bootstrap.servers", " a:1 , b:2,c:3 ", func(t *testing.T, c *config) { assert.Equal(t, []string{"a:1", "b:2", "c:3"}, c.bootstrap) }},
		{"client.id", " me ", func(t *testing.T, c *config) { assert.Equal(t, "me", c.clientID) }},
		{"acks", "1", func(t *testing.T, c *config) { assert.Equal(t, int16(1), c.acks) }},
		{"batch.size", "0", func(t *testing.T, c *config) { assert.Equal(t, 0, c.batchSize) }},
		{"linger.ms", "250", func(t *testing.T, c *config) { assert.Equal(t, 250*time.Millisecond, c.linger) }},
		{"buffer.memory", "8589934592", func(t *testing.T, c *config) { assert.Equal(t, int64(8<<30), c.bufferMemory) }},
		{"max.block.ms", "1500", func(t *testing.T, c *config) { assert.Equal(t, 1500*time.Millisecond, c.maxBlock) }},
		{"compression.type", "lz4", func(t *testing.T, c *config) { assert.Equal(t, compress.LZ4, c.compression) }},
		{"compression.gzip.level", "4", func(t *testing.T, c *config) { assert.Equal(t, 4, c.gzipLevel) }},
		{"compression.lz4.level", "12", func(t *testing.T, c *config) { assert.Equal(t, 12, c.lz4Level) }},
		{"compression.zstd.level", "-7", func(t *testing.T, c *config) { assert.Equal(t, -7, c.zstdLevel) }},
		{"retries", "7", func(t *testing.T, c *config) { assert.Equal(t, 7, c.retries) }},
		{"retry.backoff.ms", "20", func(t *testing.T, c *config) { assert.Equal(t, 20*time.Millisecond, c.retryBackoff) }},
		{"retry.backoff.max.ms", "9000", func(t *testing.T, c *config) { assert.Equal(t, 9*time.Second, c.retryBackoffMax) }},
		{"request.timeout.ms", "1000", func(t *testing.T, c *config) { assert.Equal(t, time.Second, c.requestTimeout) }},
		{"delivery.timeout.ms", "200000", func(t *testing.T, c *config) { assert.Equal(t, 200*time.Second, c.deliveryTimeout) }},
		{"max.in.flight.requests.per.connection", "2", func(t *testing.T, c *config) { assert.Equal(t, 2, c.maxInFlight) }},
		{"max.request.size", "2097152", func(t *testing.T, c *config) { assert.Equal(t, 2<<20, c.maxRequestSize) }},
		{"partitioner.class", "org.apache.kafka.clients.producer.RoundRobinPartitioner", func(t *testing.T, c *config) {
			assert.Equal(t, "round-robin", c.partitionerName)
		}},
		{"partitioner.ignore.keys", "true", func(t *testing.T, c *config) { assert.True(t, c.ignoreKeys) }},
		{"partitioner.adaptive.partitioning.enable", "FALSE", func(t *testing.T, c *config) { assert.False(t, c.adaptive) }},
		{"partitioner.availability.timeout.ms", "300", func(t *testing.T, c *config) { assert.Equal(t, 300*time.Millisecond, c.availabilityTimeout) }},
		{"metadata.max.age.ms", "1000", func(t *testing.T, c *config) { assert.Equal(t, time.Second, c.metadataMaxAge) }},
		{"metadata.max.idle.ms", "60000", func(t *testing.T, c *config) { assert.Equal(t, time.Minute, c.metadataMaxIdle) }},
		{"connections.max.idle.ms", "1000", func(t *testing.T, c *config) { assert.Equal(t, time.Second, c.connectionsMaxIdle) }},
		{"reconnect.backoff.ms", "10", func(t *testing.T, c *config) { assert.Equal(t, 10*time.Millisecond, c.reconnectBackoff) }},
		{"reconnect.backoff.max.ms", "5000", func(t *testing.T, c *config) { assert.Equal(t, 5*time.Second, c.reconnectBackoffMax) }},
		{"socket.connection.setup.timeout.ms", "3000", func(t *testing.T, c *config) { assert.Equal(t, 3*time.Second, c.socketSetupTimeout) }},
		{"socket.connection.setup.timeout.max.ms", "60000", func(t *testing.T, c *config) { assert.Equal(t, time.Minute, c.socketSetupTimeoutMax) }},
		{"allow.auto.create.topics", "false", func(t *testing.T, c *config) { assert.False(t, c.allowAutoTopicCreation) }},
		{"enable.idempotence", "false", func(t *testing.T, c *config) { assert.False(t, c.idempotence) }},
		{"transactional.id", "tx-1", func(t *testing.T, c *config) { assert.Equal(t, "tx-1", c.transactionalID) }},
		{"transaction.timeout.ms", "900000", func(t *testing.T, c *config) { assert.Equal(t, 15*time.Minute, c.transactionTimeout) }},
		{"enable.metrics.push", "false", func(t *testing.T, c *config) { assert.False(t, c.metricsPush) }},
		{"metadata.recovery.strategy", "NONE", func(t *testing.T, c *config) { assert.Equal(t, metadata.RecoveryNone, c.metadataRecovery) }},
		{"metadata.recovery.rebootstrap.trigger.ms", "2500", func(t *testing.T, c *config) { assert.Equal(t, 2500*time.Millisecond, c.rebootstrapTrigger) }},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.key] = true
		t.Run(tt.key, func(t *testing.T) {
			c := defaultConfig()
			require.NoError(t, applyProperties(c, map[string]string{tt.key: tt.value}))
			tt.check(t, c)
			assert.Equal(t, []string{tt.key}, keysOf(c.explicit))
		})
	}
	for _, name := range PropertyNames() {
		if _, sec := securityProperties[name]; sec || name == keySecurityProtocol {
			continue // TestSecurityPropertiesParse
		}
		assert.True(t, covered[name], "property %s has no parse test", name)
	}
}

// TestPropertiesValues covers the accepted spellings of the properties
// with more than one.
func TestPropertiesValues(t *testing.T) {
	tests := []struct {
		key, value string
		check      func(t *testing.T, c *config)
	}{
		{"acks", "all", func(t *testing.T, c *config) { assert.Equal(t, int16(-1), c.acks) }},
		{"acks", "-1", func(t *testing.T, c *config) { assert.Equal(t, int16(-1), c.acks) }},
		{"acks", " 0 ", func(t *testing.T, c *config) { assert.Equal(t, int16(0), c.acks) }},
		{"compression.type", "GZIP", func(t *testing.T, c *config) { assert.Equal(t, compress.Gzip, c.compression) }},
		{"compression.type", "snappy", func(t *testing.T, c *config) { assert.Equal(t, compress.Snappy, c.compression) }},
		{"compression.type", "zstd", func(t *testing.T, c *config) { assert.Equal(t, compress.Zstd, c.compression) }},
		{"compression.type", "none", func(t *testing.T, c *config) { assert.Equal(t, compress.None, c.compression) }},
		{"partitioner.class", "round-robin", func(t *testing.T, c *config) { assert.Equal(t, "round-robin", c.partitionerName) }},
		{"partitioner.class", "uniform-sticky", func(t *testing.T, c *config) { assert.Equal(t, "uniform-sticky", c.partitionerName) }},
		{"partitioner.class", "org.apache.kafka.clients.producer.UniformStickyPartitioner", func(t *testing.T, c *config) {
			assert.Equal(t, "uniform-sticky", c.partitionerName)
		}},
		{"partitioner.class", "default", func(t *testing.T, c *config) { assert.Equal(t, "", c.partitionerName) }},
		{"partitioner.class", "", func(t *testing.T, c *config) { assert.Equal(t, "", c.partitionerName) }},
		{"enable.idempotence", " True ", func(t *testing.T, c *config) { assert.True(t, c.idempotence) }},
		{"bootstrap.servers", "[::1]:9092", func(t *testing.T, c *config) { assert.Equal(t, []string{"[::1]:9092"}, c.bootstrap) }},
		{"bootstrap.servers", "  ", func(t *testing.T, c *config) { assert.Nil(t, c.bootstrap) }},
		{"max.block.ms", "9223372036854775807", func(t *testing.T, c *config) { assert.Equal(t, time.Duration(math.MaxInt64), c.maxBlock) }},
		{"linger.ms", "-9223372036854775808", func(t *testing.T, c *config) { assert.Equal(t, time.Duration(math.MinInt64), c.linger) }},
		{"request.timeout.ms", "2147483647", func(t *testing.T, c *config) { assert.Equal(t, maxJavaIntMillis, c.requestTimeout) }},
		{"batch.size", "-1", func(t *testing.T, c *config) { assert.Equal(t, -1, c.batchSize) }}, // parsed; validate rejects
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			c := defaultConfig()
			require.NoError(t, applyProperties(c, map[string]string{tt.key: tt.value}))
			tt.check(t, c)
		})
	}
}

// TestPropertiesReject covers malformed values, unknown keys and
// unsupported features: each is a *ConfigError naming the key (and the
// value when there is one).
func TestPropertiesReject(t *testing.T) {
	tests := []struct {
		key, value string
		reason     string // substring of Error()
	}{
		{"acks", "ALL", `"all"`},
		{"acks", "2", `"all"`},
		{"acks", "", `"all"`},
		{"batch.size", "16k", "not an integer"},
		{"batch.size", "1.5", "not an integer"},
		{"batch.size", "2147483648", "out of range for a Java int"},
		{"retries", "0x10", "not an integer"},
		{"buffer.memory", "9223372036854775808", "out of range for a Java long"},
		{"linger.ms", "5ms", "not an integer"},
		{"linger.ms", "", "not an integer"},
		{"delivery.timeout.ms", "2147483648", "out of range for a Java int"},
		{"enable.idempotence", "yes", `"true" or "false"`},
		{"enable.idempotence", "1", `"true" or "false"`},
		{"compression.type", "brotli", "none, gzip, snappy, lz4 or zstd"},
		{"partitioner.class", "com.example.MyPartitioner", "WithPartitioner"},
		{"bootstrap.servers", "a:1,,b:2", "empty entry"},
		{"metadata.recovery.strategy", "rebootstrap-later", "none or rebootstrap"},
		{"metadata.recovery.rebootstrap.trigger.ms", "-1", "0 or more"},
		{"bootstrap.servers", "a:1,", "empty entry"},
		{"transactional.id", " ", "must not be empty"},
		{"interceptor.classes", "com.example.Audit", "WithInterceptors"},
		{"security.protocol", "TLS", "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"},
		{"client.dns.lookup", "use_all_dns_ips", "not supported by Tributary"},
		{"send.buffer.bytes", "131072", "not supported by Tributary"},
		{"metric.reporters", "", "not supported by Tributary"},
		{"batch.sise", "100", "unknown producer property"},
		{"group.id", "g", "unknown producer property"},
		{"linger", "5", "unknown producer property"},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			err := applyProperties(defaultConfig(), map[string]string{tt.key: tt.value})
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.key, ce.Key)
			assert.Contains(t, err.Error(), tt.key)
			assert.Contains(t, err.Error(), tt.reason)
			if v := tt.value; v != "" && v != " " {
				assert.Contains(t, err.Error(), v)
			}
		})
	}
}

// TestPropertiesAccepted covers the keys accepted without effect.
func TestPropertiesAccepted(t *testing.T) {
	props := map[string]string{
		"bootstrap.servers":       "localhost:9092",
		"key.serializer":          "org.apache.kafka.common.serialization.StringSerializer",
		"value.serializer":        "org.apache.kafka.common.serialization.ByteArraySerializer",
		"security.protocol":       "plaintext",
		"ssl.truststore.location": "/etc/kafka/truststore.jks",
		"sasl.mechanism":          "PLAIN",
		"interceptor.classes":     "",
	}
	c := defaultConfig()
	require.NoError(t, applyProperties(c, props))
	assert.Equal(t, []string{"bootstrap.servers"}, keysOf(c.explicit))

	var logs bytes.Buffer
	c.logger = slog.New(slog.NewTextHandler(&logs, nil))
	require.NoError(t, c.validate())
	assert.Contains(t, logs.String(), "sasl.mechanism")
	assert.Contains(t, logs.String(), "ssl.truststore.location")
	assert.NotContains(t, logs.String(), "key.serializer")
}

// TestPropertiesFirstErrorIsDeterministic checks that with several bad
// keys the error always names the first in sorted order.
func TestPropertiesFirstErrorIsDeterministic(t *testing.T) {
	props := map[string]string{"zzz": "1", "linger.ms": "x", "acks": "2", "retries": "y"}
	for range 20 {
		var ce *ConfigError
		require.ErrorAs(t, applyProperties(defaultConfig(), props), &ce)
		assert.Equal(t, "acks", ce.Key)
	}
}

// TestPropertiesThenValidate runs the NewFromProperties sequence
// (defaults, properties, options, validate) for the rules that depend on
// which keys were set explicitly.
func TestPropertiesThenValidate(t *testing.T) {
	base := map[string]string{"bootstrap.servers": "localhost:9092"}
	tests := []struct {
		name     string
		props    map[string]string
		opts     []Option
		errKey   string // "" means valid
		mentions []string
		check    func(t *testing.T, c *config)
	}{
		{name: "explicit idempotence and acks=1", props: map[string]string{"enable.idempotence": "true", "acks": "1"},
			errKey: "acks", mentions: []string{"enable.idempotence=true", "acks=all"}},
		{name: "default idempotence and acks=1", props: map[string]string{"acks": "1"}, check: func(t *testing.T, c *config) {
			assert.False(t, c.idempotence)
			assert.Contains(t, c.idempotenceDisabledReason, "acks=1")
		}},
		{name: "explicit delivery below sum", props: map[string]string{"delivery.timeout.ms": "1000"},
			errKey: "delivery.timeout.ms", mentions: []string{"linger.ms", "request.timeout.ms"}},
		{name: "request timeout raises default delivery", props: map[string]string{"request.timeout.ms": "200000"},
			check: func(t *testing.T, c *config) { assert.Equal(t, 200005*time.Millisecond, c.deliveryTimeout) }},
		{name: "reconnect backoff without max disables exponential backoff", props: map[string]string{"reconnect.backoff.ms": "200"},
			check: func(t *testing.T, c *config) {
				assert.Equal(t, 200*time.Millisecond, c.reconnectBackoff)
				assert.Equal(t, 200*time.Millisecond, c.reconnectBackoffMax)
			}},
		{name: "reconnect backoff with max", props: map[string]string{"reconnect.backoff.ms": "200", "reconnect.backoff.max.ms": "4000"},
			check: func(t *testing.T, c *config) { assert.Equal(t, 4*time.Second, c.reconnectBackoffMax) }},
		{name: "option overrides property", props: map[string]string{"acks": "1", "linger.ms": "100"}, opts: []Option{WithAcks(AcksAll)},
			check: func(t *testing.T, c *config) {
				assert.Equal(t, int16(-1), c.acks)
				assert.True(t, c.idempotence)
				assert.Equal(t, 100*time.Millisecond, c.linger)
			}},
		{name: "option level applies to property codec", props: map[string]string{"compression.type": "zstd"}, opts: []Option{WithCompressionLevel(19)},
			check: func(t *testing.T, c *config) { assert.Equal(t, 19, c.zstdLevel) }},
		{name: "level out of range for unused codec", props: map[string]string{"compression.lz4.level": "0"},
			errKey: "compression.lz4.level"},
		{name: "batch.size negative", props: map[string]string{"batch.size": "-1"}, errKey: "batch.size"},
		{name: "metadata.max.idle below 5000", props: map[string]string{"metadata.max.idle.ms": "1000"}, errKey: "metadata.max.idle.ms"},
		{name: "transactional with idempotence off", props: map[string]string{"transactional.id": "t", "enable.idempotence": "false"},
			errKey: "transactional.id", mentions: []string{"enable.idempotence"}},
		{name: "bootstrap missing", props: map[string]string{"bootstrap.servers": ""}, errKey: "bootstrap.servers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props := map[string]string{}
			for k, v := range base {
				props[k] = v
			}
			for k, v := range tt.props {
				props[k] = v
			}
			c := defaultConfig()
			require.NoError(t, applyProperties(c, props))
			apply(c, tt.opts)
			c.logger = slog.New(slog.DiscardHandler)
			err := c.validate()
			if tt.errKey == "" {
				require.NoError(t, err)
				if tt.check != nil {
					tt.check(t, c)
				}
				return
			}
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.errKey, ce.Key)
			for _, m := range tt.mentions {
				assert.Contains(t, err.Error(), m)
			}
		})
	}
}

func TestPropertyNames(t *testing.T) {
	names := PropertyNames()
	assert.True(t, slices.IsSorted(names))
	assert.Len(t, names, 36+len(securityProperties)+1)
	for _, want := range []string{"bootstrap.servers", "acks", "linger.ms", "enable.idempotence", "compression.zstd.level",
		"security.protocol", "sasl.jaas.config", "ssl.truststore.location"} {
		assert.Contains(t, names, want)
	}
	for _, absent := range []string{"key.serializer", "interceptor.classes", "ssl.protocol"} {
		assert.NotContains(t, names, absent)
	}
	names[0] = "mutated"
	assert.NotEqual(t, "mutated", PropertyNames()[0], "PropertyNames returns a fresh slice")
}
