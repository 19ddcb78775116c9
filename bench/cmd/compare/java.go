package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tributary-go/tributary/bench/internal/clients"
	"github.com/tributary-go/tributary/bench/internal/workload"
	"github.com/tributary-go/tributary/internal/kafkatest"
)

// The Java producer runs as Apache Kafka's own benchmark,
// org.apache.kafka.tools.ProducerPerformance from the kafka-tools jar
// (what kafka-producer-perf-test.sh runs), in a JVM of its own with the
// JVM options kafka-run-class.sh gives it. Its CPU and peak RSS come from
// the process's rusage (wait4); the CPU of a 1-record run of the same
// command, measured once per scenario, is subtracted as the JVM's
// start-up (class loading, JIT warm-up, metadata and connections). Its
// records/s and latency percentiles are the tool's own figures, parsed
// from its last line: it times from its first send to its last
// acknowledgement, with no warm-up, and gives percentiles in whole ms.

const javaClient = "java"

// javaJVMOptions are kafka-producer-perf-test.sh's: KAFKA_HEAP_OPTS
// -Xmx512M and kafka-run-class.sh's KAFKA_JVM_PERFORMANCE_OPTS.
var javaJVMOptions = []string{
	"-Xmx512M", "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
	"-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
	"-XX:MaxInlineLevel=15", "-Djava.awt.headless=true",
}

const javaNote = "Apache Kafka's org.apache.kafka.tools.ProducerPerformance (kafka-tools jar of the cluster's version), its own JVM with kafka-producer-perf-test.sh's options; --record-size (random letters, as the Go clients' values), --throughput -1 (or the scenario's rate), --producer-props with batch.size, linger.ms, acks, enable.idempotence, compression.type, max.in.flight=5, buffer.memory, max.request.size; default partitioner. CPU and peak RSS from wait4's rusage, minus a 1-record run's CPU (JVM start-up); records/s and p50/p99 (whole ms) from the tool's output; no warm-up. Unkeyed single-goroutine scenarios only (the tool sends no keys)"

// javaStartup is what a 1-record run of ProducerPerformance cost.
type javaStartup struct {
	cpu   time.Duration
	rssMB float64
}

// javaSkip says why the Java producer cannot run s ("" if it can).
func javaSkip(s workload.Scenario) string {
	switch {
	case s.Keys > 0:
		return "ProducerPerformance sends no keys"
	case s.JSON:
		return "ProducerPerformance sends random letters, not JSON-like values"
	case s.Senders() > 1:
		return "ProducerPerformance sends from one thread"
	}
	return ""
}

// javaProps returns s's settings as Java producer properties.
func javaProps(s workload.Scenario, bootstrap []string) []string {
	acks := strconv.Itoa(s.Acks)
	if s.Acks == -1 {
		acks = "all"
	}
	return []string{
		"bootstrap.servers=" + strings.Join(bootstrap, ","),
		"client.id=bench",
		"acks=" + acks,
		"enable.idempotence=" + strconv.FormatBool(s.Idempotent),
		"linger.ms=" + strconv.FormatInt(s.Linger.Milliseconds(), 10),
		"batch.size=" + strconv.Itoa(s.BatchBytes),
		"compression.type=" + s.Compression,
		"max.in.flight.requests.per.connection=" + strconv.Itoa(workload.MaxInFlight),
		"buffer.memory=" + strconv.Itoa(s.BufferMemory()),
		"max.request.size=" + strconv.Itoa(workload.MaxRequestBytes),
	}
}

// javaRun is one ProducerPerformance process's outcome.
type javaRun struct {
	perf  perfTotal
	cpu   time.Duration // user + system of the whole JVM
	rssMB float64
	wall  time.Duration
}

// execJava runs ProducerPerformance for records records of s to topic. It
// blocks until the JVM exits or timeout passes.
func execJava(ctx context.Context, cl *kafkatest.Cluster, s workload.Scenario, topic string, records int, timeout time.Duration) (javaRun, error) {
	throughput := "-1"
	if s.Rate > 0 {
		throughput = strconv.Itoa(s.Rate)
	}
	args := append([]string(nil), javaJVMOptions...)
	args = append(args, "-cp", filepath.Join(cl.LibDir, "*"), "org.apache.kafka.tools.ProducerPerformance",
		"--topic", topic, "--num-records", strconv.Itoa(records), "--record-size", strconv.Itoa(s.ValueSize),
		"--throughput", throughput, "--producer-props")
	args = append(args, javaProps(s, cl.Bootstrap())...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "java", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	if ctx.Err() != nil {
		return javaRun{}, fmt.Errorf("ProducerPerformance killed after %v", timeout)
	}
	if err != nil {
		return javaRun{}, fmt.Errorf("ProducerPerformance: %w\n%s%s", err, lastLines(stdout.String(), 5), lastLines(stderr.String(), 10))
	}
	perf, err := parsePerfTotal(stdout.String())
	if err != nil {
		return javaRun{}, fmt.Errorf("%w\n%s", err, lastLines(stderr.String(), 10))
	}
	if perf.Records != int64(records) {
		return javaRun{}, fmt.Errorf("ProducerPerformance reports %d records sent, want %d", perf.Records, records)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return javaRun{}, fmt.Errorf("no rusage for the ProducerPerformance process")
	}
	tv := func(t syscall.Timeval) time.Duration {
		return time.Duration(t.Sec)*time.Second + time.Duration(t.Usec)*time.Microsecond
	}
	return javaRun{perf: perf, cpu: tv(ru.Utime) + tv(ru.Stime), rssMB: float64(ru.Maxrss) / 1024, wall: wall}, nil
}

// measureJavaStartup runs ProducerPerformance for one record of s on a
// topic of its own and returns its CPU: the JVM's start-up, to subtract.
func measureJavaStartup(ctx context.Context, cl *kafkatest.Cluster, s workload.Scenario, timeout time.Duration) (javaStartup, error) {
	topic := "bench-" + s.Name + "-java-startup"
	if err := createTopic(ctx, cl, s, topic); err != nil {
		return javaStartup{}, err
	}
	defer deleteTopic(cl, topic)
	r, err := execJava(ctx, cl, s, topic, 1, timeout)
	if err != nil {
		return javaStartup{}, fmt.Errorf("JVM start-up run: %w", err)
	}
	return javaStartup{cpu: r.cpu, rssMB: r.rssMB}, nil
}

// runJava runs the Java producer for records records of s to topic and
// returns its result, CPU net of startup.
func runJava(ctx context.Context, cl *kafkatest.Cluster, s workload.Scenario, topic string, records int, timeout time.Duration, startup *javaStartup) (workload.Result, error) {
	r, err := execJava(ctx, cl, s, topic, records, timeout)
	if err != nil {
		return workload.Result{}, err
	}
	n := float64(records)
	net := max(r.cpu-startup.cpu, 0)
	return workload.Result{
		Scenario: s.Name, Client: javaClient, Records: records,
		Seconds:       n / r.perf.RecordsPerSec,
		RecordsPerSec: r.perf.RecordsPerSec,
		MBPerSec:      r.perf.MBPerSec,
		CPUPerRecord:  net.Seconds() * 1e6 / n,
		CPUUtil:       net.Seconds() * r.perf.RecordsPerSec / n,
		PeakRSSMB:     r.rssMB,
		P50Ms:         r.perf.P50, P99Ms: r.perf.P99, P999Ms: r.perf.P999, MeanMs: r.perf.AvgMs,
		Samples: records,
		Extra: map[string]float64{
			"jvm_cpu_s":         r.cpu.Seconds(),
			"jvm_startup_cpu_s": startup.cpu.Seconds(),
			"jvm_wall_s":        r.wall.Seconds(),
		},
	}, nil
}

// perfTotal is ProducerPerformance's summary line.
type perfTotal struct {
	Records                 int64
	RecordsPerSec, MBPerSec float64
	AvgMs, MaxMs            float64
	P50, P95, P99, P999     float64 // ms
}

// perfTotalLine matches ProducerPerformance's last line, e.g.
// "1000000 records sent, 171821.305842 records/sec (16.39 MB/sec), 95.39
// ms avg latency, 641.00 ms max latency, 73 ms 50th, 243 ms 95th, 370 ms
// 99th, 623 ms 99.9th." (the periodic lines carry no percentiles).
var perfTotalLine = regexp.MustCompile(`(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th`)

func parsePerfTotal(out string) (perfTotal, error) {
	m := perfTotalLine.FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		return perfTotal{}, fmt.Errorf("no summary line in ProducerPerformance's output:\n%s", lastLines(out, 5))
	}
	last := m[len(m)-1]
	f := make([]float64, len(last)-1)
	for i, s := range last[1:] {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return perfTotal{}, fmt.Errorf("ProducerPerformance summary field %q: %w", s, err)
		}
		f[i] = v
	}
	return perfTotal{Records: int64(f[0]), RecordsPerSec: f[1], MBPerSec: f[2], AvgMs: f[3], MaxMs: f[4],
		P50: f[5], P95: f[6], P99: f[7], P999: f[8]}, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n") + "\n"
}

// kafkaClientInfo names a client of the real-Kafka report.
func kafkaClientInfo(c string) kafkaClient {
	if c == javaClient {
		return kafkaClient{Name: c, Version: "Apache Kafka's own producer", Note: javaNote}
	}
	return kafkaClient{Name: c, Version: clients.Version(c), Note: clients.Note(c)}
}
