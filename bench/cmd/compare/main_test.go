package main

import (
	"testing"

	"github.com/tributary-go/tributary/bench/internal/workload"
	"github.com/tributary-go/tributary/protocol"
)

func TestSubtractFloor(t *testing.T) {
	rs := []workload.Result{
		{Client: "tributary", CPUPerRecord: 1.5},
		{Client: workload.NullClient, CPUPerRecord: 0.25},
		{Client: "franz-go", CPUPerRecord: 0.1},
	}
	subtractFloor(rs)
	for i, want := range []float64{1.25, 0, 0} {
		if rs[i].CPUFloor != 0.25 || rs[i].CPUNet != want {
			t.Errorf("%s: floor %v net %v, want 0.25 and %v", rs[i].Client, rs[i].CPUFloor, rs[i].CPUNet, want)
		}
	}
}

func TestMedianBy(t *testing.T) {
	rs := []workload.Result{{IdleCPUMs: 9}, {IdleCPUMs: 1}, {IdleCPUMs: 5}, {IdleCPUMs: 7}, {IdleCPUMs: 2}}
	if got := medianBy(rs, func(r workload.Result) float64 { return r.IdleCPUMs }); got.IdleCPUMs != 5 {
		t.Errorf("median idle CPU %v, want 5", got.IdleCPUMs)
	}
	rs[3].Err = "boom"
	if got := medianBy(rs, func(r workload.Result) float64 { return r.IdleCPUMs }); got.Err != "boom" {
		t.Errorf("median of runs with a failure = %+v, want the failed run", got)
	}
}

func TestSinkCounter(t *testing.T) {
	var c sinkCounter
	req := &protocol.ProduceRequest{Topics: []protocol.ProduceRequestTopic{
		{Name: "a", Partitions: make([]protocol.ProduceRequestPartition, 3)},
		{Name: "b", Partitions: make([]protocol.ProduceRequestPartition, 2)},
	}}
	c.handle(0, protocol.KeyProduce, 9, req)
	c.handle(1, protocol.KeyProduce, 9, req)
	c.handle(0, protocol.KeyMetadata, 12, &protocol.MetadataRequest{})
	if c.requests.Load() != 2 || c.batches.Load() != 10 {
		t.Errorf("counted %d requests and %d batches, want 2 and 10", c.requests.Load(), c.batches.Load())
	}
}
