package partitioner

import "encoding/binary"

// Murmur2 returns Kafka's murmur2 hash of data (Java's Utils.murmur2), as the
// signed int32 the Java client computes. Keyed records are placed by this
// hash, so it must match Java bit for bit: a key that lands on partition 3 from
// a Java producer lands on partition 3 from ours.
//
// Murmur2 is a pure function: safe for concurrent use, non-blocking, and it
// does not allocate.
func Murmur2(data []byte) int32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	// Java works on signed ints with unsigned shifts (>>>); uint32 arithmetic
	// wraps the same way and its >> is the unsigned shift, so the bits agree.
	h := seed ^ uint32(len(data))
	for len(data) >= 4 {
		k := binary.LittleEndian.Uint32(data)
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
		data = data[4:]
	}
	switch len(data) {
	case 3:
		h ^= uint32(data[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}

// KeyPartition returns the partition Java's default partitioner gives a
// record with this key: (Murmur2(key) & 0x7fffffff) % numPartitions, taken
// over all partitions of the topic, available or not, so that a key keeps its
// partition while a leader is briefly unknown. It returns -1 if numPartitions
// is less than 1.
//
// KeyPartition is safe for concurrent use, non-blocking and allocation-free.
func KeyPartition(key []byte, numPartitions int) int32 {
	if numPartitions < 1 {
		return -1
	}
	// Masking the sign bit (Java's Utils.toPositive) rather than taking the
	// absolute value is what Java does; abs would move every negative hash.
	return int32(int(Murmur2(key)&0x7fffffff) % numPartitions)
}
