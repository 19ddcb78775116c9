package chaos

import (
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Kind is one way of breaking the cluster.
type Kind int

const (
	MoveLeaders Kind = iota
	NotLeader
	TimedOutAfterAppend
	NotEnoughReplicasAfterAppend
	CloseConn
	StallBroker
	BounceBroker
	NumKinds
)

// kindNames name the kinds in logs.
var kindNames = [...]string{"move-leaders", "not-leader", "timed-out-after-append", "not-enough-replicas-after-append", "close-connection", "stall-broker", "bounce-broker"}

// Cluster is a kfake cluster whose connections we can cut.
type Cluster struct {
	*kfake.Cluster
	mu    sync.Mutex
	conns map[string][]net.Conn // listener port → accepted connections
	ports map[int32]int         // node → port
}

func New(topic string, partitions int32) (*Cluster, error) {
	cc := &Cluster{conns: map[string][]net.Conn{}, ports: map[int32]int{}}
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(partitions, topic),
		kfake.ListenFn(func(network, addr string) (net.Listener, error) {
			ln, err := net.Listen(network, addr)
			if err != nil {
				return nil, err
			}
			return &trackingListener{Listener: ln, cc: cc}, nil
		}))
	if err != nil {
		return nil, err
	}
	cc.Cluster = c
	for i, addr := range c.ListenAddrs() {
		_, p, _ := net.SplitHostPort(addr)
		port, _ := strconv.Atoi(p)
		cc.ports[int32(i)] = port
	}
	return cc, nil
}

type trackingListener struct {
	net.Listener
	cc *Cluster
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		_, port, _ := net.SplitHostPort(l.Addr().String())
		l.cc.mu.Lock()
		l.cc.conns[port] = append(l.cc.conns[port], c)
		l.cc.mu.Unlock()
	}
	return c, err
}

// Bounce takes a broker away (listener and every connection) and brings it
// back on the same port after down.
func (cc *Cluster) Bounce(node int32, down time.Duration) error {
	port := cc.ports[node]
	if err := cc.RemoveNode(node); err != nil {
		return err
	}
	cc.mu.Lock()
	key := strconv.Itoa(port)
	for _, c := range cc.conns[key] {
		c.Close()
	}
	delete(cc.conns, key)
	cc.mu.Unlock()
	time.Sleep(down)
	_, _, err := cc.AddNode(node, port)
	return err
}

// Inject applies one fault of kind k to topic (of partitions partitions).
// It may block for a bounce's down time.
func (cc *Cluster) Inject(k Kind, topic string, partitions int32, rng *rand.Rand) error {
	switch k {
	case MoveLeaders:
		for range 3 {
			p := rng.Int32N(partitions)
			if err := cc.MoveTopicPartition(topic, p, (cc.LeaderFor(topic, p)+1+rng.Int32N(2))%3); err != nil {
				return err
			}
		}
	case NotLeader:
		cc.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotLeaderForPartition, Count: 3})
	case TimedOutAfterAppend:
		cc.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.RequestTimedOut, Count: 3})
	case NotEnoughReplicasAfterAppend:
		cc.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotEnoughReplicasAfterAppend, Count: 3})
	case CloseConn:
		cc.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
			return nil, errors.New("chaos: connection closed instead of an answer"), true
		})
	case StallBroker:
		// The broker swallows a request and never answers: the client must
		// notice at request.timeout.ms, drop the connection and retry.
		// (kfake's SleepControl queues every later request of the broker
		// behind the sleeper, which with a client that gives up on the
		// connection stalls the broker for good; swallowing is the clean
		// form of the same fault.)
		cc.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
			return nil, nil, true
		})
	case BounceBroker:
		return cc.Bounce(rng.Int32N(3), 300*time.Millisecond)
	}
	return nil
}

// String names the kind.
func (k Kind) String() string { return kindNames[k] }

// All lists every kind.
var All = []Kind{MoveLeaders, NotLeader, TimedOutAfterAppend, NotEnoughReplicasAfterAppend, CloseConn, StallBroker, BounceBroker}

// Run injects a fault of a random kind from kinds every interval until stop
// is closed, counting injections per kind; it returns when stopped. Errors
// from a fault are passed to logf and not counted.
func (cc *Cluster) Run(stop <-chan struct{}, kinds []Kind, topic string, partitions int32, interval time.Duration, logf func(string, ...any)) [NumKinds]int {
	var counts [NumKinds]int
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		k := kinds[rng.IntN(len(kinds))]
		if err := cc.Inject(k, topic, partitions, rng); err != nil {
			logf("fault %s: %v", k, err)
		} else {
			counts[k]++
		}
		select {
		case <-stop:
			return counts
		case <-tick.C:
		}
	}
}
