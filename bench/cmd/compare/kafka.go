package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/tributary-go/tributary/bench/internal/clients"
	"github.com/tributary-go/tributary/bench/internal/workload"
	"github.com/tributary-go/tributary/internal/kafkatest"
)

// Real-Kafka mode (-broker kafka) runs the same workloads against a real
// Apache Kafka cluster that internal/kafkatest starts (the project's test
// harness: jars from Maven Central, KRaft, loopback), with Apache Kafka's
// own Java producer beside the Go clients through
// org.apache.kafka.tools.ProducerPerformance (java.go).
//
// Every client run gets a fresh topic, created before and deleted after,
// so what the broker holds afterwards is that run's alone: the parent
// checks that the topic's end offsets add up to every record sent, and in
// the scenarios that ask for it (kafka-2048, issue 17) counts the record
// batches in the partition logs with kafka.tools.DumpLogSegments. The
// brokers share the machine's cores with the client, so records/s is
// bounded by the broker; CPU per record (getrusage of the client's own
// process) is the figure to compare.

// kafkaOptions configure the cluster of -broker kafka.
type kafkaOptions struct {
	nodes   int    // 1 or 3
	version string // "": kafkatest's default
}

// kafkaDefaultScenarios are what -broker kafka runs for -scenarios all:
// the headline and idempotent workloads and issue 17's 2,048-partition
// check.
const kafkaDefaultScenarios = "headline,idempotent,kafka-2048"

// kafkaDefaultClients are the clients of -clients all in real-Kafka mode
// (sarama and kafka-go run when -clients names them).
var kafkaDefaultClients = []string{"tributary", "tributary-future", "franz-go", "confluent-kafka-go", javaClient, workload.NullClient}

// dumpChunk bounds how many segment files one DumpLogSegments run reads:
// its --files argument is one string, and Linux caps one argument at
// 128 KiB.
const dumpChunk = 800

func runKafkaComparison(out string, opt runOptions, ko kafkaOptions, scenarioList, clientList string, runs int) error {
	if ko.nodes != 1 && ko.nodes != 3 {
		return fmt.Errorf("-kafka-nodes %d: want 1 or 3", ko.nodes)
	}
	if scenarioList == "all" {
		scenarioList = kafkaDefaultScenarios
	}
	var scs []workload.Scenario
	for _, s := range workload.All(opt.scale) {
		if s.Selected(scenarioList) && !s.Rest {
			scs = append(scs, s)
		}
	}
	if len(scs) == 0 {
		return fmt.Errorf("no throughput scenario matches %q", scenarioList)
	}
	names, err := kafkaClientNames(clientList)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "tributary-bench-kafka-")
	if err != nil {
		return err
	}
	if os.Getenv("BENCH_KEEP_KAFKA") == "" { // set: keep the brokers' logs and data to diagnose a run
		defer os.RemoveAll(dir)
	}
	start := time.Now()
	fmt.Printf("starting a %d-node Apache Kafka cluster in %s\n", ko.nodes, dir)
	cl, err := kafkatest.Start(ctx, kafkatest.Options{
		Version: ko.version, Nodes: ko.nodes, Dir: dir,
		Logf: func(f string, a ...any) { fmt.Printf("   "+f+"\n", a...) },
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := cl.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "compare: stopping the cluster:", err)
		}
	}()

	var results []workload.Result
	for _, s := range scs {
		fmt.Printf("== %s: %s — %d records (+%d warm-up; java: %d, no warm-up)\n", s.Name, s.Title, s.Records, workload.WarmupRecords, s.Records)
		var scResults []workload.Result
		var startup *javaStartup // the JVM start-up run, once per scenario
		for _, c := range names {
			if !s.RunsClient(c, clientList) || (c == javaClient && javaSkip(s) != "") {
				continue
			}
			var tries []workload.Result
			for run := range runs {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if c == javaClient && startup == nil {
					st, err := measureJavaStartup(ctx, cl, s, opt.timeout)
					if err != nil {
						tries = append(tries, workload.Result{Scenario: s.Name, Client: c, Records: s.Records, Err: err.Error()})
						break
					}
					startup = &st
					fmt.Printf("   %-20s JVM start-up (1 record): %.2f s CPU, %.0f MB RSS\n", c, st.cpu.Seconds(), st.rssMB)
				}
				r := runKafkaOne(ctx, cl, s, c, run, opt, startup)
				printLine(r)
				tries = append(tries, r)
				if r.Err != "" {
					break // a failing client fails every time; don't wait out more
				}
			}
			if len(tries) > 0 {
				scResults = append(scResults, median(tries))
			}
		}
		subtractFloor(scResults)
		for i := range scResults {
			if scResults[i].Client == javaClient {
				// Java's loop is its own driver: no Go driver floor to take
				// off; its JVM start-up is already subtracted.
				scResults[i].CPUFloor, scResults[i].CPUNet = 0, scResults[i].CPUPerRecord
			}
		}
		results = append(results, scResults...)
	}
	rep := kafkaReport{
		Runs: runs, Date: start, Scale: opt.scale, Nodes: ko.nodes, Version: cl.Version,
		Scenarios: scs, Results: results, Elapsed: time.Since(start),
	}
	for _, c := range names {
		rep.Clients = append(rep.Clients, kafkaClientInfo(c))
	}
	if err := rep.write(out); err != nil {
		return err
	}
	fmt.Printf("wrote %s and %s in %v\n", filepath.Join(out, "RESULTS.md"), filepath.Join(out, "results.json"), time.Since(start).Round(time.Second))
	return nil
}

// kafkaClientNames returns the clients of a real-Kafka run in report
// order: the default set for "all", else the listed ones plus the null
// client (the driver floor).
func kafkaClientNames(list string) ([]string, error) {
	var want []string
	if list == "all" {
		want = kafkaDefaultClients
	} else {
		for _, c := range strings.Split(list, ",") {
			c = strings.TrimSpace(c)
			if c != javaClient && !clients.Known(c) {
				return nil, fmt.Errorf("unknown client %q", c)
			}
			want = append(want, c)
		}
		want = append(want, workload.NullClient)
	}
	var out []string
	for _, c := range append(clients.Names(), javaClient) {
		if slices.Contains(want, c) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// runKafkaOne runs client through s once, on a topic of its own, and
// checks what the broker holds afterwards.
func runKafkaOne(ctx context.Context, cl *kafkatest.Cluster, s workload.Scenario, client string, run int, opt runOptions, startup *javaStartup) workload.Result {
	fail := func(err error) workload.Result {
		return workload.Result{Scenario: s.Name, Client: client, Records: s.Records, Err: err.Error()}
	}
	topic := fmt.Sprintf("bench-%s-%s-%d", s.Name, client, run)
	if client != workload.NullClient { // the null client sends nothing
		if err := createTopic(ctx, cl, s, topic); err != nil {
			return fail(err)
		}
		defer deleteTopic(cl, topic)
	}
	var r workload.Result
	var err error
	want := int64(s.Records + workload.WarmupRecords)
	if client == javaClient {
		r, err = runJava(ctx, cl, s, topic, s.Records, opt.timeout, startup)
		want = int64(s.Records)
	} else {
		r, err = runChildProcess(s, client, topic, cl.Bootstrap(), opt, "", "")
	}
	if err != nil {
		return fail(err)
	}
	if client == workload.NullClient || r.Err != "" {
		return r
	}
	if r.SinkCount, err = endOffsets(ctx, cl, topic); err != nil {
		r.Err = err.Error()
		return r
	}
	switch {
	case r.SinkCount > want && !s.Idempotent:
		// acks without idempotence is at-least-once: a retried batch the
		// broker had already written is written again. Reported, not an
		// error.
		if r.Extra == nil {
			r.Extra = map[string]float64{}
		}
		r.Extra["duplicates"] = float64(r.SinkCount - want)
	case r.SinkCount != want:
		r.Err = fmt.Sprintf("the topic holds %d records, want %d", r.SinkCount, want)
		return r
	}
	if s.KafkaOnly {
		batches, recs, err := countBatches(ctx, cl, topic)
		switch {
		case err != nil:
			r.Err = err.Error()
		case recs != r.SinkCount:
			r.Err = fmt.Sprintf("DumpLogSegments counted %d records in %d batches, the end offsets %d", recs, batches, r.SinkCount)
		default:
			r.SinkBatches = batches
		}
	}
	return r
}

// smallIndexBytes is segment.index.bytes for topics of many partitions.
// A partition's offset and time indexes are files preallocated at
// segment.index.bytes (10 MiB by default) and memory-mapped; the first
// index entry touches the mapping, and on this machine's kernel (6.18,
// ext4) that fault zeroes a large folio of the sparse file. Measured at
// 2,048 partitions on Kafka 4.1.1: a request handler spent a minute at
// 100 % system CPU, 92 % of it in the kernel's memset (perf:
// zero_user_segments, under TimeIndex.maybeAppend), before it answered the
// first Produce requests, so that every client timed out, retried and wrote
// duplicates, and the run measured the broker's page faults instead of the
// client. 128 KiB still indexes a 64 MiB segment (one entry per
// index.interval.bytes, 4 KiB), far more than a run writes to a partition.
const smallIndexBytes = 128 << 10

// createTopic creates topic with s's partitions and replication factor;
// a topic of more than 256 partitions gets smallIndexBytes.
func createTopic(ctx context.Context, cl *kafkatest.Cluster, s workload.Scenario, topic string) error {
	rf := s.ReplicationFactor
	if rf == 0 {
		rf = min(3, len(cl.Nodes))
	}
	tctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var configs map[string]string
	if s.Partitions > 256 {
		configs = map[string]string{"segment.index.bytes": strconv.Itoa(smallIndexBytes)}
	}
	if err := cl.CreateTopic(tctx, topic, int32(s.Partitions), int16(rf), configs); err != nil {
		return err
	}
	return waitServing(tctx, cl, topic)
}

// waitServing polls until every partition of topic answers ListOffsets
// from its leader. Metadata names a leader before the broker has made
// itself one (a loaded broker takes seconds over 2,048 partitions), and a
// run should not start on a topic the broker still refuses writes to.
func waitServing(ctx context.Context, cl *kafkatest.Cluster, topic string) error {
	adm, err := cl.Admin()
	if err != nil {
		return err
	}
	defer adm.Close()
	for {
		offs, err := adm.ListEndOffsets(ctx, topic)
		if err == nil {
			err = offs.Error()
		}
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("topic %s not served by its leaders: %w", topic, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// deleteTopic deletes topic, so the next run's broker holds less; a
// failure only costs disk, so it is reported and otherwise ignored.
func deleteTopic(cl *kafkatest.Cluster, topic string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	adm, err := cl.Admin()
	if err == nil {
		defer adm.Close()
		var rs kadm.DeleteTopicResponses
		if rs, err = adm.DeleteTopics(ctx, topic); err == nil {
			err = rs.Error()
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "compare: deleting topic %s: %v\n", topic, err)
	}
}

// endOffsets returns the sum of topic's partitions' end offsets: the
// records the broker holds, as every topic starts empty.
func endOffsets(ctx context.Context, cl *kafkatest.Cluster, topic string) (int64, error) {
	adm, err := cl.Admin()
	if err != nil {
		return 0, err
	}
	defer adm.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	offs, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("listing end offsets of %s: %w", topic, err)
	}
	if err := offs.Error(); err != nil {
		return 0, fmt.Errorf("listing end offsets of %s: %w", topic, err)
	}
	var n int64
	offs.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n, nil
}

// countBatches runs kafka.tools.DumpLogSegments over every log segment of
// topic on every node and returns the record batches and the records in
// them. It blocks for a JVM run per dumpChunk segments.
func countBatches(ctx context.Context, cl *kafkatest.Cluster, topic string) (batches, records int64, err error) {
	for _, n := range cl.Nodes {
		segs, err := filepath.Glob(filepath.Join(n.Dir, "data", topic+"-*", "*.log"))
		if err != nil {
			return 0, 0, err
		}
		for len(segs) > 0 {
			chunk := segs[:min(dumpChunk, len(segs))]
			segs = segs[len(chunk):]
			out, err := cl.RunTool(ctx, "kafka.tools.DumpLogSegments", "--files", strings.Join(chunk, ","))
			if err != nil {
				return 0, 0, err
			}
			b, r, err := parseDump(string(out))
			if err != nil {
				return 0, 0, err
			}
			batches, records = batches+b, records+r
		}
	}
	if batches == 0 {
		return 0, 0, fmt.Errorf("no record batch of %s in the partition logs", topic)
	}
	return batches, records, nil
}

// parseDump counts the batch lines of DumpLogSegments' output
// ("baseOffset: 0 lastOffset: 9 count: 10 ...") and the records in them.
func parseDump(out string) (batches, records int64, err error) {
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "baseOffset:") {
			continue
		}
		_, rest, ok := strings.Cut(line, " count: ")
		if !ok {
			return 0, 0, fmt.Errorf("DumpLogSegments batch line without a count: %q", line)
		}
		f, _, _ := strings.Cut(rest, " ")
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("DumpLogSegments batch count %q: %w", f, err)
		}
		batches++
		records += n
	}
	return batches, records, nil
}
