package kafkatest_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-go/tributary/internal/kafkatest"
)

// TestKafkaClusterKillRestart starts a one-node cluster of its own (the
// cheapest that can be killed without disturbing the shared one), kills
// and restarts its node, then terminates it, checking the node serves
// writes after the restart.
func TestKafkaClusterKillRestart(t *testing.T) {
	began := time.Now()
	c := kafkatest.StartT(t, kafkatest.Options{Nodes: 1})
	t.Logf("one-node Kafka %s started in %s", c.Version, time.Since(began).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const topic = "kafkatest-restart"
	if err := c.CreateTopic(ctx, topic, 1, 1, nil); err != nil {
		t.Fatal(err)
	}
	produce := func(v string) {
		t.Helper()
		cl, err := c.Client(kgo.RecordDeliveryTimeout(2 * time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce %q: %v", v, err)
		}
	}
	produce("before")

	if err := c.Kill(1); err != nil {
		t.Fatal(err)
	}
	if c.Running(1) {
		t.Fatal("node 1 runs after Kill")
	}
	began = time.Now()
	if err := c.Restart(ctx, 1); err != nil {
		t.Fatal(err)
	}
	t.Logf("node 1 restarted after SIGKILL in %s", time.Since(began).Round(time.Millisecond))
	if !c.Running(1) {
		t.Fatal("node 1 does not run after Restart")
	}
	produce("after")
	got, err := c.ConsoleConsume(ctx, topic, kafkatest.ConsumeOptions{Max: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || string(got[0].Value) != "before" || string(got[1].Value) != "after" {
		t.Fatalf("read back %+v, want values before, after", got)
	}

	began = time.Now()
	if err := c.Terminate(1); err != nil {
		t.Fatal(err)
	}
	t.Logf("node 1 shut down (SIGTERM) in %s", time.Since(began).Round(time.Millisecond))
	if c.Running(1) {
		t.Fatal("node 1 runs after Terminate")
	}
}
