package main

// Output goes through a console. On a terminal it keeps one live progress
// line at the bottom: Live redraws it in place with a carriage return, and
// any other output first erases it, is written as plain lines, and then
// the live line is drawn again below. Off a terminal (a file, a pipe, a
// test's buffer) Live does nothing, so logs get only Java's plain lines.

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// console serializes writes from the callbacks' goroutines and the
// progress goroutine. Safe for concurrent use.
type console struct {
	mu   sync.Mutex
	w    io.Writer
	tty  bool
	live string // the progress line on screen; guarded by mu
}

func newConsole(w io.Writer) *console { return &console{w: w, tty: isTerminal(w)} }

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Write writes b as plain output, keeping the live line below it.
func (c *console) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	live := c.live
	c.eraseLocked()
	n, err := c.w.Write(b)
	if live != "" {
		c.drawLocked(live)
	}
	return n, err
}

// Live replaces the live line with s; it does nothing off a terminal.
func (c *console) Live(s string) {
	if !c.tty {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drawLocked(s)
}

// Clear erases the live line.
func (c *console) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.eraseLocked()
}

func (c *console) drawLocked(s string) {
	pad := max(len(c.live)-len(s), 0)
	io.WriteString(c.w, "\r"+s+strings.Repeat(" ", pad))
	c.live = s
}

func (c *console) eraseLocked() {
	if c.live == "" {
		return
	}
	io.WriteString(c.w, "\r"+strings.Repeat(" ", len(c.live))+"\r")
	c.live = ""
}

// showProgress redraws the live line from s every 200 ms until the
// returned stop function is called; stop erases the line and waits for
// the goroutine. Off a terminal it starts nothing.
func showProgress(c *console, s *stats, total int64) (stop func()) {
	if !c.tty {
		return func() {}
	}
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				c.Live(s.progress(total))
			}
		}
	}()
	return func() {
		close(done)
		<-exited
		c.Clear()
	}
}

// progress returns the live line: records acknowledged so far and the
// average rate since the start.
func (s *stats) progress(total int64) string {
	s.mu.Lock()
	count, bytes := s.count, s.bytes
	s.mu.Unlock()
	secs := max(time.Since(s.start).Seconds(), 1e-3)
	pct := 100 * float64(count) / float64(max(total, 1))
	return fmt.Sprintf("%d/%d records acknowledged (%.1f%%), %.1f records/sec (%.2f MB/sec)",
		count, total, pct, float64(count)/secs, float64(bytes)/secs/(1024*1024))
}
