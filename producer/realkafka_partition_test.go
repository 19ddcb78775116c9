package producer_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-go/tributary/internal/kafkatest"
	"github.com/tributary-go/tributary/producer"
)

// keyedLines returns n "key|value" lines with varied keys (lengths 1 to
// ~40, digits, letters, punctuation, UTF-8) and values, some of which hold
// the separator again (Kafka splits at its first occurrence).
func keyedLines(n int) (lines []byte, keys, values []string) {
	var b bytes.Buffer
	for i := range n {
		k := fmt.Sprintf("%d", i)
		switch i % 4 {
		case 1:
			k = fmt.Sprintf("user-%08x", uint32(i)*2654435761)
		case 2:
			k = fmt.Sprintf("ключ-%d-%s", i, strings.Repeat("z", i%29))
		case 3:
			k = fmt.Sprintf("order:%d/%d.%d", i, i*i, i%7)
		}
		v := fmt.Sprintf("value-%d", i)
		if i%10 == 0 {
			v += "|with|separators"
		}
		keys, values = append(keys, k), append(values, v)
		fmt.Fprintf(&b, "%s|%s\n", k, v)
	}
	return b.Bytes(), keys, values
}

// placement maps each key ConsoleConsumer read to its partition and value,
// failing on a key read twice.
func placement(t *testing.T, recs []kafkatest.Consumed) map[string]kafkatest.Consumed {
	t.Helper()
	m := make(map[string]kafkatest.Consumed, len(recs))
	for _, r := range recs {
		if _, dup := m[string(r.Key)]; dup {
			t.Fatalf("key %q read twice", r.Key)
		}
		m[string(r.Key)] = r
	}
	return m
}

// TestKafkaKeyPlacement sends 10,000 keyed lines through Apache Kafka's
// ConsoleProducer (the Java producer's partitioner) to one topic, and the
// same keys through Tributary's producer and through Tributary's
// kafka-console-producer to two more topics with the same partition count:
// every key must land on the same partition, with the same value, in all
// three, as read back by Kafka's ConsoleConsumer.
func TestKafkaKeyPlacement(t *testing.T) {
	t.Parallel() // real-Kafka tests overlap each other only: they start after the serial (leakcheck) tests
	c := kafkatest.Shared(t)
	const n, partitions = 10000, 7
	lines, keys, values := keyedLines(n)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	javaTopic := realTopic(t, c, partitions)
	began := time.Now()
	if err := c.ConsoleProduce(ctx, javaTopic, lines,
		map[string]string{"parse.key": "true", "key.separator": "|"},
		map[string]string{"linger.ms": "5"}); err != nil {
		t.Fatal(err)
	}
	t.Logf("Kafka's ConsoleProducer sent %d keyed lines in %s", n, time.Since(began).Round(time.Millisecond))
	java := placement(t, consume(t, c, javaTopic, n, false))
	perPartition := make([]int, partitions)
	for i, k := range keys {
		r, ok := java[k]
		if !ok || string(r.Value) != values[i] {
			t.Fatalf("Java wrote key %q as %+v, want value %q", k, r, values[i])
		}
		perPartition[r.Partition]++
	}
	t.Logf("Java's placement of %d keys over %d partitions: %v", n, partitions, perPartition)

	compare := func(t *testing.T, topic string) {
		t.Helper()
		ours := placement(t, consume(t, c, topic, n, false))
		mismatches := 0
		for _, k := range keys {
			o, j := ours[k], java[k]
			if o.Partition != j.Partition || !bytes.Equal(o.Value, j.Value) {
				if mismatches++; mismatches <= 10 {
					t.Errorf("key %q: ours partition %d value %q, Java's partition %d value %q", k, o.Partition, o.Value, j.Partition, j.Value)
				}
			}
		}
		if mismatches > 0 {
			t.Errorf("%d of %d keys differ from Java's placement", mismatches, n)
		}
	}

	t.Run("producer", func(t *testing.T) {
		topic := realTopic(t, c, partitions)
		p := realProducer(t, c)
		recs := make([]*producer.Record, n)
		for i := range recs {
			recs[i] = &producer.Record{Topic: topic, Key: []byte(keys[i]), Value: []byte(values[i])}
		}
		began := time.Now()
		sendAll(t, p, recs)
		t.Logf("Tributary sent %d keyed records in %s", n, time.Since(began).Round(time.Millisecond))
		compare(t, topic)
	})

	t.Run("console-producer", func(t *testing.T) {
		topic := realTopic(t, c, partitions)
		bin := buildConsoleProducer(t)
		cmd := exec.CommandContext(ctx, bin, "--bootstrap-server", strings.Join(c.Bootstrap(), ","),
			"--topic", topic, "--property", "parse.key=true", "--property", "key.separator=|")
		cmd.Stdin = bytes.NewReader(lines)
		began := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kafka-console-producer: %v\n%s", err, out)
		}
		t.Logf("Tributary's kafka-console-producer sent %d keyed lines in %s", n, time.Since(began).Round(time.Millisecond))
		compare(t, topic)
	})
}

// buildConsoleProducer builds cmd/kafka-console-producer into the test's
// temporary directory.
func buildConsoleProducer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kafka-console-producer")
	gobin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	cmd := exec.Command(gobin, "build", "-o", bin, "github.com/tributary-go/tributary/cmd/kafka-console-producer")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building kafka-console-producer: %v\n%s", err, out)
	}
	return bin
}
