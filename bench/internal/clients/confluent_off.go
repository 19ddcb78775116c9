//go:build !cgo || nocgo

package clients

// Built without cgo (or with -tags nocgo): confluent-kafka-go, which links
// librdkafka through cgo, is left out and the report says so.
func init() {
	skipped["confluent-kafka-go"] = "not built: needs cgo (build without -tags nocgo, with CGO_ENABLED=1 and a C compiler)"
}
