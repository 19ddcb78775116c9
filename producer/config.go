package producer

// Configuration follows the Java producer setting by setting: the same
// names (used by NewFromProperties and in every error), the same defaults,
// the same ranges, and the same cross-setting rules from ProducerConfig and
// KafkaProducer. Two of those rules depend on whether the user set a value
// or left the default — Java asks its "originals" map — so the config keeps
// the set of Java keys that an option or a property touched in explicit:
//
//   - enable.idempotence left at its default yields quietly to acks≠all or
//     retries=0 (KIP-679); set explicitly, the conflict is an error.
//   - delivery.timeout.ms left at its default is raised to linger.ms +
//     request.timeout.ms; set explicitly below that sum, it is an error.
//
// Options cannot return errors, so they store raw values (or, when a value
// cannot even be stored, a deferred error) and validate checks everything
// once, after properties and options have all been applied.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-go/tributary/internal/compress"
	"github.com/tributary-go/tributary/internal/sasl"
	"github.com/tributary-go/tributary/metadata"
	"github.com/tributary-go/tributary/partitioner"
)

// ErrInvalidConfig is matched (with errors.Is) by every *ConfigError: a
// setting out of range, a malformed or unknown property, or two settings
// that contradict each other.
var ErrInvalidConfig = errors.New("producer: invalid configuration")

// ConfigError reports a rejected setting. Key is the Java property name
// (also for settings made with options); Value is the rejected value as the
// Java property would spell it (durations in milliseconds), empty when there
// is none, and "[hidden]" for passwords and keys; Reason states the rule and
// names any other setting involved. It matches ErrInvalidConfig.
type ConfigError struct {
	Key    string
	Value  string
	Reason string
}

func (e *ConfigError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("producer: invalid configuration %s: %s", e.Key, e.Reason)
	}
	return fmt.Sprintf("producer: invalid configuration %s=%s: %s", e.Key, displayValue(e.Key, e.Value), e.Reason)
}

// Is reports whether target is ErrInvalidConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// Java property names, kept in one place so that options, properties,
// validation and errors spell them identically.
const (
	keyBootstrapServers       = "bootstrap.servers"
	keyClientID               = "client.id"
	keyAcks                   = "acks"
	keyBatchSize              = "batch.size"
	keyLinger                 = "linger.ms"
	keyBufferMemory           = "buffer.memory"
	keyMaxBlock               = "max.block.ms"
	keyCompressionType        = "compression.type"
	keyGzipLevel              = "compression.gzip.level"
	keyLZ4Level               = "compression.lz4.level"
	keyZstdLevel              = "compression.zstd.level"
	keyRetries                = "retries"
	keyRetryBackoff           = "retry.backoff.ms"
	keyRetryBackoffMax        = "retry.backoff.max.ms"
	keyRequestTimeout         = "request.timeout.ms"
	keyDeliveryTimeout        = "delivery.timeout.ms"
	keyMaxInFlight            = "max.in.flight.requests.per.connection"
	keyMaxRequestSize         = "max.request.size"
	keyPartitionerClass       = "partitioner.class"
	keyPartitionerIgnoreKeys  = "partitioner.ignore.keys"
	keyAdaptivePartitioning   = "partitioner.adaptive.partitioning.enable"
	keyAvailabilityTimeout    = "partitioner.availability.timeout.ms"
	keyMetadataMaxAge         = "metadata.max.age.ms"
	keyMetadataMaxIdle        = "metadata.max.idle.ms"
	keyConnectionsMaxIdle     = "connections.max.idle.ms"
	keyReconnectBackoff       = "reconnect.backoff.ms"
	keyReconnectBackoffMax    = "reconnect.backoff.max.ms"
	keySocketSetupTimeout     = "socket.connection.setup.timeout.ms"
	keySocketSetupTimeoutMax  = "socket.connection.setup.timeout.max.ms"
	keyAllowAutoTopicCreation = "allow.auto.create.topics"
	keyIdempotence            = "enable.idempotence"
	keyTransactionalID        = "transactional.id"
	keyTransactionTimeout     = "transaction.timeout.ms"
	keyInterceptorClasses     = "interceptor.classes"
)

// Java limits and defaults that more than one rule uses.
const (
	maxInFlightForIdempotence  = 5               // ProducerStateEntry.NUM_BATCHES_TO_RETAIN on the broker
	minMetadataMaxIdle         = 5 * time.Second // Java: atLeast(5000)
	maxJavaInt                 = math.MaxInt32
	maxJavaIntMillis           = time.Duration(math.MaxInt32) * time.Millisecond
	gzipDefaultLevel           = -1 // Deflater.DEFAULT_COMPRESSION
	lz4DefaultLevel            = 9
	zstdDefaultLevel           = 3
	zstdMinLevel, zstdMaxLevel = -131072, 22 // Zstd.minCompressionLevel(), maxCompressionLevel()
)

// config is the producer's resolved configuration. It is built by one
// goroutine (New or NewFromProperties) and read-only once validate has
// returned nil.
type config struct {
	bootstrap    []string      // bootstrap.servers (required)
	clientID     string        // client.id
	acks         int16         // acks: -1 (all), 0, 1
	batchSize    int           // batch.size; 0 means one record per batch
	linger       time.Duration // linger.ms
	bufferMemory int64         // buffer.memory
	maxBlock     time.Duration // max.block.ms

	compression                    compress.Codec // compression.type
	gzipLevel, lz4Level, zstdLevel int            // compression.{gzip,lz4,zstd}.level, Java values (never 0 as "unset")

	retries         int           // retries
	retryBackoff    time.Duration // retry.backoff.ms
	retryBackoffMax time.Duration // retry.backoff.max.ms
	requestTimeout  time.Duration // request.timeout.ms
	deliveryTimeout time.Duration // delivery.timeout.ms
	maxInFlight     int           // max.in.flight.requests.per.connection
	maxRequestSize  int           // max.request.size

	partitioner         partitioner.Partitioner // custom partitioner; nil = built-in
	partitionerName     string                  // "", "round-robin" or "uniform-sticky" (from partitioner.class)
	ignoreKeys          bool                    // partitioner.ignore.keys
	adaptive            bool                    // partitioner.adaptive.partitioning.enable
	availabilityTimeout time.Duration           // partitioner.availability.timeout.ms

	metadataMaxAge                            time.Duration // metadata.max.age.ms
	metadataMaxIdle                           time.Duration // metadata.max.idle.ms
	connectionsMaxIdle                        time.Duration // connections.max.idle.ms
	reconnectBackoff, reconnectBackoffMax     time.Duration // reconnect.backoff.ms, reconnect.backoff.max.ms
	socketSetupTimeout, socketSetupTimeoutMax time.Duration // socket.connection.setup.timeout.ms, .max.ms
	allowAutoTopicCreation                    bool          // allow.auto.create.topics

	// Metadata recovery (KIP-899, KIP-1102): see the end of this file.
	metadataRecovery   metadata.RecoveryStrategy // metadata.recovery.strategy
	rebootstrapTrigger time.Duration             // metadata.recovery.rebootstrap.trigger.ms

	idempotence        bool          // enable.idempotence
	transactionalID    string        // transactional.id
	transactionTimeout time.Duration // transaction.timeout.ms
	metricsPush        bool          // enable.metrics.push (telemetry.go)

	interceptors []Interceptor                                                     // Go-only (interceptor.classes)
	hooks        []Hook                                                            // Go-only (WithHooks)
	logger       *slog.Logger                                                      // Go-only
	dial         func(ctx context.Context, network, addr string) (net.Conn, error) // Go-only; nil = net.Dialer

	// Security (security.go). Secrets are held as secret values, which
	// never print.
	securityProtocol string         // security.protocol; "" = PLAINTEXT
	tlsOption        *tls.Config    // WithTLS (a clone); nil when not given
	ssl              sslSettings    // ssl.* properties
	sasl             saslSettings   // sasl.* properties or a WithSASL* option
	tlsConfig        *tls.Config    // set by validate: nil without TLS
	mechanism        sasl.Mechanism // set by validate: nil without SASL

	// explicit holds the Java keys set by an option or a property.
	explicit map[string]bool
	// idempotenceDisabledReason is set by validate when idempotence, left
	// at its default, was turned off by a conflicting setting.
	idempotenceDisabledReason string

	// compressionLevel is WithCompressionLevel's value, applied by validate
	// to whichever codec is finally chosen (options may come in any order).
	compressionLevel    int
	compressionLevelSet bool
	// deferred holds errors found by options, which cannot return them;
	// validate reports the first.
	deferred []error
	// ignored lists properties accepted but without effect, with the
	// reason; validate logs them.
	ignored []string
}

// defaultConfig returns the Java producer's defaults (Kafka 4.x).
func defaultConfig() *config {
	return &config{
		acks:                   -1,
		batchSize:              16384,
		linger:                 5 * time.Millisecond,
		bufferMemory:           32 << 20,
		maxBlock:               60 * time.Second,
		compression:            compress.None,
		gzipLevel:              gzipDefaultLevel,
		lz4Level:               lz4DefaultLevel,
		zstdLevel:              zstdDefaultLevel,
		retries:                maxJavaInt,
		retryBackoff:           100 * time.Millisecond,
		retryBackoffMax:        time.Second,
		requestTimeout:         30 * time.Second,
		deliveryTimeout:        120 * time.Second,
		maxInFlight:            5,
		maxRequestSize:         1 << 20,
		adaptive:               true,
		metadataMaxAge:         5 * time.Minute,
		metadataMaxIdle:        5 * time.Minute,
		connectionsMaxIdle:     540 * time.Second,
		reconnectBackoff:       50 * time.Millisecond,
		reconnectBackoffMax:    time.Second,
		socketSetupTimeout:     10 * time.Second,
		socketSetupTimeoutMax:  30 * time.Second,
		allowAutoTopicCreation: true,
		rebootstrapTrigger:     metadata.DefaultRebootstrapTrigger,
		idempotence:            true,
		transactionTimeout:     60 * time.Second,
		metricsPush:            true,
		logger:                 slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		explicit:               make(map[string]bool),
	}
}

// mark records that keys were set by the user.
func (c *config) mark(keys ...string) {
	if c.explicit == nil {
		c.explicit = make(map[string]bool)
	}
	for _, k := range keys {
		c.explicit[k] = true
	}
}

// validate checks every setting against the Java client's rules, applies
// the Java client's silent adjustments (logging them as Java does), and
// returns the first violation as a *ConfigError. It must be called once,
// after all properties and options.
func (c *config) validate() error {
	if len(c.deferred) > 0 {
		return c.deferred[0]
	}
	if err := c.validateBootstrap(); err != nil {
		return err
	}
	if c.acks != -1 && c.acks != 0 && c.acks != 1 {
		return &ConfigError{Key: keyAcks, Value: strconv.Itoa(int(c.acks)), Reason: `must be "all" (-1), 0 or 1`}
	}
	if err := c.validateRanges(); err != nil {
		return err
	}
	if err := c.validateCompression(); err != nil {
		return err
	}
	if c.explicit[keyTransactionalID] && c.transactionalID == "" {
		return &ConfigError{Key: keyTransactionalID, Reason: "must not be empty"}
	}
	c.adjustBackoffs()
	if err := c.validateDeliveryTimeout(); err != nil {
		return err
	}
	if err := c.validateIdempotence(); err != nil {
		return err
	}
	if err := c.validateSecurity(); err != nil {
		return err
	}
	if len(c.ignored) > 0 {
		c.warn("producer: ignoring properties that have no effect in Tributary", "properties", strings.Join(c.ignored, "; "))
	}
	return nil
}

func (c *config) warn(msg string, args ...any) {
	if c.logger != nil {
		c.logger.Warn(msg, args...)
	}
}

// validateBootstrap checks bootstrap.servers as Java's ClientUtils does,
// without resolving names: a non-empty list of distinct host:port entries
// with a numeric port.
func (c *config) validateBootstrap() error {
	if len(c.bootstrap) == 0 {
		return &ConfigError{Key: keyBootstrapServers, Reason: "is required (a list of host:port)"}
	}
	seen := make(map[string]bool, len(c.bootstrap))
	for _, addr := range c.bootstrap {
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host == "" {
			return &ConfigError{Key: keyBootstrapServers, Value: addr, Reason: "not a host:port address"}
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return &ConfigError{Key: keyBootstrapServers, Value: addr, Reason: "port must be a number in [0, 65535]"}
		}
		if seen[addr] {
			return &ConfigError{Key: keyBootstrapServers, Value: addr, Reason: "listed twice"}
		}
		seen[addr] = true
	}
	return nil
}

// validateRanges applies the per-setting ranges of Java's ConfigDef. Java
// INT settings must also fit an int32 (durations: 2147483647 ms).
func (c *config) validateRanges() error {
	ints := []struct {
		key      string
		v        int64
		min, max int64
	}{
		{keyBatchSize, int64(c.batchSize), 0, maxJavaInt},
		{keyBufferMemory, c.bufferMemory, 0, math.MaxInt64},
		{keyRetries, int64(c.retries), 0, maxJavaInt},
		{keyMaxInFlight, int64(c.maxInFlight), 1, maxJavaInt},
		{keyMaxRequestSize, int64(c.maxRequestSize), 0, maxJavaInt},
	}
	for _, s := range ints {
		if s.v < s.min || s.v > s.max {
			return &ConfigError{Key: s.key, Value: strconv.FormatInt(s.v, 10), Reason: rangeReason(s.min, s.max)}
		}
	}
	durations := []struct {
		key      string
		v        time.Duration
		min, max time.Duration
	}{
		{keyLinger, c.linger, 0, math.MaxInt64},
		{keyMaxBlock, c.maxBlock, 0, math.MaxInt64},
		{keyRetryBackoff, c.retryBackoff, 0, math.MaxInt64},
		{keyRetryBackoffMax, c.retryBackoffMax, 0, math.MaxInt64},
		{keyRequestTimeout, c.requestTimeout, 0, maxJavaIntMillis},
		{keyDeliveryTimeout, c.deliveryTimeout, 0, maxJavaIntMillis},
		{keyAvailabilityTimeout, c.availabilityTimeout, 0, math.MaxInt64},
		{keyMetadataMaxAge, c.metadataMaxAge, 0, math.MaxInt64},
		{keyMetadataMaxIdle, c.metadataMaxIdle, minMetadataMaxIdle, math.MaxInt64},
		// Java lets connections.max.idle.ms be negative ("never close");
		// the connection pool treats values <= 0 as its default, so only
		// 0 and up are accepted rather than silently changed.
		{keyConnectionsMaxIdle, c.connectionsMaxIdle, 0, math.MaxInt64},
		{keyReconnectBackoff, c.reconnectBackoff, 0, math.MaxInt64},
		{keyReconnectBackoffMax, c.reconnectBackoffMax, 0, math.MaxInt64},
		{keySocketSetupTimeout, c.socketSetupTimeout, 0, math.MaxInt64},
		{keySocketSetupTimeoutMax, c.socketSetupTimeoutMax, 0, math.MaxInt64},
		{keyTransactionTimeout, c.transactionTimeout, 0, maxJavaIntMillis},
	}
	for _, s := range durations {
		if s.v < s.min || s.v > s.max {
			return &ConfigError{Key: s.key, Value: millis(s.v), Reason: durationRangeReason(s.min, s.max)}
		}
	}
	return nil
}

func rangeReason(min, max int64) string {
	if max == math.MaxInt64 {
		return fmt.Sprintf("must be at least %d", min)
	}
	return fmt.Sprintf("must be in [%d, %d]", min, max)
}

func durationRangeReason(min, max time.Duration) string {
	if max == math.MaxInt64 {
		return fmt.Sprintf("must be at least %s ms", millis(min))
	}
	return fmt.Sprintf("must be in [%s, %s] ms", millis(min), millis(max))
}

// validateCompression applies WithCompressionLevel to the chosen codec and
// checks every level against its Java range (Java checks all three levels
// whatever compression.type is).
func (c *config) validateCompression() error {
	if c.compressionLevelSet {
		switch c.compression {
		case compress.Gzip:
			c.gzipLevel = c.compressionLevel
			c.mark(keyGzipLevel)
		case compress.LZ4:
			c.lz4Level = c.compressionLevel
			c.mark(keyLZ4Level)
		case compress.Zstd:
			c.zstdLevel = c.compressionLevel
			c.mark(keyZstdLevel)
		default:
			return &ConfigError{Key: keyCompressionType, Value: c.compression.String(),
				Reason: fmt.Sprintf("takes no level, but WithCompressionLevel(%d) was given (levels apply to gzip, lz4 and zstd)", c.compressionLevel)}
		}
	}
	if c.gzipLevel != gzipDefaultLevel && (c.gzipLevel < 1 || c.gzipLevel > 9) {
		return &ConfigError{Key: keyGzipLevel, Value: strconv.Itoa(c.gzipLevel), Reason: "must be -1 (default) or in [1, 9]"}
	}
	if c.lz4Level < 1 || c.lz4Level > 17 {
		return &ConfigError{Key: keyLZ4Level, Value: strconv.Itoa(c.lz4Level), Reason: "must be in [1, 17]"}
	}
	if c.zstdLevel < zstdMinLevel || c.zstdLevel > zstdMaxLevel {
		return &ConfigError{Key: keyZstdLevel, Value: strconv.Itoa(c.zstdLevel), Reason: fmt.Sprintf("must be in [%d, %d]", zstdMinLevel, zstdMaxLevel)}
	}
	return nil
}

// adjustBackoffs applies Java's silent fixes for backoff pairs:
//
//   - reconnect.backoff.ms set without reconnect.backoff.max.ms disables
//     exponential reconnect backoff (max = base), as
//     CommonClientConfigs.postProcessReconnectBackoffConfigs does;
//   - a base above its max gives a static backoff (or setup timeout) equal
//     to the max, as Java's ExponentialBackoff and
//     warnDisablingExponentialBackoff do, so the base is lowered to the max.
func (c *config) adjustBackoffs() {
	if c.explicit[keyReconnectBackoff] && !c.explicit[keyReconnectBackoffMax] && c.reconnectBackoffMax != c.reconnectBackoff {
		c.warn("producer: disabling exponential reconnect backoff because reconnect.backoff.ms is set but reconnect.backoff.max.ms is not")
		c.reconnectBackoffMax = c.reconnectBackoff
	}
	pairs := []struct {
		base, max       *time.Duration
		baseKey, maxKey string
	}{
		{&c.retryBackoff, &c.retryBackoffMax, keyRetryBackoff, keyRetryBackoffMax},
		{&c.reconnectBackoff, &c.reconnectBackoffMax, keyReconnectBackoff, keyReconnectBackoffMax},
		{&c.socketSetupTimeout, &c.socketSetupTimeoutMax, keySocketSetupTimeout, keySocketSetupTimeoutMax},
	}
	for _, p := range pairs {
		if *p.base > *p.max {
			c.warn(fmt.Sprintf("producer: %s=%s is greater than %s=%s; a static value of %s ms will be applied",
				p.baseKey, millis(*p.base), p.maxKey, millis(*p.max), millis(*p.max)))
			*p.base = *p.max
		}
	}
}

// validateDeliveryTimeout applies KafkaProducer.configureDeliveryTimeout:
// delivery.timeout.ms must cover linger.ms + request.timeout.ms (each
// capped at Java's int range); an explicit value below the sum is an error,
// the default is raised to the sum.
func (c *config) validateDeliveryTimeout() error {
	sum := min(min(c.linger, maxJavaIntMillis)+c.requestTimeout, maxJavaIntMillis)
	if c.deliveryTimeout >= sum {
		return nil
	}
	if c.explicit[keyDeliveryTimeout] {
		return &ConfigError{Key: keyDeliveryTimeout, Value: millis(c.deliveryTimeout),
			Reason: fmt.Sprintf("must be at least linger.ms + request.timeout.ms = %s + %s = %s ms",
				millis(c.linger), millis(c.requestTimeout), millis(sum))}
	}
	c.warn(fmt.Sprintf("producer: delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms; setting it to %s ms", millis(sum)))
	c.deliveryTimeout = sum
	return nil
}

// validateIdempotence applies ProducerConfig's idempotence rules (KIP-679,
// Kafka 4.x): idempotence needs acks=all and retries > 0; a conflict is an
// error when enable.idempotence was set explicitly, and turns idempotence
// off when it was left at its default. max.in.flight.requests.per.connection
// above 5 is an error whenever idempotence is on (Kafka 4.0, KAFKA-17927;
// 3.x turned idempotence off instead). transactional.id needs idempotence.
func (c *config) validateIdempotence() error {
	userSet := c.explicit[keyIdempotence]
	if c.idempotence {
		var conflicts []string
		if c.retries == 0 {
			if userSet {
				return &ConfigError{Key: keyRetries, Value: "0", Reason: "enable.idempotence=true requires retries > 0"}
			}
			conflicts = append(conflicts, "retries=0")
		}
		if c.acks != -1 {
			if userSet {
				return &ConfigError{Key: keyAcks, Value: strconv.Itoa(int(c.acks)), Reason: "enable.idempotence=true requires acks=all"}
			}
			conflicts = append(conflicts, "acks="+strconv.Itoa(int(c.acks)))
		}
		if c.maxInFlight > maxInFlightForIdempotence {
			reason := "enable.idempotence=true requires at most 5"
			if !userSet {
				reason = "the idempotent producer (enable.idempotence, default true) allows at most 5; set enable.idempotence=false to allow more"
			}
			return &ConfigError{Key: keyMaxInFlight, Value: strconv.Itoa(c.maxInFlight), Reason: reason}
		}
		if len(conflicts) > 0 {
			conflict := strings.Join(conflicts, " and ")
			if c.transactionalID != "" {
				return &ConfigError{Key: keyTransactionalID, Value: c.transactionalID,
					Reason: "requires idempotence, which needs acks=all and retries > 0, got " + conflict}
			}
			c.idempotence = false
			c.idempotenceDisabledReason = conflict + " conflicts with idempotence (which requires acks=all and retries > 0);" +
				" set enable.idempotence=false to silence this warning"
		}
	}
	if c.transactionalID != "" && !c.idempotence {
		return &ConfigError{Key: keyTransactionalID, Value: c.transactionalID, Reason: "requires enable.idempotence=true, got enable.idempotence=false"}
	}
	return nil
}

// millis spells d as a Java millisecond value: an integer when d is a whole
// number of milliseconds, a decimal otherwise.
func millis(d time.Duration) string {
	if d%time.Millisecond == 0 {
		return strconv.FormatInt(int64(d/time.Millisecond), 10)
	}
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64)
}

// String lists the settings by their Java property names, with passwords
// and keys hidden, so that a config can be logged or printed safely.
func (c config) String() string {
	var b strings.Builder
	b.WriteString("producer.config{")
	for i, a := range c.settings() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a.Key)
		b.WriteByte('=')
		b.WriteString(a.Value.String())
	}
	b.WriteByte('}')
	return b.String()
}

// Format prints String for every verb (%v, %+v, %#v, %s, …), for a config
// and a *config alike: no verb may reach a field holding a secret. (Value
// receivers, so that both have the methods.)
func (c config) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// LogValue logs the settings as a group, secrets hidden.
func (c config) LogValue() slog.Value { return slog.GroupValue(c.settings()...) }

// settings returns the main settings, secrets hidden.
func (c *config) settings() []slog.Attr {
	attrs := []slog.Attr{
		slog.String(keyBootstrapServers, strings.Join(c.bootstrap, ",")),
		slog.String(keyClientID, c.clientID),
		slog.String(keyAcks, Acks(c.acks).String()),
		slog.Int(keyBatchSize, c.batchSize),
		slog.String(keyLinger, millis(c.linger)),
		slog.Int64(keyBufferMemory, c.bufferMemory),
		slog.String(keyCompressionType, c.compression.String()),
		slog.Int(keyRetries, c.retries),
		slog.String(keyRequestTimeout, millis(c.requestTimeout)),
		slog.String(keyDeliveryTimeout, millis(c.deliveryTimeout)),
		slog.Int(keyMaxInFlight, c.maxInFlight),
		slog.Int(keyMaxRequestSize, c.maxRequestSize),
		slog.Bool(keyIdempotence, c.idempotence),
		slog.String(keyTransactionalID, c.transactionalID),
	}
	proto := c.securityProtocol
	if proto == "" {
		proto = protocolPlaintext
	}
	attrs = append(attrs, slog.String(keySecurityProtocol, proto))
	if usesSASL(proto) {
		attrs = append(attrs, slog.String(keySASLMechanism, c.sasl.mechanism), slog.String(keySASLUsername, c.sasl.user))
		if c.sasl.pass.isSet() {
			attrs = append(attrs, slog.String(keySASLPassword, "[hidden]"))
		}
	}
	if usesTLS(proto) {
		if c.tlsOption != nil {
			attrs = append(attrs, slog.String("tls", "WithTLS"))
		}
		for _, kv := range [][2]string{
			{keySSLTruststoreLocation, c.ssl.truststoreLocation},
			{keySSLCALocation, c.ssl.caLocation},
			{keySSLKeystoreLocation, c.ssl.keystoreLocation},
			{keySSLCertificateLocation, c.ssl.certificateLocation},
			{keySSLKeyLocation, c.ssl.keyLocation},
		} {
			if kv[1] != "" {
				attrs = append(attrs, slog.String(kv[0], kv[1]))
			}
		}
		if c.ssl.endpointIdentificationSet {
			attrs = append(attrs, slog.String(keySSLEndpointIdentification, c.ssl.endpointIdentification))
		}
	}
	return attrs
}

// Metadata recovery (KIP-899, KIP-1102): going back to the bootstrap
// addresses when the known brokers are gone (see metadata/rebootstrap.go).
const (
	keyMetadataRecoveryStrategy = "metadata.recovery.strategy"
	keyRebootstrapTrigger       = "metadata.recovery.rebootstrap.trigger.ms"
)

// WithMetadataRecoveryStrategy sets what the producer does when no known
// broker can be reached: metadata.RecoveryRebootstrap forgets the known
// brokers and starts again from the bootstrap addresses, resolving their
// names anew (also when a broker answers REBOOTSTRAP_REQUIRED, or no
// metadata arrived for WithRebootstrapTrigger); metadata.RecoveryNone
// keeps asking the known brokers. Java: metadata.recovery.strategy.
// Default rebootstrap (Kafka 4.x). Valid: none, rebootstrap.
func WithMetadataRecoveryStrategy(s metadata.RecoveryStrategy) Option {
	return func(c *config) {
		if s != metadata.RecoveryRebootstrap && s != metadata.RecoveryNone {
			c.deferred = append(c.deferred, &ConfigError{Key: keyMetadataRecoveryStrategy, Value: s.String(), Reason: "must be none or rebootstrap"})
			return
		}
		c.metadataRecovery = s
		c.mark(keyMetadataRecoveryStrategy)
	}
}

// WithRebootstrapTrigger sets how long metadata may fail to arrive from
// any known broker, counted from the first attempt after the last
// success, before the producer re-bootstraps (with the rebootstrap
// strategy). Java: metadata.recovery.rebootstrap.trigger.ms. Default 5m.
// Valid: 0 (at the first failure) and up.
func WithRebootstrapTrigger(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			c.deferred = append(c.deferred, &ConfigError{Key: keyRebootstrapTrigger, Value: d.String(), Reason: "must be 0 or more"})
			return
		}
		c.rebootstrapTrigger = d
		c.mark(keyRebootstrapTrigger)
	}
}

// setMetadataRecoveryStrategy parses metadata.recovery.strategy.
func setMetadataRecoveryStrategy(c *config, key, v string) error {
	s, err := metadata.ParseRecoveryStrategy(v)
	if err != nil {
		return &ConfigError{Key: key, Value: v, Reason: "must be none or rebootstrap"}
	}
	c.metadataRecovery = s
	return nil
}

// setRebootstrapTrigger parses metadata.recovery.rebootstrap.trigger.ms (a
// Java LONG, at least 0).
func setRebootstrapTrigger(c *config, key, v string) error {
	if err := msLongProp(func(c *config) *time.Duration { return &c.rebootstrapTrigger })(c, key, v); err != nil {
		return err
	}
	if c.rebootstrapTrigger < 0 {
		return &ConfigError{Key: key, Value: v, Reason: "must be 0 or more"}
	}
	return nil
}

// metadataRecoveryConfig returns the metadata.Config fields of the
// recovery settings; a trigger of 0 means "at once", which metadata.Config
// spells as the smallest duration.
func (c *config) metadataRecoveryConfig() (metadata.RecoveryStrategy, time.Duration) {
	return c.metadataRecovery, max(c.rebootstrapTrigger, time.Nanosecond)
}
