package protocol

// Shared helpers for the randomized oracle tests. Each message test fills a
// struct with random values representable at a version, encodes it with one
// implementation (ours or franz-go's kmsg) and decodes it with the other, in
// both directions. kmsg is an independent implementation generated from
// Kafka's own JSON schemas, so agreement with it is evidence that our field
// order, versions, nullability and defaults match Kafka's.
//
// The generators lean toward edge values (0, -1, min, max, empty, null)
// because that is where length and nullability bugs hide.

import (
	"encoding/hex"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// oracleIters is how many random values each oracle test tries per version.
const oracleIters = 200

// newRand returns a deterministic generator for a test; seed lets each
// version or message use its own stream while staying reproducible.
func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x7472696275746172)) // "tributar"
}

// versionsOf lists every version of k in our API table.
func versionsOf(t testing.TB, k Key) []int16 {
	t.Helper()
	a, ok := Info(k)
	if !ok {
		t.Fatalf("%v not in the API table", k)
	}
	var vs []int16
	for v := a.Min; v <= a.Max; v++ {
		vs = append(vs, v)
	}
	return vs
}

// randLen returns a length in [0, max], zero a quarter of the time so that
// empty arrays and strings are well covered.
func randLen(rng *rand.Rand, max int) int {
	if max <= 0 || rng.IntN(4) == 0 {
		return 0
	}
	return rng.IntN(max + 1)
}

// randNull reports, one time in four, that a nullable value should be null.
func randNull(rng *rand.Rand) bool { return rng.IntN(4) == 0 }

// randBool returns a fair coin.
func randBool(rng *rand.Rand) bool { return rng.IntN(2) == 0 }

// randInt16 returns an int16, an edge value a quarter of the time.
func randInt16(rng *rand.Rand) int16 {
	switch rng.IntN(8) {
	case 0:
		return 0
	case 1:
		return -1
	case 2:
		return math.MinInt16
	case 3:
		return math.MaxInt16
	}
	return int16(rng.Uint32())
}

// randInt32 returns an int32, an edge value a quarter of the time.
func randInt32(rng *rand.Rand) int32 {
	switch rng.IntN(8) {
	case 0:
		return 0
	case 1:
		return -1
	case 2:
		return math.MinInt32
	case 3:
		return math.MaxInt32
	}
	return int32(rng.Uint32())
}

// randInt64 returns an int64, an edge value a quarter of the time.
func randInt64(rng *rand.Rand) int64 {
	switch rng.IntN(8) {
	case 0:
		return 0
	case 1:
		return -1
	case 2:
		return math.MinInt64
	case 3:
		return math.MaxInt64
	}
	return int64(rng.Uint64())
}

// randUUID returns a random UUID, the zero UUID one time in four.
func randUUID(rng *rand.Rand) (u [16]byte) {
	if rng.IntN(4) == 0 {
		return u
	}
	for i := range u {
		u[i] = byte(rng.Uint32())
	}
	return u
}

// stringAlphabet mixes ASCII, multi-byte UTF-8 and a NUL so that length
// prefixes count bytes, not runes.
var stringAlphabet = []rune("abcXYZ019-._ é漢\x00")

// randString returns a string of up to max runes.
func randString(rng *rand.Rand, max int) string {
	n := randLen(rng, max)
	rs := make([]rune, n)
	for i := range rs {
		rs[i] = stringAlphabet[rng.IntN(len(stringAlphabet))]
	}
	return string(rs)
}

// randNullableString returns nil one time in four, else a random string.
func randNullableString(rng *rand.Rand, max int) *string {
	if randNull(rng) {
		return nil
	}
	s := randString(rng, max)
	return &s
}

// randBytes returns up to max random bytes; an empty result is non-nil.
func randBytes(rng *rand.Rand, max int) []byte {
	b := make([]byte, randLen(rng, max))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// randNullableBytes returns nil one time in four, else random bytes.
func randNullableBytes(rng *rand.Rand, max int) []byte {
	if randNull(rng) {
		return nil
	}
	return randBytes(rng, max)
}

// randInt32s returns up to max random int32s, nil when empty, which is how
// our decoders return empty non-nullable arrays.
func randInt32s(rng *rand.Rand, max int) []int32 {
	n := randLen(rng, max)
	if n == 0 {
		return nil
	}
	s := make([]int32, n)
	for i := range s {
		s[i] = randInt32(rng)
	}
	return s
}

// randUnknownTags sets zero to two unknown tagged fields on a kmsg struct,
// numbered above every tag Kafka has assigned in the messages we speak, so
// that our decoders prove they skip what they do not know.
func randUnknownTags(rng *rand.Rand, tags *kmsg.Tags) {
	for i := range rng.IntN(3) {
		tags.Set(uint32(20+10*i+rng.IntN(10)), randBytes(rng, 12))
	}
}

// nilIfEmpty maps an empty slice to nil, matching how our decoders return
// empty non-nullable arrays, so oracle values compare with testify.
func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// strPtr returns a pointer to s.
func strPtr(s string) *string { return &s }

// derefOr returns *p, or def when p is nil.
func derefOr(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

// mustHex decodes a hex dump for golden-byte tests. Whitespace is ignored
// and "--" starts a comment running to the end of the line, so tests can
// lay bytes out one field per line.
func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	var clean []byte
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		for _, c := range []byte(line) {
			if c != ' ' && c != '\t' && c != '\r' {
				clean = append(clean, c)
			}
		}
	}
	b, err := hex.DecodeString(string(clean))
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

// encodeOurs encodes m at v into a fresh buffer.
func encodeOurs(m Message, v int16) []byte { return m.AppendTo(nil, v) }

// decodeOurs decodes b into m at v, requiring that b is consumed exactly.
func decodeOurs(t testing.TB, m Message, b []byte, v int16) {
	t.Helper()
	if err := DecodeMessage(m, b, v); err != nil {
		t.Fatalf("our decode at v%d: %v\nbytes: %x", v, err, b)
	}
}

// decodeKmsg decodes b into the kmsg message k at v.
func decodeKmsg(t testing.TB, k interface {
	SetVersion(int16)
	ReadFrom([]byte) error
}, b []byte, v int16) {
	t.Helper()
	k.SetVersion(v)
	if err := k.ReadFrom(b); err != nil {
		t.Fatalf("kmsg decode at v%d: %v\nbytes: %x", v, err, b)
	}
}

// fuzzVersion maps a fuzzer-chosen byte onto a version of k in our table.
func fuzzVersion(k Key, sel uint8) int16 {
	a, _ := Info(k)
	return a.Min + int16(int(sel)%int(a.Max-a.Min+1))
}

// messagePtr is a pointer to a message struct, so generic helpers can
// declare fresh values of T and use them as Messages.
type messagePtr[T any] interface {
	*T
	Message
}

// checkFuzzRoundTrip is the body of a decoder fuzz target: decoding
// arbitrary bytes must not panic, and when it succeeds and consumes every
// byte, encoding the result and decoding that must give an equal value.
func checkFuzzRoundTrip[T any, P messagePtr[T]](t *testing.T, data []byte, v int16) {
	var first T
	if err := DecodeMessage(P(&first), data, v); err != nil {
		return
	}
	enc := P(&first).AppendTo(nil, v)
	var second T
	if err := DecodeMessage(P(&second), enc, v); err != nil {
		t.Fatalf("v%d: re-decoding our own encoding: %v\ninput %x\nencoding %x", v, err, data, enc)
	}
	require.Equal(t, first, second, "v%d round trip; input %x", v, data)
}
