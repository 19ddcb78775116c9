// Command transactions writes to several partitions of two topics
// atomically with a transactional Tributary producer: one transaction that
// commits and one that aborts, with the offsets a read_committed consumer
// would and would not see.
//
//	go run ./examples/transactions                       # embedded 3-broker cluster
//	go run ./examples/transactions --bootstrap-server localhost:9092
//
// With no broker given it starts an in-process Kafka-protocol cluster, so
// it runs anywhere without Kafka installed.
package main

import (
	"context"
	"errors"
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
	txnID := flag.String("transactional-id", "transactions-example", "transactional.id")
	flag.Parse()

	if *bootstrap == "" {
		cluster, err := embedded.Start(3, 3, "orders", "payments")
		if err != nil {
			log.Fatal(err)
		}
		defer cluster.Close()
		*bootstrap = strings.Join(cluster.Addrs(), ",")
		fmt.Printf("started an embedded 3-broker cluster at %s\n", *bootstrap)
	}

	p, err := producer.New(
		producer.WithBootstrapServers(strings.Split(*bootstrap, ",")...),
		producer.WithClientID("transactions-example"),
		producer.WithTransactionalID(*txnID),
		producer.WithTransactionTimeout(30*time.Second),
	)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	defer p.Close(ctx)

	// Fences any earlier instance with this transactional.id and lets the
	// coordinator abort whatever it left open.
	if err := p.InitTransactions(ctx); err != nil {
		log.Fatalf("InitTransactions: %v", err)
	}

	fmt.Println("\ntransaction 1: an order and its payment on every partition, committed")
	committed, err := transfer(ctx, p, 1, true)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("\ntransaction 2: the same writes, aborted")
	aborted, err := transfer(ctx, p, 2, false)
	if err != nil {
		log.Fatal(err)
	}

	fmt.Println("\na read_committed consumer sees:")
	for _, md := range committed {
		fmt.Printf("  %s partition %d offset %d\n", md.Topic, md.Partition, md.Offset)
	}
	fmt.Println("and never sees (a read_uncommitted consumer would; the offsets between hold the commit markers):")
	for _, md := range aborted {
		fmt.Printf("  %s partition %d offset %d\n", md.Topic, md.Partition, md.Offset)
	}
}

// transfer writes one order and one payment to each of three partitions in
// one transaction, then commits or aborts it, and returns where the
// records landed.
func transfer(ctx context.Context, p *producer.Producer, n int, commit bool) ([]producer.RecordMetadata, error) {
	if err := p.BeginTransaction(); err != nil {
		return nil, fmt.Errorf("BeginTransaction: %w", err)
	}
	var futures []*producer.Future
	for part := range int32(3) {
		for _, topic := range []string{"orders", "payments"} {
			futures = append(futures, p.Send(ctx, &producer.Record{
				Topic: topic, Partition: part, UsePartition: true,
				Key:   []byte(fmt.Sprintf("order-%d-%d", n, part)),
				Value: []byte(fmt.Sprintf(`{"transaction":%d,"partition":%d}`, n, part)),
			}))
		}
	}
	if !commit {
		// Send the records first, so that the abort has something in the
		// log to mark as aborted.
		if err := p.Flush(ctx); err != nil {
			return nil, err
		}
	}
	var out []producer.RecordMetadata
	if commit {
		err := p.CommitTransaction(ctx)
		if errors.Is(err, producer.ErrTransactionAbortable) {
			fmt.Printf("  commit failed (%v); aborting\n", err)
			return nil, p.AbortTransaction(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("CommitTransaction: %w", err)
		}
		fmt.Println("  committed")
	} else {
		if err := p.AbortTransaction(ctx); err != nil {
			return nil, fmt.Errorf("AbortTransaction: %w", err)
		}
		fmt.Println("  aborted")
	}
	for _, f := range futures {
		md, err := f.Get(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, md)
	}
	return out, nil
}
