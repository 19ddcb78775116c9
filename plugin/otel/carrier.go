package otel

import (
	"go.opentelemetry.io/otel/propagation"

	"github.com/tributary-go/tributary/producer"
)

// HeaderCarrier adapts a record's headers to propagation.TextMapCarrier,
// so that a propagator can write a span context into them (Inject) or read
// one back (Extract). Kafka header keys may repeat; Get returns the last
// value for a key, and Set replaces every header with that key by one, so
// a record forwarded from another trace carries only the new context.
//
// A HeaderCarrier is not safe for concurrent use: it edits the slice it
// points to.
type HeaderCarrier struct {
	Headers *[]producer.Header
}

var _ propagation.TextMapCarrier = HeaderCarrier{}

// Get returns the value of the last header named key, or "".
func (c HeaderCarrier) Get(key string) string {
	h := *c.Headers
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Key == key {
			return string(h[i].Value)
		}
	}
	return ""
}

// Set makes value the only header named key: the first header with that
// key is overwritten and the others removed, or a header is appended.
func (c HeaderCarrier) Set(key, value string) {
	h := *c.Headers
	found := false
	out := h[:0]
	for _, x := range h {
		if x.Key == key {
			if found {
				continue
			}
			found = true
			x.Value = []byte(value)
		}
		out = append(out, x)
	}
	if !found {
		out = append(out, producer.Header{Key: key, Value: []byte(value)})
	}
	*c.Headers = out
}

// Keys returns the header keys, each once, in order of first appearance.
func (c HeaderCarrier) Keys() []string {
	h := *c.Headers
	keys := make([]string, 0, len(h))
next:
	for _, x := range h {
		for _, k := range keys {
			if k == x.Key {
				continue next
			}
		}
		keys = append(keys, x.Key)
	}
	return keys
}
