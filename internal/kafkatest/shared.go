package kafkatest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireEnv, when "1", makes Shared fail instead of skipping or starting
// a cluster of its own when StateEnv is unset; CI sets it (and CI=true has
// the same effect).
const RequireEnv = "TRIBUTARY_REQUIRE_KAFKA"

var shared struct {
	once  sync.Once
	c     *Cluster
	owned bool   // started by this test binary; Main stops it
	skip  string // why tests skip, when they do
	err   error
}

// Shared returns the suite-wide cluster:
//
//   - the one whose state file $TRIBUTARY_KAFKA_STATE names (make test,
//     make test-kafka, or make kafka-up and an export by hand);
//   - else, when CI or TRIBUTARY_REQUIRE_KAFKA=1 is set, none: the test
//     fails, so CI never passes by skipping;
//   - else, when java is missing (or mvn is missing and Kafka is not
//     cached), none: the test skips, saying how to run it;
//   - else one started for this test binary on first use, shared by the
//     package's tests and stopped by [Main] (or, without Main, killed when
//     the binary exits).
//
// Tests must not stop or kill the shared cluster's nodes (use [StartT] for
// that) and should use topics of their own. On failure the test's log
// shows the nodes' log files and their last lines. It blocks for the
// start-up of the cluster on first use.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	shared.once.Do(openShared)
	if shared.skip != "" {
		t.Skip(shared.skip)
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	dumpOnFailure(t, shared.c)
	return shared.c
}

func openShared() {
	if path := os.Getenv(StateEnv); path != "" {
		shared.c, shared.err = Attach(path)
		return
	}
	how := "run `make test` or `make test-kafka`, or `make kafka-up` and export " + StateEnv + "=<the state file it prints>"
	if os.Getenv("CI") != "" || os.Getenv(RequireEnv) == "1" {
		shared.err = fmt.Errorf("kafkatest: this test needs a real Kafka cluster and %s is not set (CI or %s=1 forbids skipping); %s", StateEnv, RequireEnv, how)
		return
	}
	version := os.Getenv("KAFKA_VERSION")
	if version == "" {
		version = DefaultVersion
	}
	if _, err := exec.LookPath("java"); err != nil {
		shared.skip = "kafkatest: real-Kafka test skipped: java is not installed (install Java 17+ and Maven, then " + how + ")"
		return
	}
	if _, cached, _ := LibDir(version); !cached {
		if _, err := exec.LookPath("mvn"); err != nil {
			shared.skip = "kafkatest: real-Kafka test skipped: mvn is not installed to fetch Kafka " + version + " (install Maven, then " + how + ")"
			return
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	shared.c, shared.err = Start(ctx, Options{Version: version, Logf: func(f string, a ...any) {
		fmt.Fprintf(os.Stderr, f+"\n", a...)
	}})
	shared.owned = shared.err == nil
}

// Main runs a test binary's tests and then stops the cluster Shared
// started for it, if any; a package with real-Kafka tests calls it from
// TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(kafkatest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	if shared.owned {
		if err := shared.c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	return code
}

// StartT starts a cluster of the test's own (for tests that kill or
// restart nodes), stopped by t.Cleanup; it fails t if the cluster cannot
// start, and skips or fails like Shared when java or mvn are missing. It
// blocks for the cluster's start-up.
func StartT(t testing.TB, o Options) *Cluster {
	t.Helper()
	if os.Getenv("CI") == "" && os.Getenv(RequireEnv) != "1" {
		if _, err := exec.LookPath("java"); err != nil {
			t.Skip("kafkatest: real-Kafka test skipped: java is not installed (install Java 17+ and Maven)")
		}
	}
	if o.Logf == nil {
		o.Logf = t.Logf
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() && c.ownDir {
			c.ownDir = false // keep the logs the dump below points at
			t.Logf("kafkatest: cluster directory kept: %s", c.Dir)
		}
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	dumpOnFailure(t, c)
	return c
}

// dumpOnFailure logs, when t has failed, each node's log path and last
// lines.
func dumpOnFailure(t testing.TB, c *Cluster) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		var b strings.Builder
		for _, n := range c.Nodes {
			fmt.Fprintf(&b, "node %d (pid %d, running %v): log %s, stdout %s\n", n.ID, n.Pid, c.Running(n.ID), n.LogFile, n.OutFile)
			b.WriteString(tail(n.LogFile, 15))
		}
		t.Logf("kafkatest: Kafka %s cluster logs:\n%s", c.Version, b.String())
	})
}
