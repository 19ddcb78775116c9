package producer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/internal/kafkatest"
	"github.com/tributary-go/tributary/producer"
	"github.com/tributary-go/tributary/protocol"
)

// TestKafkaAPIVersions dials every broker with the producer's own
// connection code, logs the version negotiated for each API Tributary
// speaks (min of ours and the broker's), and checks there is one for every
// API. Then it drives each request type the producer sends through the
// real broker: Metadata, InitProducerId and Produce (idempotent), and
// FindCoordinator, AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and
// EndTxn (a committed transaction with offsets). SaslHandshake and
// SaslAuthenticate are driven by TestKafkaSASL.
func TestKafkaAPIVersions(t *testing.T) {
	t.Parallel() // real-Kafka tests overlap each other only: they start after the serial (leakcheck) tests
	c := kafkatest.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, n := range c.Nodes {
		cn, err := conn.Dial(ctx, n.AdvertisedPlaintext, &conn.Config{})
		if err != nil {
			t.Fatalf("node %d: %v", n.ID, err)
		}
		broker := cn.Versions()
		var lines []string
		for _, api := range protocol.APIs() {
			v, err := cn.Version(api.Key)
			if _, listed := broker[api.Key]; !listed && (api.Key == protocol.KeyGetTelemetrySubscriptions || api.Key == protocol.KeyPushTelemetry) {
				lines = append(lines, fmt.Sprintf("%-18s not listed (no client-telemetry receiver; TestKafkaTelemetry* covers it)", api.Name))
				continue
			}
			if err != nil {
				t.Errorf("node %d: %v", n.ID, err)
				continue
			}
			br := broker[api.Key]
			lines = append(lines, fmt.Sprintf("%-18s v%-2d (ours v%d-v%d, broker v%d-v%d)", api.Name, v, api.Min, api.Max, br.Min, br.Max))
		}
		tv, ok := cn.FinalizedFeature("transaction.version")
		cn.Close()
		t.Logf("Kafka %s node %d negotiated (transaction.version %d, reported %v):\n  %s", c.Version, n.ID, tv, ok, strings.Join(lines, "\n  "))
	}

	out := realTopic(t, c, 3)
	in := realTopic(t, c, 1)
	idem := realProducer(t, c, producer.WithIdempotence(true))
	recs := realRecords(out, 3, 20)
	sendAll(t, idem, recs)

	txn := realProducer(t, c, producer.WithTransactionalID("tributary-"+out))
	if err := txn.InitTransactions(ctx); err != nil {
		t.Fatalf("InitTransactions: %v", err)
	}
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	txnRecs := realRecords(out, 3, 10)
	futures := make([]*producer.Future, len(txnRecs))
	for i, r := range txnRecs {
		futures[i] = txn.Send(ctx, r)
	}
	group := "tributary-group-" + out
	offsets := map[string][]producer.PartitionOffset{in: {{Partition: 0, Offset: 42, LeaderEpoch: -1}}}
	if err := txn.SendOffsetsToTransaction(ctx, offsets, producer.GroupMetadata{GroupID: group}); err != nil {
		t.Fatalf("SendOffsetsToTransaction: %v", err)
	}
	if err := txn.CommitTransaction(ctx); err != nil {
		t.Fatalf("CommitTransaction: %v", err)
	}
	for i, f := range futures {
		if _, err := f.Get(ctx); err != nil {
			t.Fatalf("transactional record %d: %v", i, err)
		}
	}
	got := consume(t, c, out, len(recs)+len(txnRecs), true)
	t.Logf("read_committed: %d records (%d idempotent, %d transactional)", len(got), len(recs), len(txnRecs))

	adm, err := c.Admin()
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := committed.Lookup(in, 0); !ok || o.At != 42 {
		t.Errorf("group %s: committed offset of %s/0 is %+v (found %v), want 42", group, in, o, ok)
	}
}
