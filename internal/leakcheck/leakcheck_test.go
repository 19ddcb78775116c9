package leakcheck

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// fakeT records Errorf instead of failing, to test Check itself.
type fakeT struct {
	testing.TB
	cleanups []func()
	errors   []string
}

func (f *fakeT) Helper()           {}
func (f *fakeT) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeT) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeT) failed() bool { return len(f.errors) > 0 }
func (f *fakeT) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func leakyWorker(stop chan struct{}) { <-stop }

// waitFor polls cond every few milliseconds for up to 20 s; the bound is a
// guard against hanging, never an assertion about speed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s after 20 s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// goroutineIDs returns the headers of every goroutine now alive.
func goroutineIDs() map[string]bool {
	ids := map[string]bool{}
	for _, g := range stacks() {
		ids[header(g)] = true
	}
	return ids
}

// runningWorker reports whether a goroutine not in before has started and
// is inside leakyWorker. Workers of earlier tests may still be exiting, so
// counting workers would not do.
func runningWorker(before map[string]bool) bool {
	for _, g := range stacks() {
		if !before[header(g)] && strings.Contains(g, "leakcheck.leakyWorker(") && !unstarted(g) {
			return true
		}
	}
	return false
}

func TestCheckPassesWhenGoroutinesEnd(t *testing.T) {
	ft := &fakeT{TB: t}
	Check(ft, "leakcheck.leakyWorker")
	stop := make(chan struct{})
	go leakyWorker(stop)
	close(stop)
	ft.runCleanups()
	if ft.failed() {
		t.Fatalf("Check failed although the goroutine ended: %s", ft.errors)
	}
}

func TestCheckIgnoresEarlierGoroutines(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	was := goroutineIDs()
	go leakyWorker(stop)
	// Check must ignore it even once it visibly runs leakyWorker.
	waitFor(t, "the worker to start", func() bool { return runningWorker(was) })
	ft := &fakeT{TB: t}
	Check(ft, "leakcheck.leakyWorker")
	ft.runCleanups()
	if ft.failed() {
		t.Fatalf("Check blamed a goroutine that was running before it was called: %s", ft.errors)
	}
}

// TestCheckFailsOnLeak leaks goroutines started just before the test ends,
// in both forms whose not-yet-run stacks do not name the function they will
// run (go f(x) and a closure). With GOMAXPROCS=1 they have not run when the
// cleanup starts; Check must still see them.
func TestCheckFailsOnLeak(t *testing.T) {
	defer func(old time.Duration) { settle = old }(settle)
	settle = time.Second
	for name, spawn := range map[string]func(chan struct{}){
		"call":    func(stop chan struct{}) { go leakyWorker(stop) },
		"closure": func(stop chan struct{}) { go func() { leakyWorker(stop) }() },
	} {
		t.Run(name, func(t *testing.T) {
			ft := &fakeT{TB: t}
			Check(ft, "leakcheck.leakyWorker")
			stop := make(chan struct{})
			defer close(stop)
			spawn(stop)
			ft.runCleanups()
			if !ft.failed() {
				t.Fatal("Check did not report a goroutine that outlived the test")
			}
		})
	}
}

func TestUnstarted(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stack string
		want  bool
	}{
		{"go call, not run", "goroutine 7 [runnable]:\nmain.main.gowrap1()\n\t/tmp/main.go:8\nruntime.goexit({})\n\t/usr/local/go/src/runtime/asm_amd64.s:1771 +0x1\ncreated by main.main in goroutine 1\n\t/tmp/main.go:8 +0x9a", true},
		{"closure, not run", "goroutine 8 [runnable]:\nmain.main.func1()\n\t/tmp/main.go:9\ncreated by main.main in goroutine 1\n\t/tmp/main.go:9 +0x105", true},
		{"blocked", "goroutine 9 [chan receive]:\nmain.leakyWorker(0xc000010000)\n\t/tmp/main.go:3 +0x1d\nmain.main.gowrap1()\n\t/tmp/main.go:8 +0x25\nruntime.goexit({})\n\t/usr/local/go/src/runtime/asm_amd64.s:1771 +0x1\ncreated by main.main in goroutine 1\n\t/tmp/main.go:8 +0x9a", false},
		{"runnable, has run", "goroutine 10 [runnable]:\nmain.spin()\n\t/tmp/main.go:4 +0x11\ncreated by main.main in goroutine 1\n\t/tmp/main.go:10 +0x111", false},
		{"runnable at a callee's entry", "goroutine 11 [runnable]:\nmain.g()\n\t/tmp/main.go:5\nmain.spin()\n\t/tmp/main.go:4 +0x11\ncreated by main.main in goroutine 1\n\t/tmp/main.go:10 +0x111", false},
		{"truncated", "goroutine 12 [runnable]:", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := unstarted(tc.stack); got != tc.want {
				t.Errorf("unstarted = %v, want %v for\n%s", got, tc.want, tc.stack)
			}
		})
	}
}
