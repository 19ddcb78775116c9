// Command quickstart produces a few keyed records with Tributary and prints
// where each one landed.
//
//	go run ./examples/quickstart                       # embedded 3-broker cluster
//	go run ./examples/quickstart --bootstrap-server localhost:9092
//	KAFKA_BROKERS=localhost:9092 go run ./examples/quickstart
//
// With no broker given it starts an in-process Kafka-protocol cluster, so
// it runs anywhere without Kafka installed.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/tributary-go/tributary/internal/embedded"
	"github.com/tributary-go/tributary/producer"
)

func main() {
	bootstrap := flag.String("bootstrap-server", os.Getenv("KAFKA_BROKERS"), "comma-separated brokers; empty starts an embedded cluster")
	topic := flag.String("topic", "quickstart", "topic to produce to")
	flag.Parse()

	if *bootstrap == "" {
		cluster, err := embedded.Start(3, 6, *topic)
		if err != nil {
			log.Fatal(err)
		}
		defer cluster.Close()
		*bootstrap = strings.Join(cluster.Addrs(), ",")
		fmt.Printf("started an embedded 3-broker cluster at %s\n", *bootstrap)
	}

	p, err := producer.New(
		producer.WithBootstrapServers(strings.Split(*bootstrap, ",")...),
		producer.WithClientID("quickstart"),
		producer.WithLinger(5*time.Millisecond),
	)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	defer p.Close(ctx)

	users := []string{"alice", "bob", "carol", "dave", "erin"}
	var futures []*producer.Future
	for i := range 10 {
		user := users[i%len(users)]
		futures = append(futures, p.Send(ctx, &producer.Record{
			Topic: *topic,
			Key:   []byte(user),
			Value: []byte(fmt.Sprintf(`{"user":%q,"event":%d}`, user, i)),
		}))
	}
	for i, f := range futures {
		md, err := f.Get(ctx)
		if err != nil {
			log.Fatalf("record %d: %v", i, err)
		}
		fmt.Printf("key=%-6s -> %s partition %d offset %d\n", users[i%len(users)], md.Topic, md.Partition, md.Offset)
	}
	fmt.Println("all records acknowledged")
}
