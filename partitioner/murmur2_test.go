package partitioner

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Published vectors, each from a source that checked them against Java's
// Utils.murmur2. Together they cover every tail length (len % 4) and inputs
// of 0 to 8 bytes, where the block loop and the tail switch meet.
func TestMurmur2(t *testing.T) {
	tests := []struct {
		in   string
		want int32
	}{
		// Kafka's UtilsTest.testMurmur2.
		{"21", -973932308},
		{"foobar", -790332482},
		{"a-little-bit-long-string", -985981536},
		{"a-little-bit-longer-string", -1486304829},
		{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
		{"abc", 479470107},
		// librdkafka rdmurmur2.c java_murmur2_results (hex there).
		{"", 275646681},                    // 0x106e08d9
		{"4", 1514888353},                  // 0x5a4b5ca1
		{"34", -2026295078},                // 0x873930da
		{"234", -406844982},                // 0xe7c009ca
		{"1234", -1614185708},              // 0x9fc97b14
		{"kafka", -798503068},              // 0xd067cf64
		{"giberish123456789", -1890243828}, // 0x8f552b0c
		{"AmbleWillBeRemoved,ThePrePartThatIs", 1656271935}, // 0x62b8b43f
		// Akka's Murmur2Spec, taken from the Kafka implementation.
		{"1", -1993445489},
		{"12", 126087238},
		{"123", -267702483},
		{"12345", -1188365604},
		// kafkajs's Java-compatible partitioner vectors.
		{"279936", 1462227128},
		{"2097152", 607668903},
		{"4782969", -1182699775},
		{"10000000", -1830336757},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			if got := Murmur2([]byte(tt.in)); got != tt.want {
				t.Errorf("Murmur2(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
	t.Run("nil", func(t *testing.T) {
		if got, want := Murmur2(nil), int32(275646681); got != want {
			t.Errorf("Murmur2(nil) = %d, want %d (same as empty)", got, want)
		}
	})
}

// randomKeys returns n keys of 0 to 64 random bytes, never nil, so that each
// is a key to both implementations.
func randomKeys(n int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, seed))
	keys := make([][]byte, n)
	for i := range keys {
		k := make([]byte, rng.IntN(65))
		for j := range k {
			k[j] = byte(rng.Uint32())
		}
		keys[i] = k
	}
	return keys
}

// franz-go's StickyKeyPartitioner(nil) is an independent implementation of
// Java's key placement (its own murmur2 and masking), so agreement on every
// key and partition count is a property test of ours.
func TestKeyPartitionMatchesFranzGo(t *testing.T) {
	keys := randomKeys(10000, 1)
	oracle := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	var rec kgo.Record
	for n := 1; n <= 64; n++ {
		t.Run(fmt.Sprint("partitions=", n), func(t *testing.T) {
			for _, k := range keys {
				rec.Key = k
				want := oracle.Partition(&rec, n)
				if got := KeyPartition(k, n); int(got) != want {
					t.Fatalf("KeyPartition(%x, %d) = %d, franz-go says %d", k, n, got, want)
				}
			}
		})
	}
	// With 2^31 partitions the modulo is a no-op, so franz-go hands back the
	// hash's low 31 bits: this compares the hashes themselves, not just
	// their residues modulo small numbers.
	t.Run("hash low 31 bits", func(t *testing.T) {
		for _, k := range keys {
			rec.Key = k
			want := oracle.Partition(&rec, 1<<31)
			if got := int(Murmur2(k) & 0x7fffffff); got != want {
				t.Fatalf("Murmur2(%x)&0x7fffffff = %d, franz-go says %d", k, got, want)
			}
		}
	})
}

func TestKeyPartition(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
		n    int
		want int32
	}{
		// (-790332482 & 0x7fffffff) = 1357151166.
		{"foobar of 10", []byte("foobar"), 10, 6},
		{"foobar of 1", []byte("foobar"), 1, 0},
		// 275646681 is positive already.
		{"empty key of 10", []byte{}, 10, 1},
		{"no partitions", []byte("foobar"), 0, -1},
		{"negative partitions", []byte("foobar"), -3, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KeyPartition(tt.key, tt.n); got != tt.want {
				t.Errorf("KeyPartition(%q, %d) = %d, want %d", tt.key, tt.n, got, tt.want)
			}
		})
	}
}
