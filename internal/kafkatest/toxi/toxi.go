package toxi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"

	"github.com/tributary-go/tributary/internal/kafkatest"
)

// Cluster is a kafkatest cluster whose client listeners sit behind
// toxiproxy proxies. Its methods are safe for concurrent use.
type Cluster struct {
	*kafkatest.Cluster

	server *toxiproxy.ApiServer

	mu      sync.Mutex
	proxies map[int]*toxiproxy.Proxy // node id -> proxy of its PLAINTEXT listener; guarded by mu
	extra   []*toxiproxy.Proxy       // proxies of Silent; guarded by mu
	seq     int                      // names Silent proxies; guarded by mu
}

// Start starts a cluster as [kafkatest.Start] does, with a proxy in front
// of every node's PLAINTEXT client listener (o.Advertise must be unset).
// It silences zerolog's global logger, which toxiproxy logs to.
// On error everything started is stopped. It blocks for the cluster's
// start-up.
func Start(ctx context.Context, o kafkatest.Options) (*Cluster, error) {
	if o.Advertise != nil {
		return nil, errors.New("toxi: Options.Advertise is toxi's to set")
	}
	// Toxics log through zerolog's global logger (some at trace level);
	// the tests read the producer's log, not the proxy's.
	zerolog.SetGlobalLevel(zerolog.Disabled)
	logger := zerolog.Nop()
	c := &Cluster{
		server:  toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), logger),
		proxies: map[int]*toxiproxy.Proxy{},
	}
	var proxyErr error
	o.Advertise = func(node int, listener string, port int) string {
		direct := "127.0.0.1:" + strconv.Itoa(port)
		if listener != kafkatest.ListenerPlaintext {
			return direct
		}
		px := toxiproxy.NewProxy(c.server, "node"+strconv.Itoa(node), "127.0.0.1:0", direct)
		if err := px.Start(); err != nil {
			proxyErr = errors.Join(proxyErr, fmt.Errorf("toxi: proxy for node %d: %w", node, err))
			return direct
		}
		c.mu.Lock()
		c.proxies[node] = px
		c.mu.Unlock()
		return px.Listen
	}
	kc, err := kafkatest.Start(ctx, o)
	if err == nil && proxyErr != nil {
		err = errors.Join(proxyErr, kc.Stop())
	}
	if err != nil {
		c.stopProxies()
		return nil, err
	}
	c.Cluster = kc
	return c, nil
}

// Stop stops every proxy and then the cluster. It blocks until the JVMs
// are gone.
func (c *Cluster) Stop() error {
	c.stopProxies()
	return c.Cluster.Stop()
}

func (c *Cluster) stopProxies() {
	c.mu.Lock()
	all := append([]*toxiproxy.Proxy(nil), c.extra...)
	for _, px := range c.proxies {
		all = append(all, px)
	}
	c.extra = nil
	c.mu.Unlock()
	for _, px := range all {
		px.Stop()
	}
}

// Proxy returns the proxy in front of node's client listener, or nil.
func (c *Cluster) Proxy(node int) *toxiproxy.Proxy {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.proxies[node]
}

// Addr returns the address node advertises to clients: its proxy's.
func (c *Cluster) Addr(node int) string {
	if px := c.Proxy(node); px != nil {
		return px.Listen
	}
	return ""
}

// Add adds toxic typ (a toxiproxy toxic type) named name to node's proxy,
// in direction stream ("upstream" or "downstream"), on every connection
// with attributes attrs (e.g. {"latency": 200, "jitter": 50}).
func (c *Cluster) Add(node int, name, typ, stream string, attrs map[string]any) error {
	px := c.Proxy(node)
	if px == nil {
		return fmt.Errorf("toxi: no proxy for node %d", node)
	}
	return addToxic(px, name, typ, stream, attrs)
}

func addToxic(px *toxiproxy.Proxy, name, typ, stream string, attrs map[string]any) error {
	body, err := json.Marshal(map[string]any{
		"name": name, "type": typ, "stream": stream, "toxicity": 1.0, "attributes": attrs,
	})
	if err != nil {
		return err
	}
	if _, err := px.Toxics.AddToxicJson(strings.NewReader(string(body))); err != nil {
		return fmt.Errorf("toxi: add %s toxic %s to %s: %w", typ, name, px.Name, err)
	}
	return nil
}

// Remove removes the toxic named name from node's proxy.
func (c *Cluster) Remove(node int, name string) error {
	px := c.Proxy(node)
	if px == nil {
		return fmt.Errorf("toxi: no proxy for node %d", node)
	}
	if err := px.Toxics.RemoveToxic(context.Background(), name); err != nil {
		return fmt.Errorf("toxi: remove toxic %s from %s: %w", name, px.Name, err)
	}
	return nil
}

// BlackHole makes node's proxy swallow every byte both ways while the
// connections stay open (toxiproxy's timeout toxic with timeout 0), for
// the open connections and new ones, until Heal.
func (c *Cluster) BlackHole(node int) error {
	for _, stream := range []string{"upstream", "downstream"} {
		if err := c.Add(node, "blackhole_"+stream, "timeout", stream, map[string]any{"timeout": 0}); err != nil {
			return err
		}
	}
	return nil
}

// Heal removes every toxic of node's proxy. Removing a black hole closes
// the connections it held.
func (c *Cluster) Heal(node int) {
	if px := c.Proxy(node); px != nil {
		px.Toxics.ResetToxics(context.Background())
	}
}

// HealAll removes every toxic of every proxy.
func (c *Cluster) HealAll() {
	for _, id := range c.nodeIDs() {
		c.Heal(id)
	}
}

func (c *Cluster) nodeIDs() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]int, 0, len(c.proxies))
	for id := range c.proxies {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

// Silent starts a proxy in front of node's client listener that accepts
// connections and never answers (every byte a client sends vanishes),
// and returns its address; Stop stops it.
func (c *Cluster) Silent(node int) (string, error) {
	n := c.Node(node)
	if n == nil {
		return "", fmt.Errorf("toxi: no node %d", node)
	}
	c.mu.Lock()
	c.seq++
	name := "silent" + strconv.Itoa(c.seq)
	c.mu.Unlock()
	px := toxiproxy.NewProxy(c.server, name, "127.0.0.1:0", net.JoinHostPort("127.0.0.1", strconv.Itoa(n.PlaintextPort)))
	if err := px.Start(); err != nil {
		return "", fmt.Errorf("toxi: silent proxy: %w", err)
	}
	if err := addToxic(px, "silent", "timeout", "upstream", map[string]any{"timeout": 0}); err != nil {
		px.Stop()
		return "", err
	}
	c.mu.Lock()
	c.extra = append(c.extra, px)
	c.mu.Unlock()
	return px.Listen, nil
}
