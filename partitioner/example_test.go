package partitioner_test

import (
	"fmt"

	"github.com/tributary-go/tributary/partitioner"
)

// A key goes where the Java client puts it: murmur2, sign bit cleared,
// modulo the partition count.
func ExampleKeyPartition() {
	fmt.Println(partitioner.Murmur2([]byte("foobar")))
	fmt.Println(partitioner.KeyPartition([]byte("foobar"), 10))
	// Output:
	// -790332482
	// 6
}

// The producer's side of the contract: partition, append, report the append.
func ExampleDefault() {
	p := partitioner.NewDefault(16384) // batch.size
	topic := partitioner.Topic{Name: "events", NumPartitions: 6, Available: []int32{0, 1, 2, 3, 4, 5}}

	keyed := p.Partition(topic, []byte("foobar"), []byte("v"))
	fmt.Println("keyed:", keyed)

	first := p.Partition(topic, nil, []byte("v"))
	p.OnAppend(topic.Name, first, 100, false) // 100 of 16384 bytes: stay
	fmt.Println("sticky:", p.Partition(topic, nil, []byte("v")) == first)
	// Output:
	// keyed: 0
	// sticky: true
}

func ExampleNewRoundRobin() {
	p := partitioner.NewRoundRobin()
	topic := partitioner.Topic{Name: "events", NumPartitions: 6, Available: []int32{0, 2, 5}}
	for range 4 {
		fmt.Print(p.Partition(topic, nil, nil), " ")
	}
	fmt.Println()
	// Output: 0 2 5 0
}
