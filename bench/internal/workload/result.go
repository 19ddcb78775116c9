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
}
