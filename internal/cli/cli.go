package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// KeyValues is a repeatable flag of key=value pairs (Java's
// --producer-property and --property).
type KeyValues map[string]string

// String implements flag.Value.
func (kv KeyValues) String() string {
	var b strings.Builder
	for k, v := range kv {
		fmt.Fprintf(&b, "%s=%s ", k, v)
	}
	return strings.TrimSpace(b.String())
}

// Set implements flag.Value; it rejects an entry without '='.
func (kv KeyValues) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("expected key=value, got %q", s)
	}
	kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
	return nil
}

// LoadProperties reads a Java .properties file: key=value or key: value
// lines, '#' and '!' comments, surrounding white space trimmed. Line
// continuations and escapes beyond `\\` are not supported and are reported.
func LoadProperties(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	props, err := ParseProperties(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return props, nil
}

// ParseProperties parses .properties text (see LoadProperties).
func ParseProperties(r io.Reader) (map[string]string, error) {
	props := map[string]string{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' || s[0] == '!' {
			continue
		}
		if strings.HasSuffix(s, `\`) && !strings.HasSuffix(s, `\\`) {
			return nil, fmt.Errorf("line %d: line continuations are not supported", line)
		}
		i := strings.IndexAny(s, "=:")
		if i < 0 {
			return nil, fmt.Errorf("line %d: expected key=value, got %q", line, s)
		}
		props[strings.TrimSpace(s[:i])] = strings.ReplaceAll(strings.TrimSpace(s[i+1:]), `\\`, `\`)
	}
	return props, sc.Err()
}
