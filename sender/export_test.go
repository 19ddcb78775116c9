package sender

import (
	"sync"
	"testing"
	"time"
)

// NoDeadline is the wait the loop reports when it arms no timer.
const NoDeadline = noDeadline

// WaitLog collects the waits the send loop computed.
type WaitLog struct {
	mu    sync.Mutex
	waits []time.Duration
}

// RecordWaits installs a hook that logs every wait the send loop is about to
// sleep for. Call it before the sender starts; the hook is removed when the
// test ends (after the test's later cleanups, which stop the sender).
func RecordWaits(t testing.TB) *WaitLog {
	l := &WaitLog{}
	testHookWait = func(d time.Duration) {
		l.mu.Lock()
		l.waits = append(l.waits, d)
		l.mu.Unlock()
	}
	t.Cleanup(func() { testHookWait = nil })
	return l
}

// Last returns the latest wait and how many were logged.
func (l *WaitLog) Last() (time.Duration, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.waits) == 0 {
		return 0, 0
	}
	return l.waits[len(l.waits)-1], len(l.waits)
}
