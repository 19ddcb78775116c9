package producer

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-go/tributary/internal/compress"
)

// setter parses one property value (already trimmed of spaces, as Java's
// ConfigDef trims) into c. Range checks are left to validate, so that a
// value is judged by the same rule whether it came from a property or an
// option.
type setter func(c *config, key, v string) error

// properties maps every Java property name Tributary implements to its
// setter. A Java INT is parsed as an int32 and a Java LONG as an int64,
// both strictly (no unit suffixes, no fractions); "*.ms" values become
// durations.
var properties = map[string]setter{
	keyBootstrapServers:       setBootstrap,
	keyClientID:               func(c *config, _, v string) error { c.clientID = v; return nil },
	keyAcks:                   setAcks,
	keyBatchSize:              intProp(func(c *config) *int { return &c.batchSize }),
	keyLinger:                 msLongProp(func(c *config) *time.Duration { return &c.linger }),
	keyBufferMemory:           longProp(func(c *config) *int64 { return &c.bufferMemory }),
	keyMaxBlock:               msLongProp(func(c *config) *time.Duration { return &c.maxBlock }),
	keyCompressionType:        setCompression,
	keyGzipLevel:              intProp(func(c *config) *int { return &c.gzipLevel }),
	keyLZ4Level:               intProp(func(c *config) *int { return &c.lz4Level }),
	keyZstdLevel:              intProp(func(c *config) *int { return &c.zstdLevel }),
	keyRetries:                intProp(func(c *config) *int { return &c.retries }),
	keyRetryBackoff:           msLongProp(func(c *config) *time.Duration { return &c.retryBackoff }),
	keyRetryBackoffMax:        msLongProp(func(c *config) *time.Duration { return &c.retryBackoffMax }),
	keyRequestTimeout:         msIntProp(func(c *config) *time.Duration { return &c.requestTimeout }),
	keyDeliveryTimeout:        msIntProp(func(c *config) *time.Duration { return &c.deliveryTimeout }),
	keyMaxInFlight:            intProp(func(c *config) *int { return &c.maxInFlight }),
	keyMaxRequestSize:         intProp(func(c *config) *int { return &c.maxRequestSize }),
	keyPartitionerClass:       setPartitionerClass,
	keyPartitionerIgnoreKeys:  boolProp(func(c *config) *bool { return &c.ignoreKeys }),
	keyAdaptivePartitioning:   boolProp(func(c *config) *bool { return &c.adaptive }),
	keyAvailabilityTimeout:    msLongProp(func(c *config) *time.Duration { return &c.availabilityTimeout }),
	keyMetadataMaxAge:         msLongProp(func(c *config) *time.Duration { return &c.metadataMaxAge }),
	keyMetadataMaxIdle:        msLongProp(func(c *config) *time.Duration { return &c.metadataMaxIdle }),
	keyConnectionsMaxIdle:     msLongProp(func(c *config) *time.Duration { return &c.connectionsMaxIdle }),
	keyReconnectBackoff:       msLongProp(func(c *config) *time.Duration { return &c.reconnectBackoff }),
	keyReconnectBackoffMax:    msLongProp(func(c *config) *time.Duration { return &c.reconnectBackoffMax }),
	keySocketSetupTimeout:     msLongProp(func(c *config) *time.Duration { return &c.socketSetupTimeout }),
	keySocketSetupTimeoutMax:  msLongProp(func(c *config) *time.Duration { return &c.socketSetupTimeoutMax }),
	keyAllowAutoTopicCreation: boolProp(func(c *config) *bool { return &c.allowAutoTopicCreation }),
	keyIdempotence:            boolProp(func(c *config) *bool { return &c.idempotence }),
	keyTransactionalID:        setTransactionalID,
	keyTransactionTimeout:     msIntProp(func(c *config) *time.Duration { return &c.transactionTimeout }),
	keyMetricsPush:            boolProp(func(c *config) *bool { return &c.metricsPush }),
	// Metadata recovery (KIP-899, KIP-1102).
	keyMetadataRecoveryStrategy: setMetadataRecoveryStrategy,
	keyRebootstrapTrigger:       setRebootstrapTrigger,
}

// unsupportedProperties are Java producer properties with no Tributary
// equivalent. They are rejected with a reason of their own, so that
// migrating users learn the setting exists but is not implemented, rather
// than that it is misspelled.
var unsupportedProperties = map[string]bool{
	"client.dns.lookup":                   true,
	"config.providers":                    true,
	"metric.reporters":                    true,
	"metrics.num.samples":                 true,
	"metrics.recording.level":             true,
	"metrics.sample.window.ms":            true,
	"receive.buffer.bytes":                true,
	"security.providers":                  true,
	"send.buffer.bytes":                   true,
	"transaction.two.phase.commit.enable": true,
}

// Partitioner names accepted by partitioner.class, mapped to the
// partitionerName the producer understands.
var partitionerClasses = map[string]string{
	"":            "",
	"default":     "",
	"round-robin": "round-robin",
	"org.apache.kafka.clients.producer.RoundRobinPartitioner": "round-robin",
	"uniform-sticky": "uniform-sticky",
	"org.apache.kafka.clients.producer.UniformStickyPartitioner": "uniform-sticky",
}

// PropertyNames returns, sorted, the Java producer property names that
// NewFromProperties maps onto settings, including security.protocol and
// the ssl.* and sasl.* properties (with librdkafka's ssl.ca.location,
// ssl.certificate.location, ssl.key.location, sasl.username,
// sasl.password and sasl.mechanisms). It also accepts, without effect,
// key.serializer and value.serializer (Go uses [Typed] and its
// serializers), ssl.* and sasl.* properties that security.protocol does
// not use (as Java does), a few Java-only security tunings, and an empty
// interceptor.classes. It is safe for concurrent use.
func PropertyNames() []string {
	names := make([]string, 0, len(properties)+len(securityProperties)+1)
	for k := range properties {
		names = append(names, k)
	}
	for k := range securityProperties {
		names = append(names, k)
	}
	names = append(names, keySecurityProtocol)
	slices.Sort(names)
	return names
}

// applyProperties sets c from Java producer properties, in sorted key
// order so that the error for several bad keys is deterministic. Unknown
// keys, unsupported features and malformed values are *ConfigErrors naming
// the key; range and cross-setting rules are left to validate.
func applyProperties(c *config, props map[string]string) error {
	// security.protocol decides which ssl.* and sasl.* keys apply, so it
	// is read first.
	protocol := protocolPlaintext
	if v, ok := props[keySecurityProtocol]; ok {
		p, err := parseSecurityProtocol(v)
		if err != nil {
			return err
		}
		protocol, c.securityProtocol = p, p
	}

	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := strings.TrimSpace(props[k])
		if set, ok := properties[k]; ok {
			if err := set(c, k, v); err != nil {
				return err
			}
			c.mark(k)
			continue
		}
		switch {
		case k == "key.serializer" || k == "value.serializer":
			// Java serializer classes; Go code serializes with Typed.
		case k == keySecurityProtocol:
			// Read above.
		case strings.HasPrefix(k, "ssl.") || strings.HasPrefix(k, "sasl."):
			if err := applySecurityProperty(c, protocol, k, v); err != nil {
				return err
			}
		case k == keyInterceptorClasses:
			if v != "" {
				return &ConfigError{Key: k, Value: v, Reason: "Java classes cannot be loaded; use WithInterceptors"}
			}
		case unsupportedProperties[k]:
			return &ConfigError{Key: k, Value: displayValue(k, v), Reason: "Java producer property not supported by Tributary"}
		default:
			return &ConfigError{Key: k, Value: displayValue(k, v), Reason: "unknown producer property"}
		}
	}
	return nil
}

func setBootstrap(c *config, key, v string) error {
	if v == "" {
		c.bootstrap = nil // validate reports the missing list
		return nil
	}
	parts := strings.Split(v, ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
		if parts[i] == "" {
			return &ConfigError{Key: key, Value: v, Reason: "empty entry in the host:port list"}
		}
	}
	c.bootstrap = parts
	return nil
}

func setAcks(c *config, key, v string) error {
	switch v {
	case "all", "-1":
		c.acks = -1
	case "0":
		c.acks = 0
	case "1":
		c.acks = 1
	default:
		return &ConfigError{Key: key, Value: v, Reason: `must be "all", "-1", "0" or "1"`}
	}
	return nil
}

func setCompression(c *config, key, v string) error {
	cd, err := compress.ParseCodec(v)
	if err != nil {
		return &ConfigError{Key: key, Value: v, Reason: "must be none, gzip, snappy, lz4 or zstd"}
	}
	c.compression = cd
	return nil
}

func setPartitionerClass(c *config, key, v string) error {
	name, ok := partitionerClasses[v]
	if !ok {
		return &ConfigError{Key: key, Value: v, Reason: "must be " +
			"org.apache.kafka.clients.producer.RoundRobinPartitioner (round-robin), " +
			"org.apache.kafka.clients.producer.UniformStickyPartitioner (uniform-sticky) or default; " +
			"set a custom partitioner with WithPartitioner"}
	}
	c.partitionerName = name
	return nil
}

func setTransactionalID(c *config, key, v string) error {
	if v == "" {
		return &ConfigError{Key: key, Reason: "must not be empty"}
	}
	c.transactionalID = v
	return nil
}

// parseInt parses a Java INT (bits 32) or LONG (bits 64).
func parseInt(key, v string, bits int) (int64, error) {
	n, err := strconv.ParseInt(v, 10, bits)
	if err == nil {
		return n, nil
	}
	kind := "int"
	if bits == 64 {
		kind = "long"
	}
	if errors.Is(err, strconv.ErrRange) {
		return 0, &ConfigError{Key: key, Value: v, Reason: "out of range for a Java " + kind}
	}
	return 0, &ConfigError{Key: key, Value: v, Reason: "not an integer"}
}

func intProp(field func(*config) *int) setter {
	return func(c *config, key, v string) error {
		n, err := parseInt(key, v, 32)
		if err != nil {
			return err
		}
		*field(c) = int(n)
		return nil
	}
}

func longProp(field func(*config) *int64) setter {
	return func(c *config, key, v string) error {
		n, err := parseInt(key, v, 64)
		if err != nil {
			return err
		}
		*field(c) = n
		return nil
	}
}

// msIntProp parses a Java INT of milliseconds.
func msIntProp(field func(*config) *time.Duration) setter {
	return func(c *config, key, v string) error {
		n, err := parseInt(key, v, 32)
		if err != nil {
			return err
		}
		*field(c) = time.Duration(n) * time.Millisecond
		return nil
	}
}

// msLongProp parses a Java LONG of milliseconds. Values beyond what a
// time.Duration holds (about 292 years; Java users write Long.MAX_VALUE
// for "forever") saturate.
func msLongProp(field func(*config) *time.Duration) setter {
	return func(c *config, key, v string) error {
		n, err := parseInt(key, v, 64)
		if err != nil {
			return err
		}
		const limit = math.MaxInt64 / int64(time.Millisecond)
		switch {
		case n > limit:
			*field(c) = math.MaxInt64
		case n < -limit:
			*field(c) = math.MinInt64
		default:
			*field(c) = time.Duration(n) * time.Millisecond
		}
		return nil
	}
}

// boolProp parses a Java BOOLEAN: "true" or "false", case-insensitive as
// in Java.
func boolProp(field func(*config) *bool) setter {
	return func(c *config, key, v string) error {
		switch {
		case strings.EqualFold(v, "true"):
			*field(c) = true
		case strings.EqualFold(v, "false"):
			*field(c) = false
		default:
			return &ConfigError{Key: key, Value: v, Reason: `must be "true" or "false"`}
		}
		return nil
	}
}
