package producer

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The default logger writes warnings and errors only.
func TestDefaultLoggerIsQuiet(t *testing.T) {
	c := defaultConfig()
	ctx := context.Background()
	assert.False(t, c.logger.Enabled(ctx, slog.LevelInfo))
	assert.False(t, c.logger.Enabled(ctx, slog.LevelDebug))
	assert.True(t, c.logger.Enabled(ctx, slog.LevelWarn))
}

// TestDebugLogsAreStructured runs a SASL producer through a retry and a
// failed batch with a debug JSON logger: the batch events carry broker,
// topic, partition and attempt as fields, and the password is nowhere.
func TestDebugLogsAreStructured(t *testing.T) {
	c := securedCluster(t, nil, kfake.EnableSASL(), kfake.Superuser(MechanismPlain, saslUser, testPassword))
	var logs syncBuffer
	p := newSecured(t, c, map[string]string{
		"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN",
		"sasl.jaas.config": jaasPlain + ` required username="` + saslUser + `" password="` + testPassword + `";`,
		"retry.backoff.ms": "1",
	}, WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	ctx := context.Background()
	_, err := p.PartitionsFor(ctx, "t")
	require.NoError(t, err)

	c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "t", Err: kerr.NotLeaderForPartition, Count: 1})
	_, err = p.Send(ctx, &Record{Topic: "t", Partition: 1, UsePartition: true, Value: []byte("a")}).Get(ctx)
	require.NoError(t, err)
	c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "t", Err: kerr.InvalidRecord, Count: 1})
	_, err = p.Send(ctx, &Record{Topic: "t", Partition: 2, UsePartition: true, Value: []byte("b")}).Get(ctx)
	require.Error(t, err)
	require.NoError(t, p.Close(ctx))

	found := map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		msg, _ := m["msg"].(string)
		if _, ok := found[msg]; !ok {
			found[msg] = m
		}
	}
	for _, msg := range []string{"retrying batch", "batch failed"} {
		m, ok := found[msg]
		require.True(t, ok, "no %q line in %s", msg, logs.String())
		for _, k := range []string{"broker", "topic", "partition", "attempt", "err"} {
			assert.Contains(t, m, k, "%q lacks %s", msg, k)
		}
		assert.Equal(t, "t", m["topic"])
		assert.Equal(t, "DEBUG", m["level"])
	}
	assert.Contains(t, found, "connected")
	assert.Contains(t, found["connected"], "broker")
	assert.NotContains(t, logs.String(), testPassword)
}
