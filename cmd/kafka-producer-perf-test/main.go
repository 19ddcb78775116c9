// Command kafka-producer-perf-test measures producer throughput and
// latency with the flags and output of Kafka's tool of the same name
// (org.apache.kafka.tools.ProducerPerformance), so existing scripts and
// habits carry over:
//
//	kafka-producer-perf-test --topic perf --num-records 1000000 --record-size 100 \
//	    --throughput -1 --producer-props bootstrap.servers=localhost:9092 acks=1 linger.ms=5
//
// Every 5 seconds it prints a progress line, and at the end the summary:
//
//	1000000 records sent, 812345.123456 records/sec (77.47 MB/sec), 5.12 ms avg latency, 40.00 ms max latency, 4 ms 50th, 9 ms 95th, 14 ms 99th, 35 ms 99.9th.
//
// On a terminal a live line below them shows the records acknowledged so
// far, redrawn in place; when the output is a file or a pipe only the
// plain lines are written.
//
// --producer-props takes several key=value pairs after one flag, up to the
// next flag, as in Java; they win over --producer.config. Without
// bootstrap.servers the tool starts an in-process cluster
// (internal/embedded) and produces to it, so it runs on a machine without
// Kafka. --print-metrics prints the producer's metrics (producer.Metrics)
// at the end, in the layout of Java's ToolsUtils.printMetrics.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-go/tributary/internal/cli"
	"github.com/tributary-go/tributary/internal/embedded"
	"github.com/tributary-go/tributary/producer"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, errHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "kafka-producer-perf-test:", err)
		os.Exit(1)
	}
}

var errHelp = errors.New("help requested")

const usage = `usage: kafka-producer-perf-test --topic TOPIC --num-records NUM-RECORDS
       (--record-size RECORD-SIZE | --payload-file PAYLOAD-FILE | --payload-monotonic)
       --throughput THROUGHPUT [--payload-delimiter PAYLOAD-DELIMITER]
       [--producer-props PROP-NAME=PROP-VALUE [PROP-NAME=PROP-VALUE ...]]
       [--producer.config CONFIG-FILE] [--print-metrics]

This tool is used to verify the producer performance.

  --topic TOPIC                produce messages to this topic
  --num-records NUM-RECORDS    number of messages to produce
  --record-size RECORD-SIZE    message size in bytes
  --payload-file PAYLOAD-FILE  file to read the message payloads from (UTF-8 text); a payload is
                               picked at random for each message
  --payload-monotonic          payload is a monotonically increasing integer
  --payload-delimiter DELIM    delimiter of the payload file (default: \n)
  --throughput THROUGHPUT      throttle to about THROUGHPUT messages/sec; -1 disables throttling
  --producer-props K=V ...     producer properties (bootstrap.servers, acks, linger.ms, ...); they
                               take precedence over --producer.config
  --producer.config FILE       producer properties file
  --print-metrics              print metrics at the end of the test

Without bootstrap.servers, an in-process cluster is started and used.
`

// options are the parsed flags, as Java's ConfigPostProcessor holds them.
type options struct {
	topic            string
	numRecords       int64
	recordSize       int
	payloadFile      string
	payloadDelimiter string
	payloadMonotonic bool
	throughput       float64
	producerProps    []string
	hasProps         bool
	configFile       string
	printMetrics     bool
}

// parseArgs reads Java-style flags: "--name value" or "--name=value";
// --producer-props takes every following argument up to the next one
// starting with "--".
func parseArgs(args []string) (*options, error) {
	o := &options{payloadDelimiter: "\n"}
	var seen = map[string]bool{}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if !strings.HasPrefix(arg, "--") {
			return nil, fmt.Errorf("unrecognized argument %q", arg)
		}
		name, val, hasVal := strings.Cut(arg[2:], "=")
		value := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(args) || strings.HasPrefix(args[i+1], "--") {
				return "", fmt.Errorf("argument --%s: expected one argument", name)
			}
			i++
			return args[i], nil
		}
		seen[name] = true
		var err error
		var v string
		switch name {
		case "help", "h":
			return nil, errHelp
		case "topic":
			o.topic, err = value()
		case "num-records":
			if v, err = value(); err == nil {
				o.numRecords, err = strconv.ParseInt(v, 10, 64)
			}
		case "record-size":
			if v, err = value(); err == nil {
				o.recordSize, err = strconv.Atoi(v)
			}
		case "payload-file":
			o.payloadFile, err = value()
		case "payload-delimiter":
			o.payloadDelimiter, err = value()
		case "payload-monotonic":
			o.payloadMonotonic = true
		case "throughput":
			if v, err = value(); err == nil {
				o.throughput, err = strconv.ParseFloat(v, 64)
			}
		case "producer-props":
			o.hasProps = true
			if hasVal {
				o.producerProps = append(o.producerProps, val)
			}
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
				i++
				o.producerProps = append(o.producerProps, args[i])
			}
			if len(o.producerProps) == 0 {
				err = errors.New("argument --producer-props: expected at least one argument")
			}
		case "producer.config":
			o.configFile, err = value()
		case "print-metrics":
			o.printMetrics = true
		default:
			return nil, fmt.Errorf("unrecognized argument --%s", name)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "argument --") {
				err = fmt.Errorf("argument --%s: %w", name, err)
			}
			return nil, err
		}
	}
	switch {
	case !seen["topic"]:
		return nil, errors.New("argument --topic is required")
	case !seen["num-records"]:
		return nil, errors.New("argument --num-records is required")
	case !seen["throughput"]:
		return nil, errors.New("argument --throughput is required")
	}
	payloads := 0
	for _, f := range []string{"record-size", "payload-file", "payload-monotonic"} {
		if seen[f] {
			payloads++
		}
	}
	if payloads != 1 {
		return nil, errors.New("exactly one of --record-size, --payload-file or --payload-monotonic must be specified")
	}
	if o.numRecords <= 0 {
		return nil, errors.New("--num-records should be greater than zero")
	}
	if seen["record-size"] && o.recordSize <= 0 {
		return nil, errors.New("--record-size should be greater than zero")
	}
	if o.payloadDelimiter == `\n` {
		o.payloadDelimiter = "\n"
	}
	return o, nil
}

// producerProps merges --producer.config and --producer-props (which win),
// with Java's default client.id for this tool.
func producerProps(o *options) (map[string]string, error) {
	props := map[string]string{}
	if o.configFile != "" {
		var err error
		if props, err = cli.LoadProperties(o.configFile); err != nil {
			return nil, err
		}
	}
	for _, kv := range o.producerProps {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.Contains(v, "=") || k == "" {
			return nil, fmt.Errorf("invalid property: %s", kv)
		}
		props[k] = v
	}
	if props["client.id"] == "" {
		props["client.id"] = "perf-producer-client"
	}
	return props, nil
}

// readPayloads splits the payload file at delim, as Java's Scanner does
// (empty tokens are skipped).
func readPayloads(path, delim string, stdout io.Writer) ([][]byte, error) {
	abs, _ := filepath.Abs(path)
	fmt.Fprintf(stdout, "Reading payloads from: %s\n", abs)
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return nil, errors.New("File does not exist or empty file provided.")
	}
	var out [][]byte
	for _, p := range bytes.Split(data, []byte(delim)) {
		if len(p) > 0 {
			out = append(out, p)
		}
	}
	fmt.Fprintf(stdout, "Number of messages read: %d\n", len(out))
	if len(out) == 0 {
		return nil, errors.New("File does not exist or empty file provided.")
	}
	return out, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	o, err := parseArgs(args)
	if errors.Is(err, errHelp) {
		fmt.Fprint(stdout, usage)
		return err
	}
	if err != nil {
		fmt.Fprint(stderr, usage)
		return err
	}
	props, err := producerProps(o)
	if err != nil {
		return err
	}
	var payloads [][]byte
	if o.payloadFile != "" {
		if payloads, err = readPayloads(o.payloadFile, o.payloadDelimiter, stdout); err != nil {
			return err
		}
	}
	if props["bootstrap.servers"] == "" {
		c, err := embedded.Start(3, 6, o.topic)
		if err != nil {
			return err
		}
		defer c.Close()
		props["bootstrap.servers"] = strings.Join(c.Addrs(), ",")
		fmt.Fprintf(stderr, "no bootstrap.servers given: using an in-process cluster (3 brokers, topic %q with 6 partitions) at %s\n",
			o.topic, props["bootstrap.servers"])
	}
	p, err := producer.NewFromProperties(props)
	if err != nil {
		return err
	}
	ctx := context.Background()

	out := newConsole(stdout)
	stats := newStats(o.numRecords, out)
	stopProgress := showProgress(out, stats, o.numRecords)
	var failures atomic.Int64
	var errMu sync.Mutex
	shownErrs := 0
	fail := func(err error) {
		failures.Add(1)
		errMu.Lock()
		defer errMu.Unlock()
		if shownErrs < 20 {
			out.Clear() // stderr may share the terminal with the live line
			fmt.Fprintln(stderr, err)
			shownErrs++
		}
	}

	rng := rand.New(rand.NewPCG(0, 0))
	var payload []byte
	if o.recordSize > 0 {
		payload = make([]byte, o.recordSize)
	}
	rec := &producer.Record{Topic: o.topic}
	throttle := newThrottler(o.throughput, time.Now())
	for i := int64(0); i < o.numRecords; i++ {
		switch {
		case payloads != nil:
			payload = payloads[rng.IntN(len(payloads))]
		case o.recordSize > 0:
			for j := range payload {
				payload[j] = byte(rng.IntN(26) + 65) // as Java: random upper-case letters
			}
		default:
			payload = strconv.AppendInt(payload[:0], i, 10)
		}
		rec.Value = payload
		sendStart := time.Now()
		size := len(payload)
		p.SendCallback(ctx, rec, func(_ producer.RecordMetadata, err error) {
			if err != nil {
				fail(err)
				return
			}
			now := time.Now()
			stats.record(int(now.Sub(sendStart)/time.Millisecond), size, now)
		})
		throttle.wait(i, sendStart)
	}

	if !o.printMetrics {
		err := p.Close(ctx)
		stopProgress()
		stats.printTotal()
		if err != nil {
			return err
		}
	} else {
		flushErr := p.Flush(ctx)
		stopProgress()
		stats.printTotal()
		printMetrics(out, props["client.id"], p.Metrics())
		if err := p.Close(ctx); err != nil {
			return err
		}
		if flushErr != nil {
			return flushErr
		}
	}
	if n := failures.Load(); n > 0 {
		return fmt.Errorf("%d of %d records failed", n, o.numRecords)
	}
	return nil
}

// throttler paces sends to about perSec records a second, sleeping only
// when ahead of schedule (Java's ThroughputThrottler). perSec < 0 means
// unthrottled.
type throttler struct {
	perSec float64
	start  time.Time
}

func newThrottler(perSec float64, start time.Time) *throttler {
	return &throttler{perSec: perSec, start: start}
}

func (t *throttler) wait(sent int64, now time.Time) {
	if t.perSec < 0 {
		return
	}
	if t.perSec == 0 {
		select {} // Java waits forever too
	}
	due := t.start.Add(time.Duration(float64(sent+1) / t.perSec * float64(time.Second)))
	if d := due.Sub(now); d > 0 {
		time.Sleep(d)
	}
}

// stats mirrors Java's ProducerPerformance.Stats: totals, a 5-second
// window, and every sampling-th latency kept for the percentiles.
type stats struct {
	mu                sync.Mutex
	out               io.Writer
	start             time.Time
	latencies         []int
	sampling          int64
	iteration         int64
	index             int
	count             int64
	bytes             int64
	maxLatency        int
	totalLatency      int64
	windowCount       int64
	windowMaxLatency  int
	windowTotalLatenc int64
	windowBytes       int64
	windowStart       time.Time
	reportingInterval time.Duration
}

func newStats(numRecords int64, out io.Writer) *stats {
	now := time.Now()
	sampling := numRecords / min(numRecords, 500000)
	return &stats{
		out: out, start: now, windowStart: now, sampling: sampling,
		latencies:         make([]int, numRecords/sampling+1),
		reportingInterval: 5 * time.Second,
	}
}

func (s *stats) record(latency, bytes int, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	s.bytes += int64(bytes)
	s.totalLatency += int64(latency)
	s.maxLatency = max(s.maxLatency, latency)
	s.windowCount++
	s.windowBytes += int64(bytes)
	s.windowTotalLatenc += int64(latency)
	s.windowMaxLatency = max(s.windowMaxLatency, latency)
	if s.iteration%s.sampling == 0 && s.index < len(s.latencies) {
		s.latencies[s.index] = latency
		s.index++
	}
	if now.Sub(s.windowStart) >= s.reportingInterval {
		s.printWindowLocked()
		s.newWindowLocked()
	}
	s.iteration++
}

func elapsedMs(since time.Time) float64 {
	return max(float64(time.Since(since).Milliseconds()), 1)
}

func (s *stats) printWindowLocked() {
	elapsed := elapsedMs(s.windowStart)
	recsPerSec := 1000.0 * float64(s.windowCount) / elapsed
	mbPerSec := 1000.0 * float64(s.windowBytes) / elapsed / (1024.0 * 1024.0)
	fmt.Fprintf(s.out, "%d records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.\n",
		s.windowCount, recsPerSec, mbPerSec, float64(s.windowTotalLatenc)/float64(max(s.windowCount, 1)), float64(s.windowMaxLatency))
}

func (s *stats) newWindowLocked() {
	s.windowStart = time.Now()
	s.windowCount, s.windowMaxLatency, s.windowTotalLatenc, s.windowBytes = 0, 0, 0, 0
}

// printTotal prints Java's summary line.
func (s *stats) printTotal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	elapsed := elapsedMs(s.start)
	recsPerSec := 1000.0 * float64(s.count) / elapsed
	mbPerSec := 1000.0 * float64(s.bytes) / elapsed / (1024.0 * 1024.0)
	p := percentiles(s.latencies, s.index, 0.5, 0.95, 0.99, 0.999)
	fmt.Fprintf(s.out, "%d records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, %d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.\n",
		s.count, recsPerSec, mbPerSec, float64(s.totalLatency)/float64(max(s.count, 1)), float64(s.maxLatency), p[0], p[1], p[2], p[3])
}

func percentiles(latencies []int, count int, ps ...float64) []int {
	size := min(count, len(latencies))
	sorted := slices.Clone(latencies[:size])
	slices.Sort(sorted)
	out := make([]int, len(ps))
	for i, p := range ps {
		if size > 0 {
			out[i] = sorted[min(int(p*float64(size)), size-1)]
		}
	}
	return out
}
