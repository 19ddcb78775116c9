package leakcheck

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// A goroutine is judged by its stack: it leaked if any frame, or the
// "created by" line, mentions one of the caller's match strings. A goroutine
// that has been created but not yet scheduled cannot be judged that way:
// until it first runs, the runtime shows only its entry function, which for
// `go f(x)` is a compiler-made wrapper (pkg.Caller.gowrap1) and for a
// closure is pkg.Caller.func1, neither naming f. With GOMAXPROCS=1 a
// goroutine started just before the test ends is always in that state, so
// the settle loop waits for such goroutines to start before it decides, and
// reports any that never started within the settle period.

// settle bounds how long Check waits for goroutines to finish; it is a
// guard against hanging, not an assertion about speed.
var settle = 20 * time.Second

// Check registers a cleanup, run after every cleanup registered later (so
// after the test's own Close calls), that fails t if a goroutine whose
// stack mentions any of match is still alive after a settle period.
// Goroutines already running when Check is called are ignored, so tests
// may share long-lived helpers; goroutines started later that have not yet
// run are waited for, since their stacks do not show yet what they will
// run. Tests using it must not run in parallel. The cleanup blocks until
// no such goroutine is left, or for at most the settle period (20 s).
func Check(t testing.TB, match ...string) {
	t.Helper()
	before := map[string]bool{}
	for _, g := range stacks() {
		before[header(g)] = true
	}
	t.Cleanup(func() {
		deadline := time.Now().Add(settle)
		for {
			var left, pending []string
			for _, g := range stacks() {
				switch {
				case before[header(g)]:
				case unstarted(g):
					pending = append(pending, g)
				case mentions(g, match):
					left = append(left, g)
				}
			}
			if len(left) == 0 && len(pending) == 0 {
				return
			}
			if time.Now().After(deadline) {
				if len(left) > 0 {
					t.Errorf("%d goroutines leaked:\n\n%s", len(left), strings.Join(left, "\n\n"))
				}
				if len(pending) > 0 {
					t.Errorf("%d goroutines never started within %v, so they could not be checked:\n\n%s",
						len(pending), settle, strings.Join(pending, "\n\n"))
				}
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

// unstarted reports whether a goroutine's stack is that of one created but
// never yet run: runnable, with a single frame whose program counter is
// still the function's entry. The runtime prints a frame's offset from its
// function's entry (" +0x1f") only when it is past the entry
// (runtime/traceback.go), so that frame's location line has none; it is
// followed directly by runtime.goexit or the "created by" line.
func unstarted(stack string) bool {
	lines := strings.SplitN(stack, "\n", 5)
	if len(lines) < 3 || !strings.Contains(lines[0], " [runnable") {
		return false
	}
	if !strings.HasPrefix(lines[2], "\t") || strings.Contains(lines[2], " +0x") {
		return false
	}
	return len(lines) == 3 || strings.HasPrefix(lines[3], "runtime.goexit") || strings.HasPrefix(lines[3], "created by ")
}
