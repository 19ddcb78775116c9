package kafkatest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Apache Kafka's own tools read back what Tributary wrote, so a test's
// verdict never rests on Tributary's (or franz-go's) decoding alone. Each
// run is a JVM start-up, 1-3 s here: read a test's records with one
// ConsoleConsume, not one per record.

// RunTool runs an Apache Kafka tool class (e.g.
// "org.apache.kafka.tools.TopicCommand") with args and returns its
// stdout. A non-zero exit is an error carrying the tool's stderr. It
// blocks until the tool exits or ctx ends.
func (c *Cluster) RunTool(ctx context.Context, class string, args ...string) ([]byte, error) {
	return c.RunToolInput(ctx, nil, class, args...)
}

// RunToolInput is RunTool with stdin fed from input.
func (c *Cluster) RunToolInput(ctx context.Context, input []byte, class string, args ...string) ([]byte, error) {
	jargs := jvmOptions("512m")
	if c.toolsLog != "" {
		jargs = append(jargs, "-Dlog4j2.configurationFile="+c.toolsLog)
	}
	jargs = append(jargs, "-cp", filepath.Join(c.LibDir, "*"), class)
	cmd := exec.CommandContext(ctx, "java", append(jargs, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if input != nil {
		cmd.Stdin = bytes.NewReader(input)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("kafkatest: %s %s: %w\n%s", class, strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

// Separators of ConsoleConsume's output: control characters that test
// data must not contain (keys, values and headers are otherwise free).
const (
	fieldSep  = "\x1f"
	lineSep   = "\x1e\n"
	headerSep = "\x1d"
	nullToken = "\x1aNULL\x1a"
)

// Consumed is one record as Apache Kafka's ConsoleConsumer printed it.
type Consumed struct {
	Partition     int32
	Offset        int64
	TimestampType string // "CreateTime" or "LogAppendTime"
	Timestamp     int64
	Key           []byte // nil for a null key
	Value         []byte // nil for a null value
	Headers       []Header
}

// Header is a record header as ConsoleConsumer printed it.
type Header struct {
	Key   string
	Value []byte // nil for a null value
}

// ConsumeOptions bound a ConsoleConsume run.
type ConsumeOptions struct {
	// Max is the number of records to read (--max-messages); required.
	Max int
	// Timeout ends the run when no record arrived for this long
	// (--timeout-ms); 60 s by default.
	Timeout time.Duration
	// ReadCommitted reads with --isolation-level read_committed.
	ReadCommitted bool
	// Properties are extra consumer properties (--consumer-property).
	Properties map[string]string
}

// ConsoleConsume reads topic from the beginning with Apache Kafka's
// org.apache.kafka.tools.consumer.ConsoleConsumer until o.Max records
// arrived or none came for o.Timeout, and returns the records sorted by
// partition and offset. Fewer than o.Max records is not an error: the
// caller compares. It blocks for one JVM run.
func (c *Cluster) ConsoleConsume(ctx context.Context, topic string, o ConsumeOptions) ([]Consumed, error) {
	if o.Max <= 0 {
		return nil, fmt.Errorf("kafkatest: ConsoleConsume of %s needs a positive Max", topic)
	}
	if o.Timeout == 0 {
		o.Timeout = time.Minute
	}
	args := []string{
		"--bootstrap-server", strings.Join(c.Bootstrap(), ","),
		"--topic", topic, "--from-beginning",
		"--max-messages", strconv.Itoa(o.Max),
		"--timeout-ms", strconv.FormatInt(o.Timeout.Milliseconds(), 10),
		"--property", "print.timestamp=true",
		"--property", "print.partition=true",
		"--property", "print.offset=true",
		"--property", "print.headers=true",
		"--property", "print.key=true",
		"--property", "print.value=true",
		"--property", "key.separator=" + fieldSep,
		"--property", "line.separator=" + lineSep,
		"--property", "headers.separator=" + headerSep,
		"--property", "null.literal=" + nullToken,
	}
	if o.ReadCommitted {
		args = append(args, "--isolation-level", "read_committed")
	}
	for k, v := range o.Properties {
		args = append(args, "--consumer-property", k+"="+v)
	}
	class := "org.apache.kafka.tools.consumer.ConsoleConsumer"
	out, err := c.RunTool(ctx, class, args...)
	recs, perr := parseConsumed(out)
	if perr != nil {
		return recs, perr
	}
	if err != nil && len(recs) < o.Max {
		// A run that ends by its timeout exits non-zero on some versions;
		// what it printed is still the answer.
		if ctx.Err() != nil || !strings.Contains(err.Error(), "TimeoutException") {
			return recs, err
		}
	}
	return recs, nil
}

func parseConsumed(out []byte) ([]Consumed, error) {
	var recs []Consumed
	for _, line := range strings.Split(string(out), lineSep) {
		if line == "" {
			continue
		}
		f := strings.Split(line, fieldSep)
		if len(f) != 6 {
			return recs, fmt.Errorf("kafkatest: ConsoleConsumer line with %d fields, want 6: %q", len(f), line)
		}
		var r Consumed
		ts, ok := strings.CutPrefix(f[0], "CreateTime:")
		r.TimestampType = "CreateTime"
		if !ok {
			ts, ok = strings.CutPrefix(f[0], "LogAppendTime:")
			r.TimestampType = "LogAppendTime"
		}
		var err error
		if r.Timestamp, err = strconv.ParseInt(ts, 10, 64); !ok || err != nil {
			return recs, fmt.Errorf("kafkatest: ConsoleConsumer timestamp %q", f[0])
		}
		p, ok1 := strings.CutPrefix(f[1], "Partition:")
		o, ok2 := strings.CutPrefix(f[2], "Offset:")
		pn, err1 := strconv.ParseInt(p, 10, 32)
		on, err2 := strconv.ParseInt(o, 10, 64)
		if !ok1 || !ok2 || err1 != nil || err2 != nil {
			return recs, fmt.Errorf("kafkatest: ConsoleConsumer partition and offset %q %q", f[1], f[2])
		}
		r.Partition, r.Offset = int32(pn), on
		if f[3] != "NO_HEADERS" {
			for _, h := range strings.Split(f[3], headerSep) {
				k, v, ok := strings.Cut(h, ":")
				if !ok {
					return recs, fmt.Errorf("kafkatest: ConsoleConsumer header %q", h)
				}
				r.Headers = append(r.Headers, Header{Key: k, Value: nullable(v)})
			}
		}
		r.Key, r.Value = nullable(f[4]), nullable(f[5])
		recs = append(recs, r)
	}
	sort.Slice(recs, func(i, j int) bool {
		if recs[i].Partition != recs[j].Partition {
			return recs[i].Partition < recs[j].Partition
		}
		return recs[i].Offset < recs[j].Offset
	})
	return recs, nil
}

func nullable(s string) []byte {
	if s == nullToken {
		return nil
	}
	return []byte(s)
}

// Batch is one record batch as kafka.tools.DumpLogSegments printed it.
type Batch struct {
	BaseOffset int64
	Count      int
	Codec      string // "none", "gzip", "snappy", "lz4", "zstd"
	ProducerID int64
	Line       string // the whole line, for what is not parsed
}

var batchField = regexp.MustCompile(`(baseOffset|count|compresscodec|producerId): (\S+)`)

// DumpLogSegments runs kafka.tools.DumpLogSegments on every segment of
// topic-partition in node's log directory and returns their batches, in
// offset order. It blocks for one JVM run.
func (c *Cluster) DumpLogSegments(ctx context.Context, node int, topic string, partition int32) ([]Batch, error) {
	n := c.Node(node)
	if n == nil {
		return nil, fmt.Errorf("kafkatest: no node %d", node)
	}
	segs, _ := filepath.Glob(filepath.Join(n.Dir, "data", fmt.Sprintf("%s-%d", topic, partition), "*.log"))
	if len(segs) == 0 {
		return nil, fmt.Errorf("kafkatest: node %d has no log segment of %s-%d", node, topic, partition)
	}
	sort.Strings(segs) // names are zero-padded base offsets
	out, err := c.RunTool(ctx, "kafka.tools.DumpLogSegments", "--files", strings.Join(segs, ","))
	if err != nil {
		return nil, err
	}
	var batches []Batch
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(line, "baseOffset:") {
			continue
		}
		b := Batch{Line: line}
		for _, m := range batchField.FindAllStringSubmatch(line, -1) {
			switch m[1] {
			case "baseOffset":
				b.BaseOffset, _ = strconv.ParseInt(m[2], 10, 64)
			case "count":
				b.Count, _ = strconv.Atoi(m[2])
			case "compresscodec":
				b.Codec = strings.ToLower(m[2])
			case "producerId":
				b.ProducerID, _ = strconv.ParseInt(m[2], 10, 64)
			}
		}
		batches = append(batches, b)
	}
	return batches, nil
}

// tail returns the last n lines of the file at path, or a note that it
// cannot be read.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)\n", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return fmt.Sprintf("--- last %d lines of %s\n%s\n", len(lines), path, strings.Join(lines, "\n"))
}

// ConsoleProduce feeds input, one record per line, to Apache Kafka's
// console producer (org.apache.kafka.tools.ConsoleProducer; in Kafka 3.x
// kafka.tools.ConsoleProducer) for topic on the PLAINTEXT listener.
// props are its reader properties (--property, e.g. parse.key=true,
// key.separator=|) and producerProps producer settings
// (--producer-property). It blocks until the tool has sent every line and
// exited.
func (c *Cluster) ConsoleProduce(ctx context.Context, topic string, input []byte, props, producerProps map[string]string) error {
	class := "org.apache.kafka.tools.ConsoleProducer"
	if strings.HasPrefix(c.Version, "3.") {
		class = "kafka.tools.ConsoleProducer"
	}
	args := []string{"--bootstrap-server", strings.Join(c.Bootstrap(), ","), "--topic", topic}
	for _, k := range sortedKeys(props) {
		args = append(args, "--property", k+"="+props[k])
	}
	for _, k := range sortedKeys(producerProps) {
		args = append(args, "--producer-property", k+"="+producerProps[k])
	}
	_, err := c.RunToolInput(ctx, input, class, args...)
	return err
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
