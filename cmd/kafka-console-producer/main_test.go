package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-go/tributary/partitioner"
)

// TestConsoleProducer20kKeyedLines feeds 20,000 keyed lines through the
// tool into a 3-broker cluster and checks with a kgo consumer: none missing,
// none duplicated, per-key order kept, every key on its Java partition.
func TestConsoleProducer20kKeyedLines(t *testing.T) {
	const topic, n, parts, keys = "console", 20_000, 12, 500
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(parts, topic))
	require.NoError(t, err)
	defer c.Close()

	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, "user-%d:%d\n", i%keys, i)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "producer.properties")
	require.NoError(t, os.WriteFile(cfg, []byte("# from a file\nlinger.ms=5\nbatch.size=32768\n"), 0o600))

	var stderr bytes.Buffer
	err = run([]string{
		"--bootstrap-server", strings.Join(c.ListenAddrs(), ","),
		"--topic", topic,
		"--property", "parse.key=true", "--property", "key.separator=:",
		"--producer-property", "acks=all",
		"--producer.config", cfg,
	}, strings.NewReader(in.String()), &stderr)
	require.NoError(t, err, stderr.String())

	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seen := make(map[int]bool, n)
	lastPerKey := map[string]int{}
	total := 0
	for total < n && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			total++
			var i int
			_, err := fmt.Sscanf(string(r.Value), "%d", &i)
			require.NoError(t, err)
			require.False(t, seen[i], "line %d duplicated", i)
			seen[i] = true
			assert.Equal(t, fmt.Sprintf("user-%d", i%keys), string(r.Key))
			assert.Equal(t, partitioner.KeyPartition(r.Key, parts), r.Partition, "Java partition for %s", r.Key)
			if prev, ok := lastPerKey[string(r.Key)]; ok {
				require.Less(t, prev, i, "order of key %s", r.Key)
			}
			lastPerKey[string(r.Key)] = i
		})
	}
	require.Equal(t, n, total, "every line arrived exactly once")
	require.Len(t, seen, n)
}

func TestConsoleProducerReportsFailures(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"))
	require.NoError(t, err)
	defer c.Close()
	var stderr bytes.Buffer
	err = run([]string{"--bootstrap-server", c.ListenAddrs()[0], "--topic", "t",
		"--property", "parse.key=true", "--producer-property", "max.request.size=200"},
		strings.NewReader("k\tsmall\nno-separator\nk\t"+strings.Repeat("x", 500)+"\n"), &stderr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "2 of 3 records failed")
	assert.Contains(t, stderr.String(), "line 2")
	assert.Contains(t, stderr.String(), "max.request.size")
}

func TestConsoleProducerFlags(t *testing.T) {
	var stderr bytes.Buffer
	assert.ErrorContains(t, run([]string{"--bootstrap-server", "x:1"}, strings.NewReader(""), &stderr), "--topic")
	assert.ErrorContains(t, run([]string{"--topic", "t"}, strings.NewReader(""), &stderr), "--bootstrap-server")
	assert.ErrorContains(t, run([]string{"--topic", "t", "--bootstrap-server", "x:1", "--property", "bogus=1"}, strings.NewReader(""), &stderr), "bogus")
	assert.ErrorContains(t, run([]string{"--topic", "t", "--bootstrap-server", "x:1", "--producer-property", "no.such.setting=1"}, strings.NewReader(""), &stderr), "no.such.setting")
}

// lockedBuffer is a bytes.Buffer safe for the tool's callbacks to write
// while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestConsoleProducerReportsEachFailureAsItHappens types lines into the
// tool through a pipe, one at a time, against a broker that rejects every
// Produce request, and sees each failure on stderr before the next line is
// typed and before standard input ends (Kafka's ErrorLoggingCallback).
func TestConsoleProducerReportsEachFailureAsItHappens(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"))
	require.NoError(t, err)
	defer c.Close()
	c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.InvalidRecord, Count: -1})

	pr, pw := io.Pipe()
	stderr := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"--bootstrap-server", c.ListenAddrs()[0], "--topic", "t",
			"--property", "parse.key=true", "--property", "key.separator=:"}, pr, stderr)
	}()

	const lines = 3
	for i := 1; i <= lines; i++ {
		_, err := fmt.Fprintf(pw, "k%d:value-%d\n", i, i)
		require.NoError(t, err)
		want := fmt.Sprintf("line %d: error when sending message to topic t with key: 2 bytes, value: 7 bytes with error:", i)
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(stderr.String(), want) {
			select {
			case err := <-done:
				t.Fatalf("the tool ended before stdin closed: %v", err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("line %d's failure not reported within 30 s while stdin is open; stderr:\n%s", i, stderr.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	out := stderr.String()
	assert.Contains(t, out, "INVALID_RECORD", "the broker's error is named")
	assert.Equal(t, lines, strings.Count(out, "error when sending message"), "each failure once")

	require.NoError(t, pw.Close())
	select {
	case err := <-done:
		require.Error(t, err)
		assert.Contains(t, err.Error(), fmt.Sprintf("%d of %d records failed", lines, lines))
	case <-time.After(60 * time.Second):
		t.Fatal("the tool did not exit after stdin closed")
	}
	assert.Equal(t, lines, strings.Count(stderr.String(), "error when sending message"), "not repeated at the end")
}
