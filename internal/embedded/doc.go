// Package embedded starts an in-process Kafka-protocol cluster (franz-go's
// kfake) so the examples and command-line tools run on a machine without
// Kafka. The library itself never imports it.
package embedded
