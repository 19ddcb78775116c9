package clients

import "github.com/tributary-go/tributary/bench/internal/workload"

func init() {
	register(workload.NullClient, "github.com/tributary-go/tributary/bench",
		"no client: Produce only reports the record acknowledged to the tracker, so its CPU per record is the driver's own (payload pick, tracker, loop); the report subtracts it from every client's",
		func(c Config) (Client, error) { return nullClient{c.Tracker}, nil })
}

// nullClient runs the driver's per-record closure and nothing else: it
// acknowledges every record at once. It measures the harness's floor.
type nullClient struct{ tr *workload.Tracker }

func (n nullClient) Produce(_ int, _, _ []byte, slot int32) error {
	n.tr.Done(slot, nil)
	return nil
}

func (n nullClient) ProduceTopic(_ string, _, _ []byte, slot int32) error {
	n.tr.Done(slot, nil)
	return nil
}

func (nullClient) Close() error { return nil }
