package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tributary-go/tributary/bench/internal/clients"
	"github.com/tributary-go/tributary/bench/internal/workload"
)

// The child process runs one client through one scenario and prints its
// Result as one JSON line. Running each client in its own process is what
// makes getrusage(RUSAGE_SELF) and ru_maxrss that client's alone: the sink
// broker runs in the parent.

type childArgs struct {
	client, scenario, topic string
	brokers                 []string
	scale                   float64
	cpuProfile, memProfile  string
	idle                    time.Duration // at-rest scenarios: the idle window
	diag                    bool          // let the adapter sample its client (clients.Config.Diag)
	trace                   string        // runtime/trace of the measured phase (at rest: the idle window)
}

func runChild(a childArgs) workload.Result {
	res := workload.Result{Scenario: a.scenario, Client: a.client}
	if err := measure(a, &res); err != nil {
		res.Err = err.Error()
	}
	return res
}

func measure(a childArgs, res *workload.Result) error {
	s, err := workload.Find(a.scenario, a.scale)
	if err != nil {
		return err
	}
	if s.Rest {
		return measureRest(a, s, res)
	}
	res.Records = s.Records
	pay := workload.MakePayloads(s)
	tr := workload.NewTracker(s.SampleEvery())
	c, err := clients.Start(a.client, clients.Config{Brokers: a.brokers, Topic: a.topic, Scenario: s, Tracker: tr, Diag: a.diag})
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	closed := false
	defer func() {
		if !closed {
			c.Close()
		}
	}()

	// Warm-up: connections, metadata and producer ids are in place, and
	// pools are primed, before anything is measured.
	tr.Expect(workload.WarmupRecords)
	keys := newKeyPicker(pay.Keys)
	for i := range workload.WarmupRecords {
		if err := c.Produce(0, keys.next(), pay.Values[i%len(pay.Values)], -1); err != nil {
			return fmt.Errorf("warm-up produce: %w", err)
		}
	}
	drain(c)
	if !tr.Wait(60 * time.Second) {
		return fmt.Errorf("warm-up: only %d of %d records acknowledged within 60s", tr.Acked(), workload.WarmupRecords)
	}
	if n, err := tr.Failed(); n > 0 {
		return fmt.Errorf("warm-up: %d records failed: %w", n, err)
	}
	tr.ClearSamples()
	runtime.GC()

	if a.cpuProfile != "" {
		f, err := os.Create(a.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	if a.trace != "" {
		f, err := os.Create(a.trace)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			return err
		}
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	ru0 := rusage()
	t0 := time.Now()
	tr.Expect(workload.WarmupRecords + s.Records)

	var interval time.Duration
	if s.Rate > 0 {
		interval = time.Second / time.Duration(s.Rate)
	}
	// Sender w sends records w, w+G, w+2G, ... (G = s.Senders()), each
	// with its own key sequence.
	senders := s.Senders()
	errs := make([]error, senders)
	var wg sync.WaitGroup
	for w := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys := keys
			if w > 0 {
				keys = newKeyPicker(pay.Keys)
				keys.x += uint64(w) * 0x9E3779B97F4A7C15
			}
			for i := w; i < s.Records; i += senders {
				if interval > 0 {
					// Throttle as Java's ThroughputThrottler does: sleep only
					// when ahead of schedule, so the rate holds on average.
					if ahead := time.Duration(i)*interval - time.Since(t0); ahead > 200*time.Microsecond {
						time.Sleep(ahead)
					}
				}
				if err := c.Produce(w, keys.next(), pay.Values[i%len(pay.Values)], tr.Begin(i)); err != nil {
					errs[w] = fmt.Errorf("produce: %w", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	drain(c)
	acked := tr.Wait(120 * time.Second)
	elapsed := time.Since(t0)
	ru1 := rusage()
	runtime.ReadMemStats(&m1)
	if a.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if a.trace != "" {
		trace.Stop()
	}
	if !acked {
		return fmt.Errorf("only %d of %d records acknowledged within 120s", tr.Acked()-workload.WarmupRecords, s.Records)
	}

	n := float64(s.Records)
	var bytes int
	for i := range s.Records {
		bytes += len(pay.Values[i%len(pay.Values)])
	}
	if pay.Keys != nil {
		bytes += s.Records * len(pay.Keys[0])
	}
	cpu := (ru1.cpu - ru0.cpu).Seconds()
	res.Seconds = elapsed.Seconds()
	res.RecordsPerSec = n / elapsed.Seconds()
	res.MBPerSec = float64(bytes) / elapsed.Seconds() / (1 << 20)
	res.CPUPerRecord = cpu * 1e6 / n
	res.CPUUtil = cpu / elapsed.Seconds()
	res.AllocsPerRec = float64(m1.Mallocs-m0.Mallocs) / n
	res.BytesPerRec = float64(m1.TotalAlloc-m0.TotalAlloc) / n
	res.P50Ms, res.P99Ms, res.P999Ms, res.MeanMs, res.Samples = tr.Percentiles()
	failed, ferr := tr.Failed()
	res.Failed = failed
	if d, ok := c.(clients.Diagnoser); ok {
		res.Extra = d.Extra()
	}

	closed = true
	cerr := c.Close()
	res.PeakRSSMB = float64(rusage().maxRSSKB) / 1024
	if a.memProfile != "" {
		f, err := os.Create(a.memProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d records failed: %w", failed, ferr)
	}
	if cerr != nil {
		return fmt.Errorf("close: %w", cerr)
	}
	return nil
}

// drain lets a client that holds outcomes back (clients.Drainer) report
// them; it is part of the measured span, as waiting for acknowledgements is.
func drain(c clients.Client) {
	if d, ok := c.(clients.Drainer); ok {
		d.Drain()
	}
}

// keyPicker cycles pseudo-randomly through the scenario's keys without
// allocating; it returns nil keys for an unkeyed scenario.
type keyPicker struct {
	keys [][]byte
	x    uint64
}

func newKeyPicker(keys [][]byte) *keyPicker { return &keyPicker{keys: keys, x: 88172645463325252} }

func (k *keyPicker) next() []byte {
	if k.keys == nil {
		return nil
	}
	k.x ^= k.x << 13
	k.x ^= k.x >> 7
	k.x ^= k.x << 17
	return k.keys[k.x%uint64(len(k.keys))]
}

type usage struct {
	cpu      time.Duration // user + system
	maxRSSKB int64
	csw      int64 // context switches, voluntary + involuntary
}

func rusage() usage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return usage{}
	}
	tv := func(t syscall.Timeval) time.Duration {
		return time.Duration(t.Sec)*time.Second + time.Duration(t.Usec)*time.Microsecond
	}
	return usage{cpu: tv(ru.Utime) + tv(ru.Stime), maxRSSKB: int64(ru.Maxrss), csw: int64(ru.Nvcsw) + int64(ru.Nivcsw)}
}

// printResult writes the child's one line of output.
func printResult(r workload.Result) {
	b, err := json.Marshal(r)
	if err != nil {
		b, _ = json.Marshal(workload.Result{Scenario: r.Scenario, Client: r.Client, Err: err.Error()})
	}
	fmt.Println(resultPrefix + string(b))
}

const resultPrefix = "RESULT "

// parseResult finds the child's result line in its output.
func parseResult(out string) (workload.Result, error) {
	var r workload.Result
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, resultPrefix); ok {
			return r, json.Unmarshal([]byte(rest), &r)
		}
	}
	return r, errors.New("no result line in the child's output")
}
