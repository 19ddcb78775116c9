package protocol

import "fmt"

// Key identifies a Kafka API (the request header's api_key).
type Key int16

// The APIs Tributary speaks.
const (
	KeyProduce            Key = 0
	KeyMetadata           Key = 3
	KeyFindCoordinator    Key = 10
	KeySaslHandshake      Key = 17
	KeyAPIVersions        Key = 18
	KeyInitProducerID     Key = 22
	KeyAddPartitionsToTxn Key = 24
	KeyAddOffsetsToTxn    Key = 25
	KeyEndTxn             Key = 26
	KeyTxnOffsetCommit    Key = 28
	KeySaslAuthenticate   Key = 36

	KeyGetTelemetrySubscriptions Key = 71
	KeyPushTelemetry             Key = 72
)

// APIInfo describes one API as this library implements it.
type APIInfo struct {
	Key      Key
	Name     string
	Min, Max int16 // versions we can encode and decode
	// Flexible is the first version using compact encodings and tagged
	// fields (KIP-482), or -1 when no version we speak is flexible.
	Flexible int16
}

// apis is the one table of API versions Tributary speaks. Message encoders
// and decoders handle every version in [Min, Max].
var apis = [...]APIInfo{
	{KeyProduce, "Produce", 3, 12, 9},
	{KeyMetadata, "Metadata", 0, 13, 9},
	{KeyFindCoordinator, "FindCoordinator", 0, 5, 3},
	{KeySaslHandshake, "SaslHandshake", 0, 1, -1},
	{KeyAPIVersions, "ApiVersions", 0, 4, 3},
	{KeyInitProducerID, "InitProducerId", 0, 5, 2},
	{KeyAddPartitionsToTxn, "AddPartitionsToTxn", 0, 5, 3},
	{KeyAddOffsetsToTxn, "AddOffsetsToTxn", 0, 4, 3},
	{KeyEndTxn, "EndTxn", 0, 5, 3},
	{KeyTxnOffsetCommit, "TxnOffsetCommit", 0, 5, 3},
	{KeySaslAuthenticate, "SaslAuthenticate", 0, 2, 2},
	{KeyGetTelemetrySubscriptions, "GetTelemetrySubscriptions", 0, 0, 0},
	{KeyPushTelemetry, "PushTelemetry", 0, 0, 0},
}

// APIs returns the table of APIs and versions Tributary speaks.
func APIs() []APIInfo { return apis[:] }

// Info returns the table entry for k.
func Info(k Key) (APIInfo, bool) {
	for _, a := range apis {
		if a.Key == k {
			return a, true
		}
	}
	return APIInfo{}, false
}

// String returns the API's Kafka name.
func (k Key) String() string {
	if a, ok := Info(k); ok {
		return a.Name
	}
	return fmt.Sprintf("api(%d)", int16(k))
}

// IsFlexible reports whether version v of API k uses flexible encoding.
func IsFlexible(k Key, v int16) bool {
	a, ok := Info(k)
	return ok && a.Flexible >= 0 && v >= a.Flexible
}

// RequestHeaderVersion returns the request header version for k at v:
// 2 for flexible versions, 1 otherwise (header v0 is never needed for the
// APIs we speak, but ControlledShutdown v0 would use it).
func RequestHeaderVersion(k Key, v int16) int16 {
	if IsFlexible(k, v) {
		return 2
	}
	return 1
}

// ResponseHeaderVersion returns the response header version for k at v:
// 1 for flexible versions, 0 otherwise. ApiVersions responses always use
// header v0 so that a client can read the broker's answer to a version the
// broker does not support.
func ResponseHeaderVersion(k Key, v int16) int16 {
	if k != KeyAPIVersions && IsFlexible(k, v) {
		return 1
	}
	return 0
}

// VersionRange is a broker's supported range for one API.
type VersionRange struct{ Min, Max int16 }

// NoVersionError reports that we and a broker share no version of an API.
type NoVersionError struct {
	Key                  Key
	OurMin, OurMax       int16
	BrokerMin, BrokerMax int16
	Missing              bool // the broker does not list the API at all
}

func (e *NoVersionError) Error() string {
	if e.Missing {
		return fmt.Sprintf("protocol: broker does not support %s (we speak v%d-v%d)", e.Key, e.OurMin, e.OurMax)
	}
	return fmt.Sprintf("protocol: no common %s version: we speak v%d-v%d, broker v%d-v%d",
		e.Key, e.OurMin, e.OurMax, e.BrokerMin, e.BrokerMax)
}

// Negotiate returns the version of k to use with a broker that advertises
// the given ranges: min(our max, broker max), provided it is within both
// ranges. It returns a *NoVersionError when there is no overlap.
func Negotiate(k Key, broker map[Key]VersionRange) (int16, error) {
	ours, ok := Info(k)
	if !ok {
		return 0, fmt.Errorf("protocol: %s is not an API this library speaks", k)
	}
	br, ok := broker[k]
	if !ok {
		return 0, &NoVersionError{Key: k, OurMin: ours.Min, OurMax: ours.Max, Missing: true}
	}
	v := min(ours.Max, br.Max)
	if v < ours.Min || v < br.Min {
		return 0, &NoVersionError{Key: k, OurMin: ours.Min, OurMax: ours.Max, BrokerMin: br.Min, BrokerMax: br.Max}
	}
	return v, nil
}
