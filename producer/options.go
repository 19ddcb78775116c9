package producer

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/tributary-go/tributary/internal/compress"
	"github.com/tributary-go/tributary/partitioner"
)

// Option sets one producer setting. Options are applied in order (a later
// one wins) after any properties given to NewFromProperties. An option only
// records its value: it never blocks, and an invalid value is reported by
// New or NewFromProperties as a *ConfigError naming the Java property.
// Each option's documentation gives that property, its default and its
// valid range. Options may be shared between goroutines and reused.
type Option func(*config)

// Acks is the number of acknowledgements the partition leader must have
// before it answers a produce request (Java's acks).
type Acks int16

// The valid Acks values.
const (
	// AcksAll waits for the full set of in-sync replicas: a record is lost
	// only if every in-sync replica is. Java's acks=all (or -1), the
	// default, and required by idempotence.
	AcksAll Acks = -1
	// AcksNone does not wait for any answer: the broker sends none, so
	// offsets are unknown (-1) and failures go unnoticed. Java's acks=0.
	AcksNone Acks = 0
	// AcksLeader waits for the leader's own write only. Java's acks=1.
	AcksLeader Acks = 1
)

// String returns the Java property value: "all", "0" or "1" (other values
// as their number).
func (a Acks) String() string {
	if a == AcksAll {
		return "all"
	}
	return strconv.Itoa(int(a))
}

// WithBootstrapServers sets the brokers to contact first, each "host:port"
// (IPv6 as "[addr]:port"); the rest of the cluster is discovered from them.
// Java: bootstrap.servers. Required; no default. The list must be non-empty,
// without duplicates, each with a numeric port. It replaces any list set
// before.
func WithBootstrapServers(addrs ...string) Option {
	addrs = slices.Clone(addrs)
	return func(c *config) {
		c.bootstrap = addrs
		c.mark(keyBootstrapServers)
	}
}

// WithClientID sets the id sent with every request, for broker logs, quotas
// and metrics. Java: client.id. Default "" (sent as null). Any string.
func WithClientID(id string) Option {
	return func(c *config) {
		c.clientID = id
		c.mark(keyClientID)
	}
}

// WithAcks sets how many acknowledgements a produce request needs.
// Java: acks. Default AcksAll. Valid: AcksAll, AcksLeader, AcksNone.
// Anything but AcksAll turns idempotence off unless WithIdempotence(true)
// was given, in which case it is an error.
func WithAcks(acks Acks) Option {
	return func(c *config) {
		c.acks = int16(acks)
		c.mark(keyAcks)
	}
}

// WithBatchSize sets the most bytes of records gathered into one batch per
// partition; a record larger than this gets a batch of its own.
// Java: batch.size. Default 16384. Valid: 0 to 2147483647; 0 sends every
// record in its own batch.
func WithBatchSize(bytes int) Option {
	return func(c *config) {
		c.batchSize = bytes
		c.mark(keyBatchSize)
	}
}

// WithLinger sets how long a batch waits for more records before it is
// sent when it is not yet full. Java: linger.ms. Default 5ms (Kafka 4.x).
// Valid: 0 and up.
func WithLinger(d time.Duration) Option {
	return func(c *config) {
		c.linger = d
		c.mark(keyLinger)
	}
}

// WithBufferMemory sets the most bytes of records the producer buffers
// before Send blocks (at most max.block.ms). A record larger than this
// fails at Send. Java: buffer.memory. Default 33554432 (32 MiB).
// Valid: 0 and up.
func WithBufferMemory(bytes int64) Option {
	return func(c *config) {
		c.bufferMemory = bytes
		c.mark(keyBufferMemory)
	}
}

// WithMaxBlock sets how long Send and PartitionsFor may block waiting for
// metadata and buffer memory. Java: max.block.ms. Default 60s. Valid: 0 and
// up.
func WithMaxBlock(d time.Duration) Option {
	return func(c *config) {
		c.maxBlock = d
		c.mark(keyMaxBlock)
	}
}

// WithCompression sets the codec batches are compressed with: "none",
// "gzip", "snappy", "lz4" or "zstd" (case-insensitive).
// Java: compression.type. Default "none".
func WithCompression(codec string) Option {
	return func(c *config) {
		cd, err := compress.ParseCodec(codec)
		if err != nil {
			c.deferred = append(c.deferred, &ConfigError{Key: keyCompressionType, Value: codec, Reason: "must be none, gzip, snappy, lz4 or zstd"})
			return
		}
		c.compression = cd
		c.mark(keyCompressionType)
	}
}

// WithCompressionLevel sets the level of the codec chosen by
// WithCompression or compression.type, whichever option order is used.
// Java: compression.gzip.level (default -1, Deflater's default, i.e. 6;
// valid -1 or 1 to 9), compression.lz4.level (default 9; valid 1 to 17),
// compression.zstd.level (default 3; valid -131072 to 22). It is an error
// with "none" or "snappy", which take no level.
func WithCompressionLevel(level int) Option {
	return func(c *config) {
		c.compressionLevel = level
		c.compressionLevelSet = true
	}
}

// WithRetries sets how many times a batch that failed with a retriable
// error is resent; delivery.timeout.ms bounds the retries anyway, so the
// default rarely needs changing. Java: retries. Default 2147483647.
// Valid: 0 to 2147483647. 0 turns idempotence off unless
// WithIdempotence(true) was given, in which case it is an error.
func WithRetries(n int) Option {
	return func(c *config) {
		c.retries = n
		c.mark(keyRetries)
	}
}

// WithRetryBackoff sets the wait before a retry: base doubled at each
// attempt, capped at max, with ±20% jitter. Java: retry.backoff.ms (default
// 100ms) and retry.backoff.max.ms (default 1s). Valid: 0 and up; a base
// above max gives a static backoff of max, as in Java.
func WithRetryBackoff(base, max time.Duration) Option {
	return func(c *config) {
		c.retryBackoff, c.retryBackoffMax = base, max
		c.mark(keyRetryBackoff, keyRetryBackoffMax)
	}
}

// WithRequestTimeout sets how long the producer waits for the answer to a
// request before it fails or retries it. Java: request.timeout.ms. Default
// 30s. Valid: 0 to 2147483647ms.
func WithRequestTimeout(d time.Duration) Option {
	return func(c *config) {
		c.requestTimeout = d
		c.mark(keyRequestTimeout)
	}
}

// WithDeliveryTimeout bounds the time from Send's return to the record's
// outcome, retries included. Java: delivery.timeout.ms. Default 120s, raised
// to linger.ms + request.timeout.ms when those add up to more. Valid: at
// least linger.ms + request.timeout.ms, at most 2147483647ms.
func WithDeliveryTimeout(d time.Duration) Option {
	return func(c *config) {
		c.deliveryTimeout = d
		c.mark(keyDeliveryTimeout)
	}
}

// WithMaxInFlight sets how many produce requests may await an answer on
// one connection. Java: max.in.flight.requests.per.connection. Default 5.
// Valid: 1 to 5 while idempotence is on (the broker remembers 5 batches per
// producer), 1 to 2147483647 with WithIdempotence(false).
func WithMaxInFlight(n int) Option {
	return func(c *config) {
		c.maxInFlight = n
		c.mark(keyMaxInFlight)
	}
}

// WithMaxRequestSize sets the most bytes of one produce request, and so
// of one uncompressed batch; a larger record fails at Send. Java:
// max.request.size. Default 1048576 (1 MiB). Valid: 0 to 2147483647.
func WithMaxRequestSize(bytes int) Option {
	return func(c *config) {
		c.maxRequestSize = bytes
		c.mark(keyMaxRequestSize)
	}
}

// WithPartitioner sets the partitioner for records without an explicit
// partition; it must be safe for concurrent use and must not block. Java:
// partitioner.class. Default nil: the built-in partitioner (Java's:
// murmur2 for keys, sticky and adaptive for the rest). A custom partitioner
// makes partitioner.ignore.keys and partitioner.adaptive.partitioning.enable
// moot.
func WithPartitioner(p partitioner.Partitioner) Option {
	return func(c *config) {
		c.partitioner = p
		c.mark(keyPartitionerClass)
	}
}

// WithPartitionerIgnoreKeys makes the built-in partitioner ignore keys and
// place every record as if unkeyed. Java: partitioner.ignore.keys. Default
// false.
func WithPartitionerIgnoreKeys(ignore bool) Option {
	return func(c *config) {
		c.ignoreKeys = ignore
		c.mark(keyPartitionerIgnoreKeys)
	}
}

// WithAdaptivePartitioning makes the built-in partitioner send more unkeyed
// records to partitions whose brokers keep up (false: uniform). Java:
// partitioner.adaptive.partitioning.enable. Default true.
func WithAdaptivePartitioning(enable bool) Option {
	return func(c *config) {
		c.adaptive = enable
		c.mark(keyAdaptivePartitioning)
	}
}

// WithPartitionerAvailabilityTimeout makes the built-in adaptive
// partitioner avoid, for unkeyed records, partitions whose leader has
// accepted nothing for this long. Java: partitioner.availability.timeout.ms.
// Default 0 (off). Valid: 0 and up.
func WithPartitionerAvailabilityTimeout(d time.Duration) Option {
	return func(c *config) {
		c.availabilityTimeout = d
		c.mark(keyAvailabilityTimeout)
	}
}

// WithMetadataMaxAge sets how often metadata is refreshed even without a
// reason to. Java: metadata.max.age.ms. Default 5m. Valid: 0 and up.
func WithMetadataMaxAge(d time.Duration) Option {
	return func(c *config) {
		c.metadataMaxAge = d
		c.mark(keyMetadataMaxAge)
	}
}

// WithMetadataMaxIdle sets how long the metadata of a topic nothing was
// sent to is kept. Java: metadata.max.idle.ms. Default 5m. Valid: 5s and
// up.
func WithMetadataMaxIdle(d time.Duration) Option {
	return func(c *config) {
		c.metadataMaxIdle = d
		c.mark(keyMetadataMaxIdle)
	}
}

// WithConnectionsMaxIdle sets how long an unused connection stays open.
// Java: connections.max.idle.ms. Default 540s (9m). Valid: 0 and up (Java's
// negative "never close" is not supported).
func WithConnectionsMaxIdle(d time.Duration) Option {
	return func(c *config) {
		c.connectionsMaxIdle = d
		c.mark(keyConnectionsMaxIdle)
	}
}

// WithReconnectBackoff sets the wait before reconnecting to a broker after
// a failed attempt: base doubled per consecutive failure, capped at max,
// with ±20% jitter. Java: reconnect.backoff.ms (default 50ms) and
// reconnect.backoff.max.ms (default 1s). Valid: 0 and up; a base above max
// gives a static backoff of max, as in Java.
func WithReconnectBackoff(base, max time.Duration) Option {
	return func(c *config) {
		c.reconnectBackoff, c.reconnectBackoffMax = base, max
		c.mark(keyReconnectBackoff, keyReconnectBackoffMax)
	}
}

// WithSocketConnectionSetupTimeout sets how long establishing a connection
// may take: base at first, doubled per consecutive failure up to max.
// Java: socket.connection.setup.timeout.ms (default 10s) and
// socket.connection.setup.timeout.max.ms (default 30s). Valid: 0 and up; a
// base above max gives a static timeout of max, as in Java.
func WithSocketConnectionSetupTimeout(base, max time.Duration) Option {
	return func(c *config) {
		c.socketSetupTimeout, c.socketSetupTimeoutMax = base, max
		c.mark(keySocketSetupTimeout, keySocketSetupTimeoutMax)
	}
}

// WithAllowAutoTopicCreation sets whether metadata requests may create a
// missing topic (if the broker's auto.create.topics.enable allows it).
// Java: allow.auto.create.topics. Default true.
func WithAllowAutoTopicCreation(allow bool) Option {
	return func(c *config) {
		c.allowAutoTopicCreation = allow
		c.mark(keyAllowAutoTopicCreation)
	}
}

// WithIdempotence sets whether the producer writes each record exactly
// once per partition, in order, despite retries. Java: enable.idempotence.
// Default true, but turned off quietly when acks or retries conflict (see
// WithAcks, WithRetries). Set to true explicitly, it requires acks=all,
// retries > 0 and max.in.flight.requests.per.connection <= 5, and a
// conflict is an error.
func WithIdempotence(enable bool) Option {
	return func(c *config) {
		c.idempotence = enable
		c.mark(keyIdempotence)
	}
}

// WithTransactionalID sets the id that makes the producer transactional
// and fences older instances with the same id. Java: transactional.id.
// Default none; "" clears it. It requires idempotence.
func WithTransactionalID(id string) Option {
	return func(c *config) {
		c.transactionalID = id
		if id == "" {
			delete(c.explicit, keyTransactionalID)
			return
		}
		c.mark(keyTransactionalID)
	}
}

// WithTransactionTimeout sets how long a transaction may stay open before
// the coordinator aborts it; it must not exceed the broker's
// transaction.max.timeout.ms. Java: transaction.timeout.ms. Default 60s.
// Valid: 0 to 2147483647ms.
func WithTransactionTimeout(d time.Duration) Option {
	return func(c *config) {
		c.transactionTimeout = d
		c.mark(keyTransactionTimeout)
	}
}

// WithInterceptors sets the interceptors that see every record before it
// is partitioned and every acknowledgement, called in the order given (see
// Interceptor). It replaces any set before. Java: interceptor.classes.
// Default none.
func WithInterceptors(interceptors ...Interceptor) Option {
	interceptors = slices.Clone(interceptors)
	return func(c *config) {
		c.interceptors = interceptors
		c.mark(keyInterceptorClasses)
	}
}

// WithLogger sets the logger for the producer's warnings and events.
// Go only. Default: text to standard error at level Warn. nil discards
// everything.
func WithLogger(l *slog.Logger) Option {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return func(c *config) { c.logger = l }
}

// WithDialer sets the function that opens connections to brokers, for
// custom networking and tests; it must honour ctx and be safe for
// concurrent use. Go only. Default nil: a net.Dialer.
func WithDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(c *config) { c.dial = dial }
}
