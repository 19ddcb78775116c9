package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-go/tributary/internal/embedded"
)

// Java's formats (ProducerPerformance.Stats.printTotal and printWindow).
var (
	summaryRE = regexp.MustCompile(`^(\d+) records sent, \d+\.\d{6} records/sec \(\d+\.\d{2} MB/sec\), \d+\.\d{2} ms avg latency, \d+\.\d{2} ms max latency, \d+ ms 50th, \d+ ms 95th, \d+ ms 99th, \d+ ms 99\.9th\.$`)
	windowRE  = regexp.MustCompile(`^\d+ records sent, \d+\.\d records/sec \(\d+\.\d{2} MB/sec\), \d+\.\d ms avg latency, \d+\.\d ms max latency\.$`)
)

// consume reads want records of topic from the cluster with an independent
// client (franz-go's kgo).
func consume(t *testing.T, addrs []string, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []*kgo.Record
	for len(got) < want && ctx.Err() == nil {
		got = append(got, cl.PollFetches(ctx).Records()...)
	}
	return got
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestRecordSizeAgainstCluster(t *testing.T) {
	const topic, n, size = "perf", 3000, 100
	c, err := embedded.Start(3, 6, topic)
	require.NoError(t, err)
	defer c.Close()

	var stdout, stderr bytes.Buffer
	err = run([]string{
		"--topic", topic, "--num-records", strconv.Itoa(n), "--record-size", strconv.Itoa(size), "--throughput", "-1",
		"--producer-props", "bootstrap.servers=" + strings.Join(c.Addrs(), ","), "acks=all", "linger.ms=5", "batch.size=65536",
	}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())

	line := lastLine(stdout.String())
	m := summaryRE.FindStringSubmatch(line)
	require.NotNil(t, m, "summary line %q is not in Java's format", line)
	assert.Equal(t, strconv.Itoa(n), m[1])

	got := consume(t, c.Addrs(), topic, n)
	require.Len(t, got, n, "every record arrived")
	for _, r := range got {
		require.Len(t, r.Value, size)
		for _, b := range r.Value {
			require.True(t, b >= 'A' && b <= 'Z', "payload is upper-case letters as in Java")
		}
	}
}

func TestPayloadFileWithDelimiter(t *testing.T) {
	const topic = "payloads"
	c, err := embedded.Start(1, 3, topic)
	require.NoError(t, err)
	defer c.Close()
	path := filepath.Join(t.TempDir(), "payloads.txt")
	require.NoError(t, os.WriteFile(path, []byte("alpha;beta;;gamma;"), 0o600))
	cfg := filepath.Join(t.TempDir(), "producer.properties")
	require.NoError(t, os.WriteFile(cfg, []byte("bootstrap.servers="+strings.Join(c.Addrs(), ",")+"\nlinger.ms=1\n"), 0o600))

	var stdout, stderr bytes.Buffer
	err = run([]string{"--topic", topic, "--num-records", "500", "--payload-file", path, "--payload-delimiter", ";",
		"--throughput", "-1", "--producer.config", cfg}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	out := stdout.String()
	assert.Contains(t, out, "Reading payloads from: "+path+"\n")
	assert.Contains(t, out, "Number of messages read: 3\n")
	require.Regexp(t, summaryRE, lastLine(out))

	got := consume(t, c.Addrs(), topic, 500)
	require.Len(t, got, 500)
	for _, r := range got {
		assert.Contains(t, []string{"alpha", "beta", "gamma"}, string(r.Value))
	}
}

// Without bootstrap.servers the tool starts its own in-process cluster.
func TestEmbeddedClusterAndMetrics(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run([]string{"--topic", "solo", "--num-records", "1000", "--payload-monotonic", "--throughput", "4000", "--print-metrics"}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	assert.Contains(t, stderr.String(), "no bootstrap.servers given: using an in-process cluster")
	out := stdout.String()
	i := strings.Index(out, "\n\nMetric Name ")
	require.GreaterOrEqual(t, i, 0, out)
	require.Regexp(t, summaryRE, lastLine(out[:i]))
	assert.Regexp(t, `\nproducer-metrics:record-send-total:\{client-id=perf-producer-client\} +: 1000\.000\n`, out)
	assert.Regexp(t, `\nproducer-metrics:record-error-total:\{client-id=perf-producer-client\} +: 0\.000\n`, out)
	assert.Regexp(t, `\nproducer-topic-metrics:record-send-total:\{client-id=perf-producer-client, topic=solo\} +: 1000\.000\n`, out)
	assert.Regexp(t, `\nproducer-node-metrics:request-latency-avg:\{client-id=perf-producer-client, node-id=node-\d+\} +: \d+\.\d{3}\n`, out)
	assert.Regexp(t, `\nproducer-metrics:buffer-total-bytes:\{client-id=perf-producer-client\} +: 33554432\.000\n`, out)
	assert.NotContains(t, out, "\r", "no live line off a terminal")
	names := regexp.MustCompile(`(?m)^(\S+) +: `).FindAllStringSubmatch(out[i:], -1)
	require.NotEmpty(t, names)
	for j := 1; j < len(names); j++ {
		require.Less(t, names[j-1][1], names[j][1], "sorted as Java sorts them")
	}
	// 1000 records at 4000/s take about 0.25 s; the summary's rate shows it.
	rate, err := strconv.ParseFloat(strings.Fields(lastLine(out[:i]))[3], 64)
	require.NoError(t, err)
	assert.Less(t, rate, 6000.0, "throttled to about --throughput")
}

func TestWindowLineFormat(t *testing.T) {
	var b bytes.Buffer
	s := newStats(10, &b)
	s.reportingInterval = 0
	s.record(3, 100, time.Now().Add(time.Millisecond))
	require.Regexp(t, windowRE, strings.TrimSuffix(b.String(), "\n"))
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    string
		props   []string
		wantErr string
	}{
		{name: "props up to the next flag", args: "--topic t --num-records 5 --producer-props a=1 b=2 --record-size 10 --throughput -1", props: []string{"a=1", "b=2"}},
		{name: "props last", args: "--topic t --num-records 5 --record-size 10 --throughput -1 --producer-props acks=all linger.ms=5", props: []string{"acks=all", "linger.ms=5"}},
		{name: "equals form", args: "--topic=t --num-records=5 --record-size=10 --throughput=1000"},
		{name: "two payload sources", args: "--topic t --num-records 5 --record-size 10 --payload-file f --throughput -1", wantErr: "exactly one of"},
		{name: "no payload", args: "--topic t --num-records 5 --throughput -1", wantErr: "exactly one of"},
		{name: "no throughput", args: "--topic t --num-records 5 --record-size 10", wantErr: "--throughput is required"},
		{name: "zero records", args: "--topic t --num-records 0 --record-size 10 --throughput -1", wantErr: "greater than zero"},
		{name: "empty props", args: "--topic t --num-records 5 --record-size 10 --throughput -1 --producer-props", wantErr: "expected at least one"},
		{name: "unknown flag", args: "--topic t --num-records 5 --record-size 10 --throughput -1 --bogus", wantErr: "unrecognized argument --bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseArgs(strings.Fields(tt.args))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.props, o.producerProps)
		})
	}

	o, err := parseArgs(strings.Fields("--topic t --num-records 5 --record-size 10 --throughput -1 --producer-props bad"))
	require.NoError(t, err)
	_, err = producerProps(o)
	require.ErrorContains(t, err, "invalid property: bad")
}

func TestConsoleLiveLine(t *testing.T) {
	var b bytes.Buffer
	c := &console{w: &b, tty: true}
	c.Live("10/100 records")
	c.Live("20/100")
	fmt.Fprintln(c, "window line")
	c.Clear()
	want := "\r10/100 records" + "\r20/100" + strings.Repeat(" ", 8) + // shorter line padded over the longer
		"\r" + strings.Repeat(" ", 6) + "\r" + "window line\n" + "\r20/100" + // erased (the padding is blank already), written, redrawn
		"\r" + strings.Repeat(" ", 6) + "\r"
	assert.Equal(t, want, b.String())

	b.Reset()
	off := newConsole(&b) // a buffer is not a terminal
	off.Live("progress")
	fmt.Fprintln(off, "plain")
	off.Clear()
	assert.Equal(t, "plain\n", b.String())
}

func TestIsTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, isTerminal(f), "a regular file")
	assert.False(t, isTerminal(&bytes.Buffer{}))
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		assert.True(t, isTerminal(tty))
	}
}

func TestProgressLine(t *testing.T) {
	s := newStats(100, io.Discard)
	s.record(1, 1024*1024, time.Now())
	assert.Regexp(t, `^1/100 records acknowledged \(1\.0%\), \d+\.\d records/sec \(\d+\.\d{2} MB/sec\)$`, s.progress(100))
}
