package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"time"

	"github.com/tributary-go/tributary/bench/internal/clients"
	"github.com/tributary-go/tributary/bench/internal/workload"
)

// At rest (issue 18): Producers clients, each with its own defaults, send
// one record to each of the scenario's topics; once every record is
// acknowledged the process sits idle for the idle window, and what it
// spends meanwhile (getrusage CPU, context switches) is the measurement.
// Goroutines and heap in use are counted against a baseline taken before
// the first client started, after a GC, and divided by the producers.
//
// The null client gives the floor: the harness's own process idling
// (runtime background work) with no producer at all.

func measureRest(a childArgs, s workload.Scenario, res *workload.Result) error {
	tr := workload.NewTracker(1)
	topics := s.RestTopics()
	value := make([]byte, s.ValueSize)
	for i := range value {
		value[i] = 'x'
	}

	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	g0 := runtime.NumGoroutine()

	cs := make([]clients.Client, 0, s.Producers)
	defer func() {
		for _, c := range cs {
			c.Close()
		}
	}()
	tr.Expect(s.Producers * len(topics))
	for range s.Producers {
		c, err := clients.Start(a.client, clients.Config{Brokers: a.brokers, Topic: topics[0], Scenario: s, Tracker: tr, Defaults: true})
		if err != nil {
			return fmt.Errorf("start: %w", err)
		}
		cs = append(cs, c)
		tp, ok := c.(clients.TopicProducer)
		if !ok {
			return fmt.Errorf("%s cannot send to a topic of its choosing (no ProduceTopic)", a.client)
		}
		for _, t := range topics {
			if err := tp.ProduceTopic(t, nil, value, -1); err != nil {
				return fmt.Errorf("produce: %w", err)
			}
		}
	}
	if !tr.Wait(60 * time.Second) {
		return fmt.Errorf("only %d of %d records acknowledged within 60s", tr.Acked(), s.Producers*len(topics))
	}
	if n, err := tr.Failed(); n > 0 {
		return fmt.Errorf("%d records failed: %w", n, err)
	}

	// Footprint: after a GC, against the baseline.
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	g1 := runtime.NumGoroutine()

	if a.trace != "" {
		// The goroutines at rest, grouped by stack, next to the trace.
		g, err := os.Create(strings.TrimSuffix(a.trace, ".trace") + ".goroutines.txt")
		if err != nil {
			return err
		}
		err = pprof.Lookup("goroutine").WriteTo(g, 1)
		g.Close()
		if err != nil {
			return err
		}
		f, err := os.Create(a.trace)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			return err
		}
	}
	ru0 := rusage()
	t0 := time.Now()
	time.Sleep(a.idle)
	elapsed := time.Since(t0)
	ru1 := rusage()
	if a.trace != "" {
		trace.Stop()
	}

	res.Records = s.Producers * len(topics)
	res.Producers = s.Producers
	res.IdleSeconds = elapsed.Seconds()
	res.IdleCPUMs = float64(ru1.cpu-ru0.cpu) / 1e6
	res.IdleCtxSwitch = ru1.csw - ru0.csw
	res.GoroutineTotal = g1
	res.GoroutinesPer = float64(g1-g0) / float64(s.Producers)
	res.HeapPerProdKB = (float64(m1.HeapInuse) - float64(m0.HeapInuse)) / 1024 / float64(s.Producers)
	res.PeakRSSMB = float64(ru1.maxRSSKB) / 1024
	return nil
}
