// Command kafkacluster starts and stops the Apache Kafka cluster of
// Tributary's real-broker tests by hand (make kafka-up, make kafka-down)
// and for make test.
//
//	kafkacluster up [-dir DIR] [-version 4.1.1]   # prints the bootstrap servers last
//	kafkacluster down [-keep] [-dir DIR]
//	kafkacluster status [-dir DIR]
//
// up returns with the cluster running in the background (its JVMs in a
// session of their own) and its state in DIR/state.json; point
// TRIBUTARY_KAFKA_STATE at that file to run tests against it. DIR defaults
// to $TMPDIR/tributary-kafka.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tributary-go/tributary/internal/kafkatest"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", filepath.Join(os.TempDir(), "tributary-kafka"), "cluster directory")
	version := fs.String("version", envOr("KAFKA_VERSION", kafkatest.DefaultVersion), "Apache Kafka version")
	keep := fs.Bool("keep", false, "down: keep the directory (logs and data)")
	fs.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "up":
		err = up(*dir, *version)
	case "down":
		err = down(*dir, *keep)
	case "status":
		err = status(*dir)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kafkacluster:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: kafkacluster up|down|status [-dir DIR] [-version V]")
	os.Exit(2)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func up(dir, version string) error {
	statePath := filepath.Join(dir, kafkatest.StateFile)
	if c, err := kafkatest.Attach(statePath); err == nil {
		for _, n := range c.Nodes {
			if !c.Running(n.ID) {
				return fmt.Errorf("a cluster in %s has node %d down; run kafkacluster down -dir %s first", dir, n.ID, dir)
			}
		}
		fmt.Fprintf(os.Stderr, "Kafka %s already running in %s (state %s)\n", c.Version, dir, statePath)
		fmt.Println(strings.Join(c.Bootstrap(), ","))
		return nil
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s exists and holds no running cluster; remove it or run kafkacluster down -dir %s", dir, dir)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	began := time.Now()
	c, err := kafkatest.Start(ctx, kafkatest.Options{
		Version: version,
		Dir:     dir,
		Detach:  true,
		Logf: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, format+"\n", args...)
		},
	})
	if err != nil {
		return err
	}
	path, err := c.SaveState()
	if err != nil {
		c.Stop()
		return err
	}
	fmt.Fprintf(os.Stderr, "Kafka %s: 3 nodes up in %s\n", c.Version, time.Since(began).Round(100*time.Millisecond))
	fmt.Fprintf(os.Stderr, "  state:     %s (export %s=%s)\n", path, kafkatest.StateEnv, path)
	fmt.Fprintf(os.Stderr, "  SASL_SSL:  %s (CA %s; users admin, alice, bob)\n", strings.Join(c.SASLBootstrap(), ","), c.CAFile())
	fmt.Fprintf(os.Stderr, "  logs:      %s\n", strings.Join(c.LogFiles(), " "))
	fmt.Println(strings.Join(c.Bootstrap(), ","))
	return nil
}

func down(dir string, keep bool) error {
	statePath := filepath.Join(dir, kafkatest.StateFile)
	c, err := kafkatest.Attach(statePath)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "no cluster state in %s; nothing to stop\n", dir)
		return nil
	}
	if err != nil {
		return err
	}
	if err := c.Stop(); err != nil {
		return err
	}
	if keep {
		fmt.Fprintf(os.Stderr, "Kafka %s in %s stopped; logs kept\n", c.Version, dir)
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "Kafka %s in %s stopped\n", c.Version, dir)
	return nil
}

func status(dir string) error {
	c, err := kafkatest.Attach(filepath.Join(dir, kafkatest.StateFile))
	if err != nil {
		return err
	}
	for _, n := range c.Nodes {
		fmt.Printf("node %d pid %d running=%v plaintext=%s sasl_ssl=%s log=%s\n",
			n.ID, n.Pid, c.Running(n.ID), n.AdvertisedPlaintext, n.AdvertisedSASL, n.LogFile)
	}
	return nil
}
