package kafkatest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
)

// The jars come from Maven Central through testing/kafka/pom.xml, once per
// version, into a cache outside the repository. A marker file written after
// a complete copy makes later runs use the cache without invoking Maven; a
// lock file serialises test binaries that fetch the same version at once.

// DefaultVersion is the Apache Kafka release used when neither
// Options.Version nor the KAFKA_VERSION environment variable names one.
const DefaultVersion = "4.1.1"

const completeMarker = ".complete"

// CacheDir returns the directory under which Kafka releases are cached:
// $TRIBUTARY_CACHE, else $XDG_CACHE_HOME/tributary, else
// $HOME/.cache/tributary.
func CacheDir() (string, error) {
	if d := os.Getenv("TRIBUTARY_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("kafkatest: no cache directory (set TRIBUTARY_CACHE): %w", err)
	}
	return filepath.Join(d, "tributary"), nil
}

// LibDir returns the directory holding the jars of Kafka version v, and
// whether they are complete (fetched before).
func LibDir(v string) (dir string, complete bool, err error) {
	base, err := CacheDir()
	if err != nil {
		return "", false, err
	}
	dir = filepath.Join(base, "kafka-"+v, "libs")
	_, err = os.Stat(filepath.Join(dir, completeMarker))
	return dir, err == nil, nil
}

// Fetch makes sure the jars of Kafka version v are in the cache and
// returns their directory. The first call for a version runs Maven on
// testing/kafka/pom.xml (about 10 s when ~/.m2 is warm); later calls, in
// this or any other process, only check the marker. It blocks, and is safe
// for concurrent use by several processes.
func Fetch(ctx context.Context, v string) (string, error) {
	dir, complete, err := LibDir(v)
	if err != nil || complete {
		return dir, err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("kafkatest: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(parent, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("kafkatest: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("kafkatest: lock %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(filepath.Join(dir, completeMarker)); err == nil {
		return dir, nil // another process fetched it while we waited
	}

	pom, err := pomPath()
	if err != nil {
		return "", err
	}
	if _, err := exec.LookPath("mvn"); err != nil {
		return "", fmt.Errorf("kafkatest: Kafka %s is not in %s and mvn is not installed to fetch it (install Maven, or set TRIBUTARY_CACHE to a cache that has it)", v, dir)
	}
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return "", fmt.Errorf("kafkatest: %w", err)
	}
	cmd := exec.CommandContext(ctx, "mvn", "-q", "-B", "-f", pom, "-Dkafka.version="+v,
		"dependency:copy-dependencies", "-DoutputDirectory="+tmp)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("kafkatest: fetching Kafka %s with Maven failed: %w\n%s", v, err, out.Bytes())
	}
	jars, _ := filepath.Glob(filepath.Join(tmp, "kafka_2.13-*.jar"))
	if len(jars) == 0 {
		return "", fmt.Errorf("kafkatest: Maven copied no kafka_2.13 jar for version %s into %s\n%s", v, tmp, out.Bytes())
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("kafkatest: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", fmt.Errorf("kafkatest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, completeMarker), []byte(v+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("kafkatest: %w", err)
	}
	return dir, nil
}

// pomPath finds testing/kafka/pom.xml: above the working directory (tests
// run in their package's directory, the command in the repository), else
// beside this source file.
func pomPath() (string, error) {
	const rel = "testing/kafka/pom.xml"
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if p := filepath.Join(d, rel); fileExists(p) {
				return p, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		if p := filepath.Join(filepath.Dir(file), "..", "..", rel); fileExists(p) {
			return filepath.Clean(p), nil
		}
	}
	return "", errors.New("kafkatest: cannot find " + rel + " above the working directory")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
