package leakcheck

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// settle bounds how long Check waits for goroutines to finish; it is a
// guard against hanging, not an assertion about speed.
var settle = 20 * time.Second

// Check registers a cleanup, run after every cleanup registered later (so
// after the test's own Close calls), that fails t if a goroutine whose
// stack mentions any of match is still alive after a settle period.
// Goroutines already running when Check is called are ignored, so tests
// may share long-lived helpers. Tests using it must not run in parallel.
func Check(t testing.TB, match ...string) {
	t.Helper()
	before := map[string]bool{}
	for _, g := range stacks() {
		before[header(g)] = true
	}
	t.Cleanup(func() {
		deadline := time.Now().Add(settle)
		for {
			var left []string
			for _, g := range stacks() {
				if !before[header(g)] && mentions(g, match) {
					left = append(left, g)
				}
			}
			if len(left) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%d goroutines leaked:\n\n%s", len(left), strings.Join(left, "\n\n"))
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

func mentions(stack string, match []string) bool {
	for _, m := range match {
		if strings.Contains(stack, m) {
			return true
		}
	}
	return false
}

func stacks() []string {
	buf := make([]byte, 8<<20)
	return strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n")
}

// header is a goroutine's first line, "goroutine N [state]:", cut at the
// state so that a goroutine keeps its identity while it changes state.
func header(stack string) string {
	line, _, _ := strings.Cut(stack, "\n")
	id, _, _ := strings.Cut(line, " [")
	return id
}
