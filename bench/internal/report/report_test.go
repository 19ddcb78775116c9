package report

import (
	"strings"
	"testing"
	"time"

	"github.com/tributary-go/tributary/bench/internal/workload"
)

func TestMarkdownScalingAndRest(t *testing.T) {
	var scs []workload.Scenario
	for _, s := range workload.All(1) {
		if s.Name == "scale-1024" || s.Name == "rest-50" {
			scs = append(scs, s)
		}
	}
	r := Report{
		Runs: 5, Date: time.Unix(0, 0), Scale: 1, Idle: 20 * time.Second, Scenarios: scs,
		Clients: []ClientInfo{{Name: "tributary"}, {Name: "franz-go"}, {Name: workload.NullClient}},
		Results: []workload.Result{
			{Scenario: "scale-1024", Client: "tributary", RecordsPerSec: 40_000, CPUNet: 20, SinkCount: 102_000, SinkBatches: 85_000, SinkRequests: 2_400, PeakRSSMB: 130},
			{Scenario: "scale-1024", Client: "franz-go", RecordsPerSec: 170_000, CPUNet: 5, SinkCount: 102_000, SinkBatches: 30_000, SinkRequests: 144, PeakRSSMB: 50},
			{Scenario: "scale-1024", Client: workload.NullClient, RecordsPerSec: 2e6, CPUPerRecord: 0.16},
			{Scenario: "rest-50", Client: "tributary", IdleSeconds: 20, IdleCPUMs: 128, IdleCtxSwitch: 1600, GoroutinesPer: 11, HeapPerProdKB: 2285},
			{Scenario: "rest-50", Client: "franz-go", IdleSeconds: 20, IdleCPUMs: 0.5, IdleCtxSwitch: 12, GoroutinesPer: 2, HeapPerProdKB: 2178},
		},
	}
	md := r.Markdown()
	for _, want := range []string{
		"| 1,024 | tributary | 40 | 20.00 | 4.00× | 85,000 | 2,400 | 1.2 | 130 |",
		"| 1,024 | franz-go | 170 | 5.00 | 1.00× | 30,000 | 144 | 3.4 | 50 |",
		"| rest-50 | tributary | 128.0 | 256.00× | 80.0 | 11.0 | 2285 |",
		"| scale-1024 | 0.160 | 2,000,000 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("RESULTS.md lacks the row\n%s\nin\n%s", want, md)
		}
	}
}
