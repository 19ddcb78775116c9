package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-go/tributary/internal/chaos"
	"github.com/tributary-go/tributary/partitioner"
)

// slowLines feeds lines with a pause every 500, so the tool is still
// producing while the chaos goroutine breaks the cluster; onEOF runs when
// the input is exhausted (the faults stop there, and what is in flight must
// then resolve).
type slowLines struct {
	n, i  int
	buf   bytes.Buffer
	onEOF func()
}

func (s *slowLines) Read(p []byte) (int, error) {
	for s.buf.Len() < len(p) && s.i < s.n {
		if s.i%500 == 0 {
			time.Sleep(20 * time.Millisecond)
		}
		fmt.Fprintf(&s.buf, "user-%d:%d\n", s.i%300, s.i)
		s.i++
	}
	if s.buf.Len() == 0 {
		if s.onEOF != nil {
			s.onEOF()
			s.onEOF = nil
		}
		return 0, io.EOF
	}
	return s.buf.Read(p)
}

// TestConsoleProducerThroughFaults runs the tool with default settings
// (idempotence on) while every kind of fault hits the cluster, and checks
// the guarantees with a kgo consumer: every line once, per-key order, Java
// partitions.
func TestConsoleProducerThroughFaults(t *testing.T) {
	const topic, n, parts = "console-chaos", 20_000, 12
	cc, err := chaos.New(topic, parts)
	require.NoError(t, err)
	defer cc.Close()

	stop := make(chan struct{})
	done := make(chan [chaos.NumKinds]int)
	go func() { done <- cc.Run(stop, chaos.All, topic, parts, 100*time.Millisecond, t.Logf) }()

	var stderr bytes.Buffer
	err = run([]string{"--bootstrap-server", strings.Join(cc.ListenAddrs(), ","), "--topic", topic,
		"--property", "parse.key=true", "--property", "key.separator=:"}, &slowLines{n: n, onEOF: func() { close(stop) }}, &stderr)
	faults := <-done
	require.NoError(t, err, stderr.String())
	t.Logf("faults injected: %v", faults)

	cl, err := kgo.NewClient(kgo.SeedBrokers(cc.ListenAddrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	seen := make(map[int]bool, n)
	last := map[string]int{}
	for len(seen) < n && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			var i int
			_, err := fmt.Sscanf(string(r.Value), "%d", &i)
			require.NoError(t, err)
			require.False(t, seen[i], "line %d duplicated", i)
			seen[i] = true
			require.Equal(t, partitioner.KeyPartition(r.Key, parts), r.Partition)
			if prev, ok := last[string(r.Key)]; ok {
				require.Less(t, prev, i, "order of key %s", r.Key)
			}
			last[string(r.Key)] = i
		})
	}
	require.Len(t, seen, n, "every line arrived")
}
