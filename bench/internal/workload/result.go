package workload

// Result is one client's measurement of one scenario, as the child process
// reports it (JSON on its standard output) and the report renders it.
type Result struct {
	Scenario string  `json:"scenario"`
	Client   string  `json:"client"`
	Records  int     `json:"records"`
	Seconds  float64 `json:"seconds"`

	RecordsPerSec float64 `json:"records_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"` // key+value bytes, MiB/s as Java's tool counts
	CPUPerRecord  float64 `json:"cpu_us_per_record"`
	CPUUtil       float64 `json:"cpu_cores"` // user+sys seconds / wall seconds
	AllocsPerRec  float64 `json:"allocs_per_record"`
	BytesPerRec   float64 `json:"bytes_per_record"`
	PeakRSSMB     float64 `json:"peak_rss_mb"`

	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	P999Ms    float64 `json:"p999_ms"`
	MeanMs    float64 `json:"mean_ms"`
	Samples   int     `json:"latency_samples"`
	Failed    int64   `json:"failed"`
	SinkCount int64   `json:"sink_records"` // filled in by the parent from the sink
	Err       string  `json:"error,omitempty"`

	// What the sink saw over the whole run (warm-up included): Produce
	// requests and the partition batches they carried (one batch per
	// partition entry). Filled in by the parent.
	SinkRequests int64 `json:"sink_produce_requests"`
	SinkBatches  int64 `json:"sink_batches"`
	// CPUFloor is the null client's CPU µs per record in the same scenario
	// (the driver's own cost); CPUNet is CPUPerRecord minus it. Filled in
	// by the parent once the scenario's runs are done.
	CPUFloor float64 `json:"cpu_floor_us_per_record"`
	CPUNet   float64 `json:"cpu_net_us_per_record"`

	// At-rest scenarios: the idle window and what the process spent in it.
	IdleSeconds    float64 `json:"idle_seconds,omitempty"`
	IdleCPUMs      float64 `json:"idle_cpu_ms,omitempty"`       // getrusage user+sys delta
	IdleCtxSwitch  int64   `json:"idle_ctx_switches,omitempty"` // voluntary + involuntary, delta
	Producers      int     `json:"producers,omitempty"`
	GoroutinesPer  float64 `json:"goroutines_per_producer,omitempty"`
	HeapPerProdKB  float64 `json:"heap_inuse_kb_per_producer,omitempty"`
	GoroutineTotal int     `json:"goroutines_total,omitempty"`

	// Extra holds client-specific diagnostics (e.g. Tributary's buffer
	// pool wait time), by name.
	Extra map[string]float64 `json:"extra,omitempty"`
}

// RecordsPerBatch returns the sink's records per batch over the run, 0 if
// unknown.
func (r Result) RecordsPerBatch() float64 {
	if r.SinkBatches == 0 {
		return 0
	}
	return float64(r.SinkCount) / float64(r.SinkBatches)
}
