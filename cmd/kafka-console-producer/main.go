// Command kafka-console-producer reads lines from standard input and
// produces each as a record, like Kafka's tool of the same name:
//
//	kafka-console-producer --bootstrap-server localhost:9092 --topic events \
//	    --property parse.key=true --property key.separator=: \
//	    --producer-property acks=all --producer.config client.properties
//
// Each record that fails is reported on standard error as soon as the
// producer gives up on it, naming its input line, topic, key and value
// sizes and the error, as Kafka's console producer does. At the end of
// input it flushes, and exits with status 1 if any record failed.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tributary-go/tributary/internal/cli"
	"github.com/tributary-go/tributary/producer"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "kafka-console-producer:", err)
		os.Exit(1)
	}
}

// options are the tool's parsed flags.
type options struct {
	bootstrap  string
	topic      string
	props      cli.KeyValues // --property (reader settings)
	producer   cli.KeyValues // --producer-property
	configFile string
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{props: cli.KeyValues{}, producer: cli.KeyValues{}}
	fs := flag.NewFlagSet("kafka-console-producer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.bootstrap, "bootstrap-server", "", "REQUIRED: the server(s) to connect to, host:port[,host:port]")
	fs.StringVar(&o.topic, "topic", "", "REQUIRED: the topic to produce to")
	fs.Var(o.props, "property", "reader property: parse.key=true|false, key.separator=<sep> (default tab), ignore.error=true|false (repeatable)")
	fs.Var(o.producer, "producer-property", "producer setting by its Java name, k=v (repeatable)")
	fs.StringVar(&o.configFile, "producer.config", "", "producer settings file (Java .properties); --producer-property wins over it")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.topic == "" {
		return nil, errors.New("--topic is required")
	}
	if o.bootstrap == "" && o.producer["bootstrap.servers"] == "" {
		return nil, errors.New("--bootstrap-server is required")
	}
	return o, nil
}

func run(args []string, stdin io.Reader, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	props := map[string]string{}
	if o.configFile != "" {
		if props, err = cli.LoadProperties(o.configFile); err != nil {
			return err
		}
	}
	for k, v := range o.producer {
		props[k] = v
	}
	if o.bootstrap != "" {
		props["bootstrap.servers"] = o.bootstrap
	}
	parseKey, sep := false, "\t"
	for k, v := range o.props {
		switch k {
		case "parse.key":
			if parseKey, err = strconv.ParseBool(v); err != nil {
				return fmt.Errorf("--property parse.key=%q: %w", v, err)
			}
		case "key.separator":
			sep = v
		case "ignore.error":
			// Accepted for compatibility; this tool never stops early.
		default:
			return fmt.Errorf("unknown --property %q (known: parse.key, key.separator, ignore.error)", k)
		}
	}
	if sep == "" {
		return errors.New("--property key.separator must not be empty")
	}

	p, err := producer.NewFromProperties(props)
	if err != nil {
		return err
	}
	ctx := context.Background()

	// Each failure is reported on stderr when its callback fires, as
	// Kafka's console producer does (ErrorLoggingCallback in
	// clients/.../producer/internals/ErrorLoggingCallback.java), so a
	// user typing lines while a broker is down sees every failure as it
	// happens, not only when standard input ends.
	var failed atomic.Int64
	var mu sync.Mutex // serializes writes to stderr from callbacks
	report := func(line int, keyLen, valueLen int) producer.Callback {
		return func(_ producer.RecordMetadata, err error) {
			if err == nil {
				return
			}
			failed.Add(1)
			mu.Lock()
			fmt.Fprintf(stderr, "line %d: error when sending message to topic %s with key: %s, value: %s with error: %v\n",
				line, o.topic, sizeOf(keyLen), sizeOf(valueLen), err)
			mu.Unlock()
		}
	}

	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		rec := &producer.Record{Topic: o.topic, Value: []byte(text)}
		if parseKey {
			k, v, ok := strings.Cut(text, sep)
			if !ok {
				report(line, -1, len(text))(producer.RecordMetadata{}, fmt.Errorf("no key separator %q in line", sep))
				continue
			}
			rec.Key, rec.Value = []byte(k), []byte(v)
		}
		keyLen := -1
		if rec.Key != nil {
			keyLen = len(rec.Key)
		}
		p.SendCallback(ctx, rec, report(line, keyLen, len(rec.Value)))
	}
	readErr := sc.Err()
	if err := p.Close(ctx); err != nil {
		return err
	}
	if readErr != nil {
		return fmt.Errorf("reading input: %w", readErr)
	}
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d of %d records failed (each reported above)", n, line)
	}
	return nil
}

// sizeOf describes a key or value as ErrorLoggingCallback does: "null" or
// its length in bytes (-1 is null).
func sizeOf(n int) string {
	if n < 0 {
		return "null"
	}
	return fmt.Sprintf("%d bytes", n)
}
