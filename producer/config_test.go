package producer

import (
	"bytes"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/internal/compress"
	"github.com/tributary-go/tributary/partitioner"
)

// TestDefaultsMatchJava pins every default to the Java producer's (Kafka
// 4.x ProducerConfig), written out independently of defaultConfig.
func TestDefaultsMatchJava(t *testing.T) {
	c := defaultConfig()
	tests := []struct {
		key  string
		got  any
		want any
	}{
		{"bootstrap.servers", c.bootstrap, []string(nil)},
		{"client.id", c.clientID, ""},
		{"acks", c.acks, int16(-1)},
		{"batch.size", c.batchSize, 16384},
		{"linger.ms", c.linger, 5 * time.Millisecond},
		{"buffer.memory", c.bufferMemory, int64(33554432)},
		{"max.block.ms", c.maxBlock, 60000 * time.Millisecond},
		{"compression.type", c.compression, compress.None},
		{"compression.gzip.level", c.gzipLevel, -1},
		{"compression.lz4.level", c.lz4Level, 9},
		{"compression.zstd.level", c.zstdLevel, 3},
		{"retries", c.retries, 2147483647},
		{"retry.backoff.ms", c.retryBackoff, 100 * time.Millisecond},
		{"retry.backoff.max.ms", c.retryBackoffMax, 1000 * time.Millisecond},
		{"request.timeout.ms", c.requestTimeout, 30000 * time.Millisecond},
		{"delivery.timeout.ms", c.deliveryTimeout, 120000 * time.Millisecond},
		{"max.in.flight.requests.per.connection", c.maxInFlight, 5},
		{"max.request.size", c.maxRequestSize, 1048576},
		{"partitioner.class", c.partitioner, partitioner.Partitioner(nil)},
		{"partitioner.class (name)", c.partitionerName, ""},
		{"partitioner.ignore.keys", c.ignoreKeys, false},
		{"partitioner.adaptive.partitioning.enable", c.adaptive, true},
		{"partitioner.availability.timeout.ms", c.availabilityTimeout, time.Duration(0)},
		{"metadata.max.age.ms", c.metadataMaxAge, 300000 * time.Millisecond},
		{"metadata.max.idle.ms", c.metadataMaxIdle, 300000 * time.Millisecond},
		{"connections.max.idle.ms", c.connectionsMaxIdle, 540000 * time.Millisecond},
		{"reconnect.backoff.ms", c.reconnectBackoff, 50 * time.Millisecond},
		{"reconnect.backoff.max.ms", c.reconnectBackoffMax, 1000 * time.Millisecond},
		{"socket.connection.setup.timeout.ms", c.socketSetupTimeout, 10000 * time.Millisecond},
		{"socket.connection.setup.timeout.max.ms", c.socketSetupTimeoutMax, 30000 * time.Millisecond},
		{"allow.auto.create.topics", c.allowAutoTopicCreation, true},
		{"enable.idempotence", c.idempotence, true},
		{"transactional.id", c.transactionalID, ""},
		{"transaction.timeout.ms", c.transactionTimeout, 60000 * time.Millisecond},
		{"interceptor.classes", len(c.interceptors), 0},
		{"explicit", len(c.explicit), 0},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.got)
		})
	}
	t.Run("logger", func(t *testing.T) {
		require.NotNil(t, c.logger)
		assert.True(t, c.logger.Enabled(t.Context(), slog.LevelWarn))
		assert.False(t, c.logger.Enabled(t.Context(), slog.LevelInfo))
	})
	t.Run("valid with bootstrap", func(t *testing.T) {
		c := defaultConfig()
		c.bootstrap = []string{"localhost:9092"}
		require.NoError(t, c.validate())
		assert.True(t, c.idempotence)
		assert.Empty(t, c.idempotenceDisabledReason)
		assert.Equal(t, 120*time.Second, c.deliveryTimeout)
	})
}

type nopInterceptor struct{}

func (nopInterceptor) OnSend(r *Record) *Record                { return r }
func (nopInterceptor) OnAcknowledgement(RecordMetadata, error) {}

func stubPartition(partitioner.Topic, []byte, []byte) int32 { return 0 }

func apply(c *config, opts []Option) {
	for _, o := range opts {
		o(c)
	}
}

func configWith(opts ...Option) *config {
	c := defaultConfig()
	apply(c, opts)
	return c
}

func keysOf(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestOptions checks that each option stores its raw value and marks its
// Java key(s) as explicit.
func TestOptions(t *testing.T) {
	p := partitioner.Func(stubPartition)
	logger := slog.New(slog.DiscardHandler)
	tests := []struct {
		name  string
		opt   Option
		check func(t *testing.T, c *config)
		keys  []string
	}{
		{"bootstrap", WithBootstrapServers("a:1", "b:2"), func(t *testing.T, c *config) { assert.Equal(t, []string{"a:1", "b:2"}, c.bootstrap) }, []string{"bootstrap.servers"}},
		{"client id", WithClientID("me"), func(t *testing.T, c *config) { assert.Equal(t, "me", c.clientID) }, []string{"client.id"}},
		{"acks leader", WithAcks(AcksLeader), func(t *testing.T, c *config) { assert.Equal(t, int16(1), c.acks) }, []string{"acks"}},
		{"acks none", WithAcks(AcksNone), func(t *testing.T, c *config) { assert.Equal(t, int16(0), c.acks) }, []string{"acks"}},
		{"batch size", WithBatchSize(0), func(t *testing.T, c *config) { assert.Equal(t, 0, c.batchSize) }, []string{"batch.size"}},
		{"linger", WithLinger(time.Second), func(t *testing.T, c *config) { assert.Equal(t, time.Second, c.linger) }, []string{"linger.ms"}},
		{"buffer memory", WithBufferMemory(1 << 30), func(t *testing.T, c *config) { assert.Equal(t, int64(1<<30), c.bufferMemory) }, []string{"buffer.memory"}},
		{"max block", WithMaxBlock(time.Second), func(t *testing.T, c *config) { assert.Equal(t, time.Second, c.maxBlock) }, []string{"max.block.ms"}},
		{"compression", WithCompression("ZSTD"), func(t *testing.T, c *config) { assert.Equal(t, compress.Zstd, c.compression) }, []string{"compression.type"}},
		{"compression level (deferred)", WithCompressionLevel(7), func(t *testing.T, c *config) {
			assert.True(t, c.compressionLevelSet)
			assert.Equal(t, 7, c.compressionLevel)
		}, nil},
		{"retries", WithRetries(3), func(t *testing.T, c *config) { assert.Equal(t, 3, c.retries) }, []string{"retries"}},
		{"retry backoff", WithRetryBackoff(time.Millisecond, time.Minute), func(t *testing.T, c *config) {
			assert.Equal(t, time.Millisecond, c.retryBackoff)
			assert.Equal(t, time.Minute, c.retryBackoffMax)
		}, []string{"retry.backoff.ms", "retry.backoff.max.ms"}},
		{"request timeout", WithRequestTimeout(time.Second), func(t *testing.T, c *config) { assert.Equal(t, time.Second, c.requestTimeout) }, []string{"request.timeout.ms"}},
		{"delivery timeout", WithDeliveryTimeout(time.Hour), func(t *testing.T, c *config) { assert.Equal(t, time.Hour, c.deliveryTimeout) }, []string{"delivery.timeout.ms"}},
		{"max in flight", WithMaxInFlight(1), func(t *testing.T, c *config) { assert.Equal(t, 1, c.maxInFlight) }, []string{"max.in.flight.requests.per.connection"}},
		{"max request size", WithMaxRequestSize(10), func(t *testing.T, c *config) { assert.Equal(t, 10, c.maxRequestSize) }, []string{"max.request.size"}},
		{"partitioner", WithPartitioner(p), func(t *testing.T, c *config) { assert.NotNil(t, c.partitioner) }, []string{"partitioner.class"}},
		{"ignore keys", WithPartitionerIgnoreKeys(true), func(t *testing.T, c *config) { assert.True(t, c.ignoreKeys) }, []string{"partitioner.ignore.keys"}},
		{"adaptive", WithAdaptivePartitioning(false), func(t *testing.T, c *config) { assert.False(t, c.adaptive) }, []string{"partitioner.adaptive.partitioning.enable"}},
		{"availability", WithPartitionerAvailabilityTimeout(time.Second), func(t *testing.T, c *config) { assert.Equal(t, time.Second, c.availabilityTimeout) }, []string{"partitioner.availability.timeout.ms"}},
		{"metadata max age", WithMetadataMaxAge(time.Second), func(t *testing.T, c *config) { assert.Equal(t, time.Second, c.metadataMaxAge) }, []string{"metadata.max.age.ms"}},
		{"metadata max idle", WithMetadataMaxIdle(time.Hour), func(t *testing.T, c *config) { assert.Equal(t, time.Hour, c.metadataMaxIdle) }, []string{"metadata.max.idle.ms"}},
		{"connections max idle", WithConnectionsMaxIdle(time.Second), func(t *testing.T, c *config) { assert.Equal(t, time.Second, c.connectionsMaxIdle) }, []string{"connections.max.idle.ms"}},
		{"reconnect backoff", WithReconnectBackoff(time.Millisecond, time.Second), func(t *testing.T, c *config) {
			assert.Equal(t, time.Millisecond, c.reconnectBackoff)
			assert.Equal(t, time.Second, c.reconnectBackoffMax)
		}, []string{"reconnect.backoff.ms", "reconnect.backoff.max.ms"}},
		{"socket setup", WithSocketConnectionSetupTimeout(time.Second, time.Minute), func(t *testing.T, c *config) {
			assert.Equal(t, time.Second, c.socketSetupTimeout)
			assert.Equal(t, time.Minute, c.socketSetupTimeoutMax)
		}, []string{"socket.connection.setup.timeout.ms", "socket.connection.setup.timeout.max.ms"}},
		{"auto create", WithAllowAutoTopicCreation(false), func(t *testing.T, c *config) { assert.False(t, c.allowAutoTopicCreation) }, []string{"allow.auto.create.topics"}},
		{"idempotence", WithIdempotence(false), func(t *testing.T, c *config) { assert.False(t, c.idempotence) }, []string{"enable.idempotence"}},
		{"transactional id", WithTransactionalID("tx"), func(t *testing.T, c *config) { assert.Equal(t, "tx", c.transactionalID) }, []string{"transactional.id"}},
		{"transactional id cleared", WithTransactionalID(""), func(t *testing.T, c *config) { assert.Equal(t, "", c.transactionalID) }, nil},
		{"transaction timeout", WithTransactionTimeout(time.Minute), func(t *testing.T, c *config) { assert.Equal(t, time.Minute, c.transactionTimeout) }, []string{"transaction.timeout.ms"}},
		{"interceptors", WithInterceptors(nopInterceptor{}, nopInterceptor{}), func(t *testing.T, c *config) { assert.Len(t, c.interceptors, 2) }, []string{"interceptor.classes"}},
		{"logger", WithLogger(logger), func(t *testing.T, c *config) { assert.Same(t, logger, c.logger) }, nil},
		{"nil logger discards", WithLogger(nil), func(t *testing.T, c *config) {
			require.NotNil(t, c.logger)
			assert.False(t, c.logger.Enabled(t.Context(), slog.LevelError))
		}, nil},
		{"dialer", WithDialer(nil), func(t *testing.T, c *config) { assert.Nil(t, c.dial) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := configWith(tt.opt)
			tt.check(t, c)
			assert.ElementsMatch(t, tt.keys, keysOf(c.explicit))
		})
	}
}

// TestOptionsCopyArguments checks that options do not alias the caller's
// slices.
func TestOptionsCopyArguments(t *testing.T) {
	addrs := []string{"a:1"}
	ics := []Interceptor{nopInterceptor{}}
	opts := []Option{WithBootstrapServers(addrs...), WithInterceptors(ics...)}
	addrs[0] = "changed:2"
	ics[0] = nil
	c := configWith(opts...)
	assert.Equal(t, []string{"a:1"}, c.bootstrap)
	assert.NotNil(t, c.interceptors[0])
}

func TestAcksString(t *testing.T) {
	for _, tt := range []struct {
		a    Acks
		want string
	}{{AcksAll, "all"}, {AcksNone, "0"}, {AcksLeader, "1"}, {Acks(7), "7"}} {
		t.Run(tt.want, func(t *testing.T) { assert.Equal(t, tt.want, tt.a.String()) })
	}
}

// TestValidateRejects covers every rule that rejects a configuration: the
// error is a *ConfigError matching ErrInvalidConfig, with the expected key
// and value, and its message names every setting involved.
func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name      string
		opts      []Option
		key       string
		value     string
		mentions  []string // substrings of Error()
		noBootstr bool     // do not add a valid bootstrap list
	}{
		{name: "bootstrap missing", noBootstr: true, key: "bootstrap.servers", mentions: []string{"required"}},
		{name: "bootstrap empty", opts: []Option{WithBootstrapServers()}, key: "bootstrap.servers", mentions: []string{"required"}},
		{name: "bootstrap no port", opts: []Option{WithBootstrapServers("localhost")}, key: "bootstrap.servers", value: "localhost"},
		{name: "bootstrap no host", opts: []Option{WithBootstrapServers(":9092")}, key: "bootstrap.servers", value: ":9092"},
		{name: "bootstrap port not numeric", opts: []Option{WithBootstrapServers("h:http")}, key: "bootstrap.servers", value: "h:http", mentions: []string{"port"}},
		{name: "bootstrap port too large", opts: []Option{WithBootstrapServers("h:65536")}, key: "bootstrap.servers", value: "h:65536"},
		{name: "bootstrap bare ipv6", opts: []Option{WithBootstrapServers("::1:9092")}, key: "bootstrap.servers", value: "::1:9092"},
		{name: "bootstrap duplicate", opts: []Option{WithBootstrapServers("h:1", "h:1")}, key: "bootstrap.servers", value: "h:1", mentions: []string{"twice"}},
		{name: "acks 2", opts: []Option{WithAcks(2)}, key: "acks", value: "2"},
		{name: "acks -2", opts: []Option{WithAcks(-2)}, key: "acks", value: "-2"},

		{name: "batch.size negative", opts: []Option{WithBatchSize(-1)}, key: "batch.size", value: "-1"},
		{name: "batch.size over int", opts: []Option{WithBatchSize(math.MaxInt32 + 1)}, key: "batch.size", value: "2147483648"},
		{name: "buffer.memory negative", opts: []Option{WithBufferMemory(-1)}, key: "buffer.memory", value: "-1"},
		{name: "retries negative", opts: []Option{WithRetries(-1)}, key: "retries", value: "-1"},
		{name: "max.in.flight zero", opts: []Option{WithMaxInFlight(0)}, key: "max.in.flight.requests.per.connection", value: "0"},
		{name: "max.request.size negative", opts: []Option{WithMaxRequestSize(-1)}, key: "max.request.size", value: "-1"},
		{name: "linger negative", opts: []Option{WithLinger(-time.Millisecond)}, key: "linger.ms", value: "-1"},
		{name: "max.block negative", opts: []Option{WithMaxBlock(-time.Second)}, key: "max.block.ms", value: "-1000"},
		{name: "retry.backoff negative", opts: []Option{WithRetryBackoff(-time.Millisecond, time.Second)}, key: "retry.backoff.ms", value: "-1"},
		{name: "retry.backoff.max negative", opts: []Option{WithRetryBackoff(0, -time.Millisecond)}, key: "retry.backoff.max.ms", value: "-1"},
		{name: "request.timeout negative", opts: []Option{WithRequestTimeout(-time.Millisecond)}, key: "request.timeout.ms", value: "-1"},
		{name: "request.timeout over int", opts: []Option{WithRequestTimeout(maxJavaIntMillis + time.Millisecond), WithDeliveryTimeout(maxJavaIntMillis)}, key: "request.timeout.ms", value: "2147483648"},
		{name: "delivery.timeout over int", opts: []Option{WithDeliveryTimeout(maxJavaIntMillis + time.Millisecond)}, key: "delivery.timeout.ms", value: "2147483648"},
		{name: "delivery.timeout negative", opts: []Option{WithDeliveryTimeout(-time.Millisecond)}, key: "delivery.timeout.ms", value: "-1"},
		{name: "availability negative", opts: []Option{WithPartitionerAvailabilityTimeout(-time.Millisecond)}, key: "partitioner.availability.timeout.ms", value: "-1"},
		{name: "metadata.max.age negative", opts: []Option{WithMetadataMaxAge(-time.Millisecond)}, key: "metadata.max.age.ms", value: "-1"},
		{name: "metadata.max.idle below 5s", opts: []Option{WithMetadataMaxIdle(4999 * time.Millisecond)}, key: "metadata.max.idle.ms", value: "4999", mentions: []string{"5000"}},
		{name: "connections.max.idle negative", opts: []Option{WithConnectionsMaxIdle(-time.Millisecond)}, key: "connections.max.idle.ms", value: "-1"},
		{name: "reconnect.backoff negative", opts: []Option{WithReconnectBackoff(-time.Millisecond, time.Second)}, key: "reconnect.backoff.ms", value: "-1"},
		{name: "reconnect.backoff.max negative", opts: []Option{WithReconnectBackoff(0, -time.Millisecond)}, key: "reconnect.backoff.max.ms", value: "-1"},
		{name: "socket setup negative", opts: []Option{WithSocketConnectionSetupTimeout(-time.Millisecond, time.Second)}, key: "socket.connection.setup.timeout.ms", value: "-1"},
		{name: "socket setup max negative", opts: []Option{WithSocketConnectionSetupTimeout(0, -time.Millisecond)}, key: "socket.connection.setup.timeout.max.ms", value: "-1"},
		{name: "transaction.timeout negative", opts: []Option{WithTransactionTimeout(-time.Millisecond)}, key: "transaction.timeout.ms", value: "-1"},
		{name: "transaction.timeout over int", opts: []Option{WithTransactionTimeout(maxJavaIntMillis + time.Millisecond)}, key: "transaction.timeout.ms", value: "2147483648"},
		{name: "sub-millisecond value spelled in ms", opts: []Option{WithLinger(-1500 * time.Microsecond)}, key: "linger.ms", value: "-1.5"},

		{name: "unknown codec", opts: []Option{WithCompression("brotli")}, key: "compression.type", value: "brotli"},
		{name: "level without codec", opts: []Option{WithCompressionLevel(3)}, key: "compression.type", value: "none", mentions: []string{"WithCompressionLevel(3)"}},
		{name: "level with snappy", opts: []Option{WithCompression("snappy"), WithCompressionLevel(3)}, key: "compression.type", value: "snappy"},
		{name: "gzip level 0", opts: []Option{WithCompression("gzip"), WithCompressionLevel(0)}, key: "compression.gzip.level", value: "0", mentions: []string{"[1, 9]"}},
		{name: "gzip level 10", opts: []Option{WithCompression("gzip"), WithCompressionLevel(10)}, key: "compression.gzip.level", value: "10"},
		{name: "gzip level -2", opts: []Option{WithCompression("gzip"), WithCompressionLevel(-2)}, key: "compression.gzip.level", value: "-2"},
		{name: "lz4 level 0", opts: []Option{WithCompression("lz4"), WithCompressionLevel(0)}, key: "compression.lz4.level", value: "0", mentions: []string{"[1, 17]"}},
		{name: "lz4 level 18", opts: []Option{WithCompression("lz4"), WithCompressionLevel(18)}, key: "compression.lz4.level", value: "18"},
		{name: "zstd level 23", opts: []Option{WithCompression("zstd"), WithCompressionLevel(23)}, key: "compression.zstd.level", value: "23", mentions: []string{"[-131072, 22]"}},
		{name: "zstd level -131073", opts: []Option{WithCompression("zstd"), WithCompressionLevel(-131073)}, key: "compression.zstd.level", value: "-131073"},

		{name: "delivery below linger+request", opts: []Option{WithDeliveryTimeout(30004 * time.Millisecond)},
			key: "delivery.timeout.ms", value: "30004", mentions: []string{"linger.ms", "request.timeout.ms", "30005"}},
		{name: "delivery below long linger", opts: []Option{WithLinger(time.Minute), WithDeliveryTimeout(time.Minute)},
			key: "delivery.timeout.ms", value: "60000", mentions: []string{"linger.ms", "request.timeout.ms", "90000"}},

		{name: "explicit idempotence with acks=1", opts: []Option{WithIdempotence(true), WithAcks(AcksLeader)},
			key: "acks", value: "1", mentions: []string{"enable.idempotence=true requires acks=all"}},
		{name: "explicit idempotence with acks=0", opts: []Option{WithAcks(AcksNone), WithIdempotence(true)},
			key: "acks", value: "0", mentions: []string{"enable.idempotence=true"}},
		{name: "explicit idempotence with retries=0", opts: []Option{WithIdempotence(true), WithRetries(0)},
			key: "retries", value: "0", mentions: []string{"enable.idempotence=true requires retries > 0"}},
		{name: "explicit idempotence with 6 in flight", opts: []Option{WithIdempotence(true), WithMaxInFlight(6)},
			key: "max.in.flight.requests.per.connection", value: "6", mentions: []string{"enable.idempotence=true", "at most 5"}},
		{name: "default idempotence with 6 in flight (Kafka 4)", opts: []Option{WithMaxInFlight(6)},
			key: "max.in.flight.requests.per.connection", value: "6", mentions: []string{"enable.idempotence", "at most 5"}},
		{name: "default idempotence, acks=1 and 6 in flight", opts: []Option{WithAcks(AcksLeader), WithMaxInFlight(6)},
			key: "max.in.flight.requests.per.connection", value: "6", mentions: []string{"enable.idempotence"}},
		{name: "transactional.id with idempotence off", opts: []Option{WithTransactionalID("tx"), WithIdempotence(false)},
			key: "transactional.id", value: "tx", mentions: []string{"enable.idempotence=true", "enable.idempotence=false"}},
		{name: "transactional.id with acks=1", opts: []Option{WithTransactionalID("tx"), WithAcks(AcksLeader)},
			key: "transactional.id", value: "tx", mentions: []string{"idempotence", "acks=1"}},
		{name: "transactional.id with retries=0", opts: []Option{WithTransactionalID("tx"), WithRetries(0)},
			key: "transactional.id", value: "tx", mentions: []string{"idempotence", "retries=0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := defaultConfig()
			c.logger = slog.New(slog.DiscardHandler)
			if !tt.noBootstr {
				c.bootstrap = []string{"localhost:9092"}
			}
			apply(c, tt.opts)
			err := c.validate()
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.key, ce.Key)
			assert.Equal(t, tt.value, ce.Value)
			assert.Contains(t, err.Error(), tt.key)
			for _, m := range tt.mentions {
				assert.Contains(t, err.Error(), m)
			}
		})
	}
}

// TestValidateAccepts covers the boundaries and the silent adjustments
// Java makes.
func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name  string
		opts  []Option
		check func(t *testing.T, c *config)
		warns []string // substrings of the logged warnings
	}{
		{name: "ipv6 and many brokers", opts: []Option{WithBootstrapServers("[::1]:9092", "b:0", "c.example.com:65535")}},
		{name: "zero sizes and timeouts", opts: []Option{WithBatchSize(0), WithBufferMemory(0), WithMaxRequestSize(0), WithLinger(0),
			WithMaxBlock(0), WithRequestTimeout(0), WithDeliveryTimeout(0), WithMetadataMaxAge(0), WithConnectionsMaxIdle(0),
			WithPartitionerAvailabilityTimeout(0), WithTransactionTimeout(0), WithRetryBackoff(0, 0), WithReconnectBackoff(0, 0),
			WithSocketConnectionSetupTimeout(0, 0)}},
		{name: "int limits", opts: []Option{WithBatchSize(math.MaxInt32), WithMaxRequestSize(math.MaxInt32), WithRetries(math.MaxInt32),
			WithRequestTimeout(maxJavaIntMillis), WithDeliveryTimeout(maxJavaIntMillis), WithTransactionTimeout(maxJavaIntMillis)}},
		{name: "metadata.max.idle 5s", opts: []Option{WithMetadataMaxIdle(5 * time.Second)}},
		{name: "gzip levels", opts: []Option{WithCompression("gzip"), WithCompressionLevel(9)}, check: func(t *testing.T, c *config) {
			assert.Equal(t, 9, c.gzipLevel)
			assert.True(t, c.explicit["compression.gzip.level"])
		}},
		{name: "gzip default level -1", opts: []Option{WithCompression("gzip"), WithCompressionLevel(-1)}},
		{name: "level applies to codec chosen later", opts: []Option{WithCompressionLevel(17), WithCompression("lz4")}, check: func(t *testing.T, c *config) {
			assert.Equal(t, 17, c.lz4Level)
			assert.Equal(t, -1, c.gzipLevel)
			assert.Equal(t, 3, c.zstdLevel)
		}},
		{name: "zstd extremes", opts: []Option{WithCompression("zstd"), WithCompressionLevel(-131072)}, check: func(t *testing.T, c *config) {
			assert.Equal(t, -131072, c.zstdLevel)
		}},
		{name: "zstd level 0 is in Java's range", opts: []Option{WithCompression("zstd"), WithCompressionLevel(0)}},

		{name: "delivery equal to linger+request", opts: []Option{WithDeliveryTimeout(30005 * time.Millisecond)}},
		{name: "default delivery raised to linger+request", opts: []Option{WithLinger(100 * time.Second), WithRequestTimeout(60 * time.Second)},
			check: func(t *testing.T, c *config) { assert.Equal(t, 160*time.Second, c.deliveryTimeout) },
			warns: []string{"delivery.timeout.ms", "160000"}},
		{name: "huge linger caps the sum at Java's int", opts: []Option{WithLinger(math.MaxInt64)},
			check: func(t *testing.T, c *config) { assert.Equal(t, maxJavaIntMillis, c.deliveryTimeout) },
			warns: []string{"2147483647"}},

		{name: "retry backoff above max becomes static", opts: []Option{WithRetryBackoff(5*time.Second, 2*time.Second)},
			check: func(t *testing.T, c *config) {
				assert.Equal(t, 2*time.Second, c.retryBackoff)
				assert.Equal(t, 2*time.Second, c.retryBackoffMax)
			}, warns: []string{"retry.backoff.ms=5000", "retry.backoff.max.ms=2000"}},
		{name: "reconnect backoff above max becomes static", opts: []Option{WithReconnectBackoff(3*time.Second, time.Second)},
			check: func(t *testing.T, c *config) { assert.Equal(t, time.Second, c.reconnectBackoff) }, warns: []string{"reconnect.backoff.ms"}},
		{name: "socket setup above max becomes static", opts: []Option{WithSocketConnectionSetupTimeout(time.Minute, 30*time.Second)},
			check: func(t *testing.T, c *config) { assert.Equal(t, 30*time.Second, c.socketSetupTimeout) }, warns: []string{"socket.connection.setup.timeout.ms"}},

		{name: "idempotence by default", check: func(t *testing.T, c *config) {
			assert.True(t, c.idempotence)
			assert.Empty(t, c.idempotenceDisabledReason)
		}},
		{name: "default idempotence yields to acks=1", opts: []Option{WithAcks(AcksLeader)}, check: func(t *testing.T, c *config) {
			assert.False(t, c.idempotence)
			assert.Contains(t, c.idempotenceDisabledReason, "acks=1")
		}},
		{name: "default idempotence yields to acks=0 and retries=0", opts: []Option{WithAcks(AcksNone), WithRetries(0)}, check: func(t *testing.T, c *config) {
			assert.False(t, c.idempotence)
			assert.Contains(t, c.idempotenceDisabledReason, "retries=0")
			assert.Contains(t, c.idempotenceDisabledReason, "acks=0")
		}},
		{name: "explicit idempotence with acks=all", opts: []Option{WithIdempotence(true), WithAcks(AcksAll), WithMaxInFlight(5), WithRetries(1)},
			check: func(t *testing.T, c *config) { assert.True(t, c.idempotence) }},
		{name: "idempotence off allows anything", opts: []Option{WithIdempotence(false), WithAcks(AcksLeader), WithRetries(0), WithMaxInFlight(100)},
			check: func(t *testing.T, c *config) {
				assert.False(t, c.idempotence)
				assert.Empty(t, c.idempotenceDisabledReason, "explicitly off is not a quiet change")
			}},
		{name: "transactional.id implies idempotence", opts: []Option{WithTransactionalID("tx")}, check: func(t *testing.T, c *config) {
			assert.True(t, c.idempotence)
			assert.Equal(t, "tx", c.transactionalID)
		}},
		{name: "cleared transactional.id", opts: []Option{WithTransactionalID("tx"), WithTransactionalID(""), WithIdempotence(false)}},
		{name: "last option wins", opts: []Option{WithBatchSize(-5), WithBatchSize(5)}, check: func(t *testing.T, c *config) {
			assert.Equal(t, 5, c.batchSize)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			c := defaultConfig()
			c.bootstrap = []string{"localhost:9092"}
			apply(c, tt.opts)
			c.logger = slog.New(slog.NewTextHandler(&logs, nil))
			require.NoError(t, c.validate())
			if tt.check != nil {
				tt.check(t, c)
			}
			for _, w := range tt.warns {
				assert.Contains(t, logs.String(), w)
			}
			if len(tt.warns) == 0 {
				assert.Empty(t, logs.String())
			}
		})
	}
}

func TestConfigErrorMessage(t *testing.T) {
	tests := []struct {
		err  *ConfigError
		want string
	}{
		{&ConfigError{Key: "acks", Value: "2", Reason: "bad"}, "producer: invalid configuration acks=2: bad"},
		{&ConfigError{Key: "bootstrap.servers", Reason: "is required"}, "producer: invalid configuration bootstrap.servers: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error())
			assert.True(t, errors.Is(tt.err, ErrInvalidConfig))
			assert.False(t, errors.Is(tt.err, ErrClosed))
		})
	}
}

// TestValidateReportsDeferredOptionErrorFirst checks that an option that
// could not store its value is reported even when other settings are also
// wrong.
func TestValidateReportsDeferredOptionErrorFirst(t *testing.T) {
	c := configWith(WithCompression("lzma"), WithBatchSize(-1))
	err := c.validate()
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "compression.type", ce.Key)
	assert.True(t, strings.Contains(err.Error(), "lzma"))
}

func TestMillis(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{0, "0"}, {time.Second, "1000"}, {-time.Millisecond, "-1"}, {1500 * time.Microsecond, "1.5"}, {time.Nanosecond, "0.000001"}} {
		t.Run(tt.want, func(t *testing.T) { assert.Equal(t, tt.want, millis(tt.d)) })
	}
}
