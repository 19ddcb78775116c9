package accumulator

// Tests of the ready queue (ready.go): a wake-up looks at what is ready or
// due, not at every partition; appenders wake the sender only when it must
// act sooner than it planned; records per batch at 4,096 partitions; and
// appenders racing a sender that sleeps on the published deadlines.

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nodeTable is a LeaderTable: partition p of any topic is led by
// (*nodes)[p]. Equal values (the same slice) report the same leaders; a
// new table is a new value.
type nodeTable struct{ nodes *[]int32 }

func newNodeTable(partitions int, leader func(p int32) int32) nodeTable {
	nodes := make([]int32, partitions)
	for p := range nodes {
		nodes[p] = leader(int32(p))
	}
	return nodeTable{&nodes}
}

func (t nodeTable) Leader(_ string, partition int32) (int32, bool) {
	if int(partition) >= len(*t.nodes) || (*t.nodes)[partition] < 0 {
		return -1, false
	}
	return (*t.nodes)[partition], true
}

func (t nodeTable) PartitionLeaders(_ string, dst []int32) []int32 {
	return append(dst, *t.nodes...)
}

func drainWake(acc *Accumulator) {
	for len(acc.Wake()) > 0 {
		<-acc.Wake()
	}
}

// TestWakeUpVisitsWhatIsReady: with 4,096 idle partitions (their batches
// linger for an hour, on node 2) and one whose batch fills (on node 1), a
// sender wake-up (Expire, Ready, Drain) looks at that one deque, not at
// the 4,096; a wake-up with nothing due looks at none.
func TestWakeUpVisitsWhatIsReady(t *testing.T) {
	const idle = 4096
	clk := &fakeClock{now: time.Unix(1000, 0)}
	acc := New(Config{BatchSize: 1024, Linger: time.Hour, DeliveryTimeout: 2 * time.Hour, Now: clk.Now}, NewBufferPool(16<<20, 1024))
	leaders := newNodeTable(idle+1, func(p int32) int32 { return min(p, 1) + 1 })
	for p := int32(1); p <= idle; p++ {
		appendN(t, acc, "t", p, 1, 10)
	}
	wakeUp := func() (ReadyResult, map[int32][]*Batch) {
		require.Empty(t, acc.Expire(clk.Now()))
		r := acc.Ready(leaders, clk.Now(), nil)
		out, err := acc.Drain(leaders, r.Nodes, 1<<20, clk.Now(), nil)
		require.NoError(t, err)
		return r, out
	}
	r, _ := wakeUp() // the sender learns of the new deques once
	assert.Empty(t, r.Nodes)
	assert.Equal(t, time.Hour, r.NextCheck)
	assert.GreaterOrEqual(t, acc.Visits(), uint64(idle))

	// More records into the open batches, time passing short of the
	// linger: nothing to look at, and nobody is woken.
	drainWake(acc)
	for p := int32(1); p <= idle; p += 7 {
		appendN(t, acc, "t", p, 1, 10)
	}
	assert.Empty(t, acc.Wake(), "records into known open batches woke the sender")
	clk.Add(time.Minute)
	before := acc.Visits()
	r, out := wakeUp()
	assert.Empty(t, r.Nodes)
	assert.Empty(t, out)
	assert.Equal(t, 59*time.Minute, r.NextCheck)
	assert.Equal(t, before, acc.Visits(), "a wake-up with nothing due looked at deques")

	// Partition 0's batch fills (the next record opens a second one):
	// that wakes the sender, and its wake-up looks at partition 0 alone.
	for len(acc.deque("t", 0).batches) < 2 {
		appendN(t, acc, "t", 0, 1, 100)
	}
	assert.Len(t, acc.Wake(), 1, "a full batch did not wake the sender")
	before = acc.Visits()
	r, out = wakeUp()
	assert.Equal(t, []int32{1}, r.Nodes)
	require.Len(t, out[1], 1)
	assert.Equal(t, int32(0), out[1][0].Partition)
	visits := acc.Visits() - before
	t.Logf("wake-up with %d idle deques and one ready: %d deque visits", idle, visits)
	assert.LessOrEqual(t, visits, uint64(3), "the wake-up looked at more than the ready deque")

	// Once the linger passes, all are due (partition 0's second batch
	// too): then they are visited.
	clk.Add(time.Hour)
	r, out = wakeUp()
	assert.ElementsMatch(t, []int32{1, 2}, r.Nodes)
	assert.Len(t, out[2], idle, "one batch per partition of the ready node")
}

// TestAppendWakesOnlyWhenSooner: a new batch wakes the sender only when the
// sender has no earlier deadline; records into open batches never do; a
// batch that fills does.
func TestAppendWakesOnlyWhenSooner(t *testing.T) {
	acc, clk := newTestAcc(1024, time.Hour)
	leaders := leaderMap{"t/0": 1, "t/1": 1, "t/2": 1}
	r := acc.Ready(leaders, clk.Now(), nil)
	require.Zero(t, r.NextCheck)
	drainWake(acc)

	appendN(t, acc, "t", 0, 1, 10)
	assert.Len(t, acc.Wake(), 1, "the sender sleeps with no deadline: a first batch must wake it")
	drainWake(acc)
	r = acc.Ready(leaders, clk.Now(), nil)
	require.Equal(t, time.Hour, r.NextCheck)

	clk.Add(time.Second)
	appendN(t, acc, "t", 1, 1, 10) // lingers until an hour after t/0's
	appendN(t, acc, "t", 0, 3, 10)
	assert.Empty(t, acc.Wake(), "a batch lingering past the sender's deadline woke it")

	// A deque already known ready changes nothing the sender does not
	// know: a third batch behind two wakes nobody.
	for len(acc.deque("t", 2).batches) < 2 {
		appendN(t, acc, "t", 2, 1, 300)
	}
	assert.Len(t, acc.Wake(), 1, "a second batch makes the partition sendable")
	drainWake(acc)
	for len(acc.deque("t", 2).batches) < 3 {
		appendN(t, acc, "t", 2, 1, 300)
	}
	assert.Empty(t, acc.Wake())
	assert.Equal(t, []int32{1}, acc.Ready(leaders, clk.Now(), nil).Nodes)

	// A flush makes every new batch sendable at once.
	acc.BeginFlush()
	assert.Len(t, acc.Wake(), 1)
	drainWake(acc)
	acc.Ready(leaders, clk.Now(), nil)
	_, err := acc.Append(context.Background(), "u", 0, 1, nil, []byte("v"), nil, Thunk{}, time.Second)
	require.NoError(t, err)
	assert.Len(t, acc.Wake(), 1, "during a flush a new batch must wake the sender")
	acc.EndFlush()
}

// TestRecordsPerBatchAt4096Partitions: keyed records over 4,096
// partitions under a fake clock fill batches as linger.ms says (rate ×
// linger / partitions, plus the record that opened the batch), and a
// longer linger makes larger batches.
func TestRecordsPerBatchAt4096Partitions(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates a few hundred thousand records")
	}
	const partitions, rate = 4096, 400 // records per fake millisecond
	short := simulateKeyed(t, partitions, rate, 20*time.Millisecond, 64<<10, 120)
	long := simulateKeyed(t, partitions, rate, 80*time.Millisecond, 64<<10, 400)
	wantShort := 1 + float64(rate)*20/partitions
	wantLong := 1 + float64(rate)*80/partitions
	t.Logf("4,096 partitions, linger 20 ms: %.2f rec/batch (about %.2f); 80 ms: %.2f (about %.2f)", short, wantShort, long, wantLong)
	assert.InDelta(t, wantShort, short, 0.15*wantShort)
	assert.InDelta(t, wantLong, long, 0.15*wantLong)
	assert.Greater(t, long, 2.5*short, "a longer linger makes larger batches")
}

// TestSenderSleepingOnDeadlines has appenders spread records over 4,096
// partitions and three nodes while a sender sleeps the way the real one
// does: on the wake channel or until the deadline Ready reported, never
// polling. Leaders move while it runs, and some drained batches are
// retried after a backoff. Every record must be drained: a lost wake-up
// would leave the sender asleep with records queued. Run with -race.
func TestSenderSleepingOnDeadlines(t *testing.T) {
	const (
		partitions = 4096
		goroutines = 4
		perG       = 5000
	)
	acc := New(Config{BatchSize: 1024, Linger: 2 * time.Millisecond, DeliveryTimeout: time.Hour}, NewBufferPool(64<<20, 1024))
	tables := []nodeTable{
		newNodeTable(partitions, func(p int32) int32 { return p % 3 }),
		newNodeTable(partitions, func(p int32) int32 { return (p + 1) % 3 }),
		newNodeTable(partitions, func(p int32) int32 {
			if p%97 == 0 {
				return -1 // leaderless for a while
			}
			return p % 2
		}),
	}
	var drained atomic.Int64
	stop := make(chan struct{})
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		timer := time.NewTimer(time.Hour)
		defer timer.Stop()
		retried := map[*Batch]bool{}
		for round := 0; ; round++ {
			leaders := tables[(round/50)%len(tables)]
			now := time.Now()
			if exp := acc.Expire(now); len(exp) > 0 {
				t.Errorf("%d batches expired", len(exp))
			}
			r := acc.Ready(leaders, now, nil)
			out, err := acc.Drain(leaders, r.Nodes, 1<<20, now, nil)
			if err != nil {
				t.Error(err)
				return
			}
			for _, bs := range out {
				for _, b := range bs {
					if !retried[b] && b.Partition%13 == 0 {
						retried[b] = true
						acc.Reenqueue(b, now.Add(time.Millisecond))
						continue
					}
					drained.Add(int64(b.NumRecords()))
					b.Complete(0, -1, nil, nil)
					acc.Completed(b)
				}
			}
			wait := r.NextCheck
			if r.NextExpiry > 0 && (wait == 0 || r.NextExpiry < wait) {
				wait = r.NextExpiry
			}
			if len(out) > 0 || len(r.UnknownLeaders) > 0 {
				wait = time.Millisecond // more may be ready; leaders change by round
			}
			timer.Stop()
			if wait > 0 {
				timer.Reset(wait)
			}
			select {
			case <-stop:
				return
			case <-acc.Wake():
			case <-timer.C:
			}
		}
	}()

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			value := make([]byte, 40)
			for i := range perG {
				p := int32((i*31 + g*1009) % partitions)
				if _, err := acc.Append(context.Background(), "t", p, 1, nil, value, nil, Thunk{}, 30*time.Second); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for drained.Load() < goroutines*perG && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	<-senderDone
	require.Equal(t, int64(goroutines*perG), drained.Load(), "records left queued: the sender missed a wake-up (%d batches queued)", acc.Queued())
	assert.False(t, acc.HasIncomplete())
	assert.Equal(t, int64(64<<20), acc.Pool().Available())
}

// TestDrainRotatesPerNode: each node's drain resumes where its previous one
// stopped (Java's per-node drainIndex), so max.request.size cuts off a
// different partition each time and every partition is served in turn.
func TestDrainRotatesPerNode(t *testing.T) {
	acc, clk := newTestAcc(1024, 0)
	leaders := leaderMap{}
	for p := range int32(8) {
		leaders[fmt.Sprintf("t/%d", p)] = 1
		appendN(t, acc, "t", p, 6, 100) // ~700 bytes per partition, one batch
	}
	var order []int32
	for acc.Queued() > 0 {
		out, err := acc.Drain(leaders, []int32{1}, 1500, clk.Now(), nil)
		require.NoError(t, err)
		require.NotEmpty(t, out[1])
		for _, b := range out[1] {
			order = append(order, b.Partition)
		}
	}
	assert.Equal(t, []int32{0, 1, 2, 3, 4, 5, 6, 7}, order, "each drain starts at the partition the previous one could not take")
}

// TestResultDoneMadeOnDemand: a Result's channel is made only when asked
// for, and every caller of Done, before, during or after completion, gets a
// channel that closes. Run with -race.
func TestResultDoneMadeOnDemand(t *testing.T) {
	for range 200 {
		r := newResult("t", 0)
		var wg sync.WaitGroup
		chans := make([]<-chan struct{}, 8)
		for i := range chans {
			wg.Add(1)
			go func() { defer wg.Done(); chans[i] = r.Done() }()
		}
		r.complete()
		wg.Wait()
		for i, c := range chans {
			select {
			case <-c:
			case <-time.After(30 * time.Second):
				t.Fatalf("Done channel %d never closed", i)
			}
		}
		<-r.Done()
		assert.True(t, r.IsDone())
	}
	idle := newResult("t", 0)
	idle.complete()
	assert.Same(t, closedChan, idle.done.Load(), "a channel was made that no one asked for")
}
