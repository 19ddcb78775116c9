package accumulator

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchLeaders puts partition p on node p % 3 and is a LeaderTable.
type benchLeaders struct{ nodes *[]int32 }

func (l benchLeaders) Leader(_ string, p int32) (int32, bool) { return p % 3, true }
func (l benchLeaders) PartitionLeaders(_ string, dst []int32) []int32 {
	return append(dst, *l.nodes...)
}

// BenchmarkKeyedSenderLoop measures the accumulator's cost per record with
// keyed records over many partitions: a record every fake microsecond, and
// a sender wake-up (Expire, Ready, Drain, complete at once) every 64
// records, as a sender woken by responses and full batches would run. It
// reports the process's CPU time per record (cpu-ns/op) beside the wall
// time, which a shared machine makes noisy.
func BenchmarkKeyedSenderLoop(b *testing.B) {
	for _, parts := range []int{16, 1024, 4096} {
		b.Run(fmt.Sprintf("partitions=%d", parts), func(b *testing.B) {
			clk := &fakeClock{now: time.Unix(1000, 0)}
			acc := New(Config{BatchSize: 64 << 10, Linger: 5 * time.Millisecond, DeliveryTimeout: time.Minute, Now: clk.Now}, NewBufferPool(32<<20, 64<<10))
			nodes := make([]int32, parts)
			for p := range nodes {
				nodes[p] = int32(p % 3)
			}
			leaders := benchLeaders{&nodes}
			key, value := []byte("key-00000"), make([]byte, 100)
			load := func(string, []int32, []int) {}
			b.ReportAllocs()
			cpu0 := cpuTime()
			defer func() { b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op") }()
			n := uint32(0)
			for i := 0; b.Loop(); i++ {
				n = n*1664525 + 1013904223
				p := int32(n>>8) % int32(parts)
				if _, err := acc.Append(context.Background(), "t", p, 1, key, value, nil, Thunk{}, time.Second); err != nil {
					b.Fatal(err)
				}
				clk.Add(time.Microsecond)
				if i%64 == 0 {
					now := clk.Now()
					for _, x := range acc.Expire(now) {
						acc.Deallocate(x)
					}
					r := acc.Ready(leaders, now, load)
					out, err := acc.Drain(leaders, r.Nodes, 1<<20, now, nil)
					if err != nil {
						b.Fatal(err)
					}
					for _, bs := range out {
						for _, x := range bs {
							x.Complete(0, -1, nil, nil)
							acc.Completed(x)
						}
					}
				}
			}
		})
	}
}
