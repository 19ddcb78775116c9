package leakcheck

import (
	"testing"
	"time"
)

// fakeT records Errorf instead of failing, to test Check itself.
type fakeT struct {
	testing.TB
	cleanups []func()
	failed   bool
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Cleanup(fn func())     { f.cleanups = append(f.cleanups, fn) }
func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func leakyWorker(stop chan struct{}) { <-stop }

func TestCheckPassesWhenGoroutinesEnd(t *testing.T) {
	ft := &fakeT{TB: t}
	Check(ft, "leakcheck.leakyWorker")
	stop := make(chan struct{})
	go leakyWorker(stop)
	close(stop)
	ft.runCleanups()
	if ft.failed {
		t.Fatal("Check failed although the goroutine ended")
	}
}

func TestCheckIgnoresEarlierGoroutines(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	go leakyWorker(stop)
	time.Sleep(10 * time.Millisecond)
	ft := &fakeT{TB: t}
	Check(ft, "leakcheck.leakyWorker")
	ft.runCleanups()
	if ft.failed {
		t.Fatal("Check blamed a goroutine that was running before it was called")
	}
}

func TestCheckFailsOnLeak(t *testing.T) {
	defer func(old time.Duration) { settle = old }(settle)
	settle = 50 * time.Millisecond
	ft := &fakeT{TB: t}
	Check(ft, "leakcheck.leakyWorker")
	stop := make(chan struct{})
	defer close(stop)
	go leakyWorker(stop)
	ft.runCleanups()
	if !ft.failed {
		t.Fatal("Check did not report a goroutine that outlived the test")
	}
}
