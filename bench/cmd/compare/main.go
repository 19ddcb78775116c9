// Command compare measures Tributary against the other Go Kafka clients
// (franz-go, sarama, segmentio/kafka-go, confluent-kafka-go) through the
// same workloads, side by side, and writes a Markdown report and a chart.
//
//	go run ./cmd/compare -out results              # every scenario, every client
//	go run ./cmd/compare -scale 0.1 -scenarios headline -clients tributary,franz-go
//	go run ./cmd/compare -profile results/profiles # Tributary, headline, with pprof
//	go run ./cmd/compare -scenarios scaling,at-rest,concurrency
//	go run ./cmd/compare -scenarios scale-1024 -diag -buffer-memory 268435456
//
// Besides the throughput scenarios, -scenarios selects the partition
// scaling family (keyed records over 16 to 4,096 partitions), the
// concurrency family (16 and 64 goroutines calling Send) and the at-rest
// family (idle producers: CPU and context switches over -idle, goroutines
// and heap per producer). Every throughput scenario also runs Tributary's
// Future path and the null client, whose CPU per record (the driver's own)
// is subtracted from every client's.
//
// The parent process runs the sink broker (internal/fakebroker with Store
// off: it checks every batch's CRC-32C, counts records and answers with
// offsets, storing nothing) and re-executes itself once per client and
// scenario, so each child's getrusage and peak RSS belong to that client
// alone. After each run the parent checks that the sink counted every
// record.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-go/tributary/bench/internal/clients"
	"github.com/tributary-go/tributary/bench/internal/report"
	"github.com/tributary-go/tributary/bench/internal/workload"
	"github.com/tributary-go/tributary/internal/fakebroker"
	"github.com/tributary-go/tributary/protocol"
)

func main() {
	var (
		child     = flag.Bool("child", false, "internal: run one client in this process and print its result")
		client    = flag.String("client", "", "internal (-child): the client")
		scenario  = flag.String("scenario", "", "internal (-child): the scenario")
		topic     = flag.String("topic", "bench", "internal (-child): the topic")
		brokers   = flag.String("brokers", "", "internal (-child): the sink's addresses, comma-separated")
		cpuProf   = flag.String("cpuprofile", "", "internal (-child): write a CPU profile of the measured phase")
		memProf   = flag.String("memprofile", "", "internal (-child): write an allocation profile after the run")
		scale     = flag.Float64("scale", 1, "multiply every scenario's record count by this (min 5,000 records)")
		out       = flag.String("out", "results", "directory for RESULTS.md, results.json and chart.png")
		scenarios = flag.String("scenarios", "all", "comma-separated scenario names, or all")
		which     = flag.String("clients", "all", "comma-separated client names, or all")
		timeout   = flag.Duration("timeout", 3*time.Minute, "kill a client run after this long")
		runs      = flag.Int("runs", 5, "runs per client and scenario; the report keeps the median by records/s")
		profile   = flag.String("profile", "", "instead of the comparison: profile Tributary (SendCallback and Send) in the headline scenario, or in -scenarios, into this directory")
		idle      = flag.Duration("idle", 20*time.Second, "at-rest scenarios: how long the producers sit idle while their CPU is measured")
		traceDir  = flag.String("trace", "", "write a runtime/trace of each child's measured phase (at-rest: the idle window, plus a goroutine dump) into this directory as <client>-<scenario>.trace; use with -runs 1. go tool trace -d=parsed shows which goroutines woke")
		traceOut  = flag.String("tracefile", "", "internal (-child): the measured phase's trace file")
		bufMem    = flag.Int("buffer-memory", 0, "experiment: buffer.memory in bytes for every throughput scenario and client (0: the scenarios' 32 MiB)")
		batchSize = flag.Int("batch-size", 0, "experiment: batch.size in bytes for every throughput scenario (0: the scenario's)")
		linger    = flag.Duration("linger", -1, "experiment: linger.ms for every throughput scenario (negative: the scenario's)")
		broker    = flag.String("broker", "sink", "what the clients write to: sink (internal/fakebroker in this process) or kafka (a real Apache Kafka cluster started by internal/kafkatest, plus the Java producer)")
		kNodes    = flag.Int("kafka-nodes", 1, "-broker kafka: nodes of the cluster (1, or 3 as the tests')")
		kVersion  = flag.String("kafka-version", "", "-broker kafka: Apache Kafka version (default: kafkatest's, or $KAFKA_VERSION)")
		diag      = flag.Bool("diag", false, "let adapters sample their client's internals during runs (Tributary: buffer pool state every ms); costs a little CPU, off for the published figures")
	)
	flag.Parse()
	workload.SetOverrides(workload.Overrides{BufferBytes: *bufMem, BatchBytes: *batchSize, Linger: *linger})

	if *child {
		printResult(runChild(childArgs{
			client: *client, scenario: *scenario, topic: *topic, scale: *scale,
			brokers: strings.Split(*brokers, ","), cpuProfile: *cpuProf, memProfile: *memProf,
			idle: *idle, diag: *diag, trace: *traceOut,
		}))
		return
	}
	opt := runOptions{scale: *scale, timeout: *timeout, idle: *idle, diag: *diag, traceDir: *traceDir}
	var err error
	switch {
	case *profile != "":
		err = runProfiles(*profile, opt, *scenarios)
	case *broker == "kafka":
		err = runKafkaComparison(*out, opt, kafkaOptions{nodes: *kNodes, version: *kVersion}, *scenarios, *which, max(*runs, 1))
	case *broker != "sink":
		err = fmt.Errorf("-broker %q: want sink or kafka", *broker)
	default:
		err = runComparison(*out, opt, *scenarios, *which, max(*runs, 1))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// runOptions are the flags every child run gets.
type runOptions struct {
	scale    float64
	timeout  time.Duration
	idle     time.Duration
	diag     bool
	traceDir string // trace the measured phases into this directory
}

func runComparison(out string, opt runOptions, scenarioList, clientList string, runs int) error {
	all := workload.All(opt.scale)
	var scs []workload.Scenario
	for _, s := range all {
		if s.Selected(scenarioList) && !s.KafkaOnly {
			scs = append(scs, s)
		}
	}
	if len(scs) == 0 {
		return fmt.Errorf("no scenario matches %q", scenarioList)
	}
	var names []string
	for _, c := range clients.Names() {
		// The null client (the driver floor) always runs: every other
		// client's CPU per record is reported net of it.
		if clientList == "all" || contains(clientList, c) || c == workload.NullClient {
			names = append(names, c)
		}
	}
	for _, c := range strings.Split(clientList, ",") {
		if clientList != "all" && !clients.Known(c) {
			return fmt.Errorf("unknown client %q", c)
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}

	start := time.Now()
	var results []workload.Result
	for _, s := range scs {
		var scResults []workload.Result
		if s.Rest {
			fmt.Printf("== %s: %s — idle %v, all clients × runs at once\n", s.Name, s.Title, opt.idle)
			scResults = runRest(s, names, clientList, opt, runs)
		} else {
			fmt.Printf("== %s: %s — %d records (+%d warm-up)\n", s.Name, s.Title, s.Records, workload.WarmupRecords)
			for _, c := range names {
				if !s.RunsClient(c, clientList) {
					continue
				}
				var tries []workload.Result
				for range runs {
					r := runOne(s, c, opt, "", "")
					printLine(r)
					tries = append(tries, r)
					if r.Err != "" {
						break // a failing client fails every time; don't wait out more
					}
				}
				scResults = append(scResults, median(tries))
			}
			subtractFloor(scResults)
		}
		results = append(results, scResults...)
	}
	rep := report.Report{
		Runs:      runs,
		Date:      start,
		Machine:   report.DescribeMachine(),
		Scale:     opt.scale,
		Idle:      opt.idle,
		Scenarios: scs,
		Results:   results,
		Elapsed:   time.Since(start),
	}
	for _, c := range clients.Names() {
		rep.Clients = append(rep.Clients, report.ClientInfo{Name: c, Version: clients.Version(c), Note: clients.Note(c)})
	}
	for _, c := range []string{"confluent-kafka-go"} {
		if why := clients.Skipped(c); why != "" {
			rep.Clients = append(rep.Clients, report.ClientInfo{Name: c, Version: "—", Note: why})
		}
	}
	if err := rep.Write(out); err != nil {
		return err
	}
	fmt.Printf("wrote %s, %s and %s in %v\n", filepath.Join(out, "RESULTS.md"), filepath.Join(out, "chart.png"),
		filepath.Join(out, "results.json"), time.Since(start).Round(time.Second))
	return nil
}

// runOne starts a fresh sink, runs client through s in a child process and
// checks the sink's count.
func runOne(s workload.Scenario, client string, opt runOptions, cpuProf, memProf string) workload.Result {
	fail := func(err error) workload.Result {
		return workload.Result{Scenario: s.Name, Client: client, Records: s.Records, Err: err.Error()}
	}
	const topic = "bench"
	topics := map[string]int32{topic: int32(s.Partitions)}
	if s.Rest {
		topics = map[string]int32{}
		for _, t := range s.RestTopics() {
			topics[t] = int32(s.Partitions)
		}
	}
	var cnt sinkCounter
	sink, err := fakebroker.Start(fakebroker.Config{
		Brokers: workload.Brokers,
		Topics:  topics,
		Handler: cnt.handle,
	})
	if err != nil {
		return fail(err)
	}
	defer sink.Close()

	r, err := runChildProcess(s, client, topic, sink.Addrs(), opt, cpuProf, memProf)
	if err != nil {
		return fail(err)
	}
	for t := range topics {
		for p := range s.Partitions {
			r.SinkCount += sink.Records(t, int32(p))
		}
	}
	r.SinkRequests, r.SinkBatches = cnt.requests.Load(), cnt.batches.Load()
	want := int64(s.Records + workload.WarmupRecords)
	if s.Rest {
		want = int64(s.Producers * s.TopicCount)
	}
	if client == workload.NullClient {
		want = 0 // the null client sends nothing
	}
	if r.Err == "" && r.SinkCount != want {
		r.Err = fmt.Sprintf("sink counted %d records, want %d", r.SinkCount, want)
	}
	return r
}

// runChildProcess runs client through s in a child process against
// brokers, writing to topic, and returns the child's result. An error means
// the child gave no result (killed, or crashed before printing one).
func runChildProcess(s workload.Scenario, client, topic string, brokers []string, opt runOptions, cpuProf, memProf string) (workload.Result, error) {
	self, err := os.Executable()
	if err != nil {
		return workload.Result{}, err
	}
	args := []string{"-child", "-client", client, "-scenario", s.Name, "-topic", topic,
		"-brokers", strings.Join(brokers, ","), "-scale", fmt.Sprint(opt.scale), "-idle", opt.idle.String()}
	if opt.diag {
		args = append(args, "-diag")
	}
	if o, ok := workload.Overridden(); ok {
		args = append(args, "-buffer-memory", fmt.Sprint(o.BufferBytes), "-batch-size", fmt.Sprint(o.BatchBytes), "-linger", o.Linger.String())
	}
	if opt.traceDir != "" {
		if err := os.MkdirAll(opt.traceDir, 0o755); err != nil {
			return workload.Result{}, err
		}
		args = append(args, "-tracefile", filepath.Join(opt.traceDir, client+"-"+s.Name+".trace"))
	}
	if cpuProf != "" {
		args = append(args, "-cpuprofile", cpuProf, "-memprofile", memProf)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opt.timeout+opt.idle)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), "GOGC=100") // the same GC setting for every Go client
	outb, err := cmd.Output()
	if ctx.Err() != nil {
		return workload.Result{}, fmt.Errorf("killed after %v", opt.timeout+opt.idle)
	}
	r, perr := parseResult(string(outb))
	if perr != nil {
		return workload.Result{}, errors.Join(perr, err)
	}
	return r, nil
}

// sinkCounter counts, from the sink's request handler, the Produce
// requests and the partition batches in them (Produce v3+ carries exactly
// one batch per partition entry; the sink rejects anything else).
type sinkCounter struct {
	requests atomic.Int64
	batches  atomic.Int64
}

func (c *sinkCounter) handle(node int32, key protocol.Key, version int16, req protocol.Request) fakebroker.Action {
	if pr, ok := req.(*protocol.ProduceRequest); ok && key == protocol.KeyProduce {
		n := 0
		for i := range pr.Topics {
			n += len(pr.Topics[i].Partitions)
		}
		c.requests.Add(1)
		c.batches.Add(int64(n))
		return fakebroker.Action{}
	}
	return advertiseFetch(node, key, version, req)
}

// runRest runs an at-rest scenario: every client × run at once, each in
// its own child process with its own sink, so the idle windows overlap
// and the whole scenario takes one idle window. Idle CPU is per process
// (getrusage), so the runs do not count each other's; the median is by
// idle CPU.
func runRest(s workload.Scenario, names []string, clientList string, opt runOptions, runs int) []workload.Result {
	type slot struct {
		client string
		tries  []workload.Result
	}
	var slots []*slot
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range names {
		if !s.RunsClient(c, clientList) {
			continue
		}
		sl := &slot{client: c}
		slots = append(slots, sl)
		for range runs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := runOne(s, c, opt, "", "")
				mu.Lock()
				sl.tries = append(sl.tries, r)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	var out []workload.Result
	for _, sl := range slots {
		for _, r := range sl.tries {
			printRestLine(r)
		}
		out = append(out, medianBy(sl.tries, func(r workload.Result) float64 { return r.IdleCPUMs }))
	}
	return out
}

// subtractFloor sets every result's CPU floor (the null client's CPU per
// record in the same scenario) and net CPU.
func subtractFloor(rs []workload.Result) {
	floor := 0.0
	for _, r := range rs {
		if r.Client == workload.NullClient && r.Err == "" {
			floor = r.CPUPerRecord
		}
	}
	for i := range rs {
		rs[i].CPUFloor = floor
		rs[i].CPUNet = max(rs[i].CPUPerRecord-floor, 0)
	}
}

// advertiseFetch answers ApiVersions with the sink's APIs plus Fetch.
// librdkafka infers broker features from version pairs that include Fetch
// (record batch v2 needs Produce v3 and Fetch v4, zstd Produce v7 and Fetch
// v10); without Fetch it falls back to the magic-0 message format, which
// the sink rightly rejects. No producer ever sends Fetch.
func advertiseFetch(_ int32, key protocol.Key, version int16, req protocol.Request) fakebroker.Action {
	r, ok := req.(*protocol.APIVersionsRequest)
	if !ok || key != protocol.KeyAPIVersions {
		return fakebroker.Action{}
	}
	if version >= 3 && (!protocol.ValidClientSoftware(r.ClientSoftwareName) || !protocol.ValidClientSoftware(r.ClientSoftwareVersion)) {
		return fakebroker.Action{} // the default answer (INVALID_REQUEST)
	}
	resp := protocol.NewAPIVersionsResponse()
	for _, api := range protocol.APIs() {
		if api.Key == protocol.KeyGetTelemetrySubscriptions || api.Key == protocol.KeyPushTelemetry {
			continue // no telemetry receiver, as on most clusters
		}
		resp.APIKeys = append(resp.APIKeys, protocol.APIVersionsResponseKey{APIKey: int16(api.Key), MinVersion: api.Min, MaxVersion: api.Max})
	}
	const keyFetch = 1
	resp.APIKeys = append(resp.APIKeys, protocol.APIVersionsResponseKey{APIKey: keyFetch, MinVersion: 0, MaxVersion: 12})
	return fakebroker.Action{Respond: resp}
}

// median returns the run with the median records/s, or the first failed
// run when any failed.
func median(rs []workload.Result) workload.Result {
	return medianBy(rs, func(r workload.Result) float64 { return r.RecordsPerSec })
}

// medianBy returns the run with the median key, or the first failed run
// when any failed.
func medianBy(rs []workload.Result, key func(workload.Result) float64) workload.Result {
	for _, r := range rs {
		if r.Err != "" {
			return r
		}
	}
	sorted := slices.Clone(rs)
	slices.SortFunc(sorted, func(a, b workload.Result) int { return cmp.Compare(key(a), key(b)) })
	return sorted[len(sorted)/2]
}

func printLine(r workload.Result) {
	if r.Err != "" {
		fmt.Printf("   %-20s ERROR: %s\n", r.Client, r.Err)
		return
	}
	// Against real Kafka the broker's requests are not counted, and its
	// batches only where a scenario asks (DumpLogSegments).
	var seen string
	switch {
	case r.SinkRequests > 0:
		seen = fmt.Sprintf("  %d batches in %d requests (%.1f rec/batch)", r.SinkBatches, r.SinkRequests, r.RecordsPerBatch())
	case r.SinkBatches > 0:
		seen = fmt.Sprintf("  %d batches (%.1f rec/batch)", r.SinkBatches, r.RecordsPerBatch())
	}
	fmt.Printf("   %-20s %10.0f rec/s %7.1f MB/s %6.2f µs CPU/rec %6.2f allocs/rec %7.1f B/rec %6.0f MB RSS  p50 %.2f p99 %.2f p99.9 %.2f ms%s\n",
		r.Client, r.RecordsPerSec, r.MBPerSec, r.CPUPerRecord, r.AllocsPerRec, r.BytesPerRec, r.PeakRSSMB, r.P50Ms, r.P99Ms, r.P999Ms, seen)
	if len(r.Extra) > 0 {
		keys := slices.Sorted(maps.Keys(r.Extra))
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%.6g", k, r.Extra[k])
		}
		fmt.Printf("   %-20s%s\n", "", b.String())
	}
}

func printRestLine(r workload.Result) {
	if r.Err != "" {
		fmt.Printf("   %-20s ERROR: %s\n", r.Client, r.Err)
		return
	}
	fmt.Printf("   %-20s idle %.1fs: %7.2f ms CPU, %6d context switches; %.1f goroutines and %.0f KiB heap per producer (%d producers)\n",
		r.Client, r.IdleSeconds, r.IdleCPUMs, r.IdleCtxSwitch, r.GoroutinesPer, r.HeapPerProdKB, r.Producers)
}

// runProfiles profiles Tributary's SendCallback and Send paths in the
// headline scenario, or both in the listed scenarios (names or groups).
func runProfiles(dir string, opt runOptions, scenarioList string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if scenarioList == "all" {
		scenarioList = workload.HeadlineScenario
	}
	for _, s := range workload.All(opt.scale) {
		if !s.Selected(scenarioList) || s.Rest || s.KafkaOnly {
			continue
		}
		for _, client := range []string{"tributary", "tributary-future"} {
			cpu := filepath.Join(dir, client+"-"+s.Name+".cpu.pprof")
			mem := filepath.Join(dir, client+"-"+s.Name+".allocs.pprof")
			r := runOne(s, client, opt, cpu, mem)
			printLine(r)
			if r.Err != "" {
				return errors.New(r.Err)
			}
			fmt.Printf("   profiles: %s %s\n", cpu, mem)
		}
	}
	return nil
}

func contains(list, name string) bool {
	for _, x := range strings.Split(list, ",") {
		if strings.TrimSpace(x) == name {
			return true
		}
	}
	return false
}
