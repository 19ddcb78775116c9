package kafkatest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options configure Start. The zero value is a 3-node cluster of
// DefaultVersion (or $KAFKA_VERSION) in a new temporary directory.
type Options struct {
	// Version is the Apache Kafka release, e.g. "4.1.1" or "3.9.1".
	Version string

	// Nodes is the number of combined broker+controller nodes; 3 by
	// default. Replication factors are min(3, Nodes).
	Nodes int

	// Dir holds the nodes' data, configuration and logs; a new
	// temporary directory by default (removed by Stop).
	Dir string

	// Advertise, when set, gives the host:port node advertises for client
	// listener (ListenerPlaintext or ListenerSASL), which listens on
	// 127.0.0.1:port. It lets a proxy stand in front of each broker's
	// client listeners; replication and the quorum stay direct. It is
	// called once per node and listener, before any node starts.
	Advertise func(node int, listener string, port int) string

	// BrokerConfig adds or overrides server properties of every node.
	BrokerConfig map[string]string

	// JVMOptions are extra java options for every node.
	JVMOptions []string

	// ClassPath are extra class path entries (directories or jars) for
	// every node, after Kafka's own jars: plug-ins such as a
	// metric.reporters class a test compiled.
	ClassPath []string

	// Detach starts the JVMs in a session of their own that outlives this
	// process (make kafka-up). Otherwise they get SIGKILL when this
	// process dies (Linux Pdeathsig), so a crashed or interrupted test
	// never leaves a broker behind.
	Detach bool

	// Logf, when set, receives progress messages.
	Logf func(format string, args ...any)
}

// ReadyTimeout bounds how long Start and Restart wait for nodes to serve.
var ReadyTimeout = 5 * time.Minute

// Node is one combined broker+controller of a Cluster. Its fields are fixed
// at Start, except Pid (guarded by the Cluster's mu).
type Node struct {
	ID                  int
	Dir                 string // node directory: data/, server.properties, logs
	ControllerPort      int
	InternalPort        int
	PlaintextPort       int // client PLAINTEXT listener
	SASLPort            int // client SASL_SSL listener
	AdvertisedPlaintext string
	AdvertisedSASL      string
	LogFile             string // Kafka's own log (log4j2)
	OutFile             string // the JVM's stdout and stderr
	PropsFile           string
	Pid                 int

	cmd    *exec.Cmd     // nil when not started by this process
	exited chan struct{} // closed when cmd exits
}

// Cluster is a running Apache Kafka KRaft cluster on loopback. Its methods
// are safe for concurrent use; those that start or stop nodes block until
// done.
type Cluster struct {
	Version   string
	Dir       string
	ClusterID string
	LibDir    string // the Kafka jars
	Nodes     []*Node

	opts     Options
	pki      *pki
	ownDir   bool // Stop removes Dir
	toolsLog string

	mu sync.Mutex // guards Node.Pid, Node.cmd, Node.exited
}

// Start fetches Kafka if needed, formats and starts a cluster, and returns
// once every node is registered and a replicated topic can be written. On
// error everything started is stopped again. It blocks for the cluster's
// start-up, about 15-30 s on two cores.
func Start(ctx context.Context, o Options) (_ *Cluster, err error) {
	if o.Version == "" {
		o.Version = os.Getenv("KAFKA_VERSION")
	}
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if _, err := exec.LookPath("java"); err != nil {
		return nil, errors.New("kafkatest: java is not installed (Java 17 or later runs the brokers)")
	}
	began := time.Now()
	libs, err := Fetch(ctx, o.Version)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Version: o.Version, Dir: o.Dir, LibDir: libs, opts: o}
	if c.Dir == "" {
		if c.Dir, err = os.MkdirTemp("", "kafkatest-"); err != nil {
			return nil, fmt.Errorf("kafkatest: %w", err)
		}
		c.ownDir = true
	} else if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("kafkatest: %w", err)
	}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	c.toolsLog = filepath.Join(c.Dir, "log4j2-tools.xml")
	if err := os.WriteFile(c.toolsLog, []byte(log4j2Tools), 0o644); err != nil {
		return nil, fmt.Errorf("kafkatest: %w", err)
	}
	ports, err := freePorts(4 * o.Nodes)
	if err != nil {
		return nil, err
	}
	for i := range o.Nodes {
		n := &Node{
			ID:             i + 1,
			Dir:            filepath.Join(c.Dir, "node"+strconv.Itoa(i+1)),
			ControllerPort: ports[4*i],
			InternalPort:   ports[4*i+1],
			PlaintextPort:  ports[4*i+2],
			SASLPort:       ports[4*i+3],
		}
		n.AdvertisedPlaintext = "127.0.0.1:" + strconv.Itoa(n.PlaintextPort)
		n.AdvertisedSASL = "127.0.0.1:" + strconv.Itoa(n.SASLPort)
		if o.Advertise != nil {
			n.AdvertisedPlaintext = o.Advertise(n.ID, ListenerPlaintext, n.PlaintextPort)
			n.AdvertisedSASL = o.Advertise(n.ID, ListenerSASL, n.SASLPort)
		}
		n.LogFile = filepath.Join(n.Dir, "server.log")
		n.OutFile = filepath.Join(n.Dir, "stdout.log")
		n.PropsFile = filepath.Join(n.Dir, "server.properties")
		c.Nodes = append(c.Nodes, n)
	}
	// The broker certificate is also valid for the advertised hosts, so a
	// proxy on another address (Options.Advertise) passes verification.
	var hosts []string
	for _, n := range c.Nodes {
		for _, a := range []string{n.AdvertisedPlaintext, n.AdvertisedSASL} {
			if h, _, err := net.SplitHostPort(a); err == nil {
				hosts = append(hosts, h)
			}
		}
	}
	if c.pki, err = newPKI(c.Dir, hosts...); err != nil {
		return nil, err
	}

	if c.ClusterID, err = clusterID(); err != nil {
		return nil, err
	}
	for _, n := range c.Nodes {
		if err := os.MkdirAll(n.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("kafkatest: %w", err)
		}
		if err := writeProperties(n.PropsFile, c.nodeProperties(n)); err != nil {
			return nil, fmt.Errorf("kafkatest: %w", err)
		}
		logCfg := fmt.Sprintf(log4j2Server, n.LogFile)
		if err := os.WriteFile(filepath.Join(n.Dir, "log4j2.xml"), []byte(logCfg), 0o644); err != nil {
			return nil, fmt.Errorf("kafkatest: %w", err)
		}
	}
	// Formatting is a JVM each; run them side by side.
	errs := make(chan error, len(c.Nodes))
	for _, n := range c.Nodes {
		go func() {
			args := append([]string{"format", "-t", c.ClusterID, "-c", n.PropsFile}, scramArgs()...)
			_, err := c.RunTool(ctx, "kafka.tools.StorageTool", args...)
			errs <- err
		}()
	}
	for range c.Nodes {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return nil, err
	}
	o.Logf("kafkatest: Kafka %s formatted in %s (%s)", c.Version, time.Since(began).Round(time.Millisecond), c.Dir)
	for _, n := range c.Nodes {
		if err := c.start(n); err != nil {
			return nil, err
		}
	}
	if err := c.waitReady(ctx, c.ids(), true); err != nil {
		return nil, err
	}
	o.Logf("kafkatest: Kafka %s ready in %s: %s", c.Version, time.Since(began).Round(time.Millisecond), strings.Join(c.Bootstrap(), ","))
	return c, nil
}

// clusterID returns a random cluster id as StorageTool random-uuid makes
// it: 16 random bytes, base64url without padding, never starting with '-'
// (Uuid.randomUuid in Kafka's clients).
func clusterID() (string, error) {
	for {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("kafkatest: %w", err)
		}
		id := base64.RawURLEncoding.EncodeToString(b[:])
		if id[0] != '-' {
			return id, nil
		}
	}
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("kafkatest: no free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// jvmOptions are tuned for start-up on a small machine: serial GC and the
// C1 compiler only, which start faster and use less CPU than the defaults.
func jvmOptions(heap string) []string {
	return []string{
		"-Xmx" + heap, "-Xss512k",
		"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:+ExitOnOutOfMemoryError",
		"-Djava.awt.headless=true",
	}
}

// start launches node n's JVM. The caller holds no lock.
func (c *Cluster) start(n *Node) error {
	out, err := os.OpenFile(n.OutFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("kafkatest: %w", err)
	}
	defer out.Close()
	args := jvmOptions("768m")
	args = append(args, c.opts.JVMOptions...)
	args = append(args,
		"-Dlog4j2.configurationFile="+filepath.Join(n.Dir, "log4j2.xml"),
		"-Dkafka.logs.dir="+n.Dir,
		"-cp", strings.Join(append([]string{filepath.Join(c.LibDir, "*")}, c.opts.ClassPath...), string(os.PathListSeparator)),
		"kafka.Kafka", n.PropsFile)
	cmd := exec.Command("java", args...)
	cmd.Dir = n.Dir
	cmd.Stdout, cmd.Stderr = out, out
	if c.opts.Detach {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("kafkatest: starting node %d: %w", n.ID, err)
	}
	exited := make(chan struct{})
	c.mu.Lock()
	n.Pid, n.cmd, n.exited = cmd.Process.Pid, cmd, exited
	c.mu.Unlock()
	if c.opts.Detach {
		cmd.Process.Release()
		close(exited) // nothing to wait for; exit is watched through /proc
		return nil
	}
	go func() {
		cmd.Wait()
		close(exited)
	}()
	return nil
}

// Node returns the node with the given id, or nil.
func (c *Cluster) Node(id int) *Node {
	for _, n := range c.Nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// Kill sends SIGKILL to node id and waits until its JVM is gone: a crash,
// no controlled shutdown. It blocks.
func (c *Cluster) Kill(id int) error {
	return c.signal(id, syscall.SIGKILL, 30*time.Second)
}

// Terminate sends SIGTERM to node id, which makes Kafka shut down in a
// controlled way (leadership moves away first), and waits for the JVM to
// exit, up to two minutes. It blocks.
func (c *Cluster) Terminate(id int) error {
	return c.signal(id, syscall.SIGTERM, 2*time.Minute)
}

// Restart starts node id again with its data and ports unchanged,
// terminating it first if it runs, and waits until it is registered with
// the controller again. It blocks.
func (c *Cluster) Restart(ctx context.Context, id int) error {
	n := c.Node(id)
	if n == nil {
		return fmt.Errorf("kafkatest: no node %d", id)
	}
	if c.running(n) {
		if err := c.Terminate(id); err != nil {
			return err
		}
	}
	if err := c.start(n); err != nil {
		return err
	}
	return c.waitReady(ctx, []int{id}, false)
}

func (c *Cluster) ids() []int {
	var ids []int
	for _, n := range c.Nodes {
		ids = append(ids, n.ID)
	}
	return ids
}

// Running reports whether node id's JVM is alive.
func (c *Cluster) Running(id int) bool {
	n := c.Node(id)
	return n != nil && c.running(n)
}

func (c *Cluster) running(n *Node) bool {
	c.mu.Lock()
	pid, exited, cmd := n.Pid, n.exited, n.cmd
	c.mu.Unlock()
	if pid == 0 {
		return false
	}
	if cmd != nil && !c.opts.Detach {
		select {
		case <-exited:
			return false
		default:
			return true
		}
	}
	return pidIsNode(pid, n)
}

// pidIsNode reports whether pid is alive (not a zombie) and runs n's
// properties file, so a recycled pid is never signalled.
func pidIsNode(pid int, n *Node) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), n.PropsFile) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

func (c *Cluster) signal(id int, sig syscall.Signal, wait time.Duration) error {
	n := c.Node(id)
	if n == nil {
		return fmt.Errorf("kafkatest: no node %d", id)
	}
	if !c.running(n) {
		return nil
	}
	c.mu.Lock()
	pid := n.Pid
	c.mu.Unlock()
	if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kafkatest: signalling node %d (pid %d): %w", id, pid, err)
	}
	deadline := time.Now().Add(wait)
	for c.running(n) {
		if time.Now().After(deadline) {
			if sig == syscall.SIGKILL {
				return fmt.Errorf("kafkatest: node %d (pid %d) still alive %s after SIGKILL", id, pid, wait)
			}
			syscall.Kill(pid, syscall.SIGKILL)
			return fmt.Errorf("kafkatest: node %d (pid %d) did not exit within %s of %s; killed", id, pid, wait, sig)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Stop kills every node (their data is disposable, so there is no
// controlled shutdown) and removes the cluster's directory if Start made
// it. It blocks until the JVMs are gone and is safe to call twice.
func (c *Cluster) Stop() error {
	var errs []error
	for _, n := range c.Nodes {
		if err := c.Kill(n.ID); err != nil {
			errs = append(errs, err)
		}
	}
	if c.ownDir && len(errs) == 0 {
		if err := os.RemoveAll(c.Dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Bootstrap returns the advertised PLAINTEXT client addresses of every
// node, the bootstrap.servers of a client that needs no security.
// Connections there act as User:ANONYMOUS, a super user.
func (c *Cluster) Bootstrap() []string {
	var s []string
	for _, n := range c.Nodes {
		s = append(s, n.AdvertisedPlaintext)
	}
	return s
}

// SASLBootstrap returns the advertised SASL_SSL client addresses of every
// node (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512; trust CAFile).
func (c *Cluster) SASLBootstrap() []string {
	var s []string
	for _, n := range c.Nodes {
		s = append(s, n.AdvertisedSASL)
	}
	return s
}

// CAFile returns the path of the PEM certificate of the CA that signed
// the brokers' certificate.
func (c *Cluster) CAFile() string { return c.pki.caFile }

// CAPEM returns the CA certificate, PEM encoded.
func (c *Cluster) CAPEM() []byte { return append([]byte(nil), c.pki.caPEM...) }

// LogFiles returns the path of every node's Kafka log.
func (c *Cluster) LogFiles() []string {
	var s []string
	for _, n := range c.Nodes {
		s = append(s, n.LogFile)
	}
	return s
}
