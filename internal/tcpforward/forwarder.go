package tcpforward

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Forwarder forwards TCP connections from Addr to a retargetable address.
type Forwarder struct {
	ln       net.Listener
	target   atomic.Pointer[string]
	accepted atomic.Int64

	mu     sync.Mutex
	conns  map[net.Conn]struct{} // guarded by mu: both ends of every live pair
	closed bool                  // guarded by mu
	wg     sync.WaitGroup        // the accept and copy goroutines
}

// New listens on a free loopback port and forwards to target. It does not
// block.
func New(target string) (*Forwarder, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &Forwarder{ln: ln, conns: map[net.Conn]struct{}{}}
	f.target.Store(&target)
	f.wg.Add(1)
	go f.accept()
	return f, nil
}

// Addr returns the listening address (host:port).
func (f *Forwarder) Addr() string { return f.ln.Addr().String() }

// Target returns the current target.
func (f *Forwarder) Target() string { return *f.target.Load() }

// Retarget sends new connections to target; live ones keep theirs.
func (f *Forwarder) Retarget(target string) { f.target.Store(&target) }

// Accepted returns how many connections were accepted so far.
func (f *Forwarder) Accepted() int64 { return f.accepted.Load() }

// DropAll closes every live forwarded connection.
func (f *Forwarder) DropAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		c.Close()
	}
}

// Close stops accepting, closes every connection and waits for the
// goroutines. It is idempotent.
func (f *Forwarder) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	err := f.ln.Close()
	f.DropAll()
	f.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// accept is the accept goroutine, stopped by Close (the listener closes).
func (f *Forwarder) accept() {
	defer f.wg.Done()
	for {
		in, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.accepted.Add(1)
		out, err := net.DialTimeout("tcp", f.Target(), 5*time.Second)
		if err != nil {
			in.Close() // the target is down: the client sees a closed connection
			continue
		}
		if !f.track(in, out) {
			in.Close()
			out.Close()
			return
		}
		f.wg.Add(2)
		go f.pipe(out, in)
		go f.pipe(in, out)
	}
}

func (f *Forwarder) track(cs ...net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	for _, c := range cs {
		f.conns[c] = struct{}{}
	}
	return true
}

// pipe copies src to dst until either fails, then closes both.
func (f *Forwarder) pipe(dst, src net.Conn) {
	defer f.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	f.mu.Lock()
	delete(f.conns, dst)
	delete(f.conns, src)
	f.mu.Unlock()
}
