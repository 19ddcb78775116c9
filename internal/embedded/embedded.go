package embedded

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Cluster is a running in-process cluster. Close it when done.
type Cluster struct {
	c *kfake.Cluster
}

// Start starts brokers in-process with each topic created at partitions
// partitions; other topics are auto-created with the same count.
func Start(brokers int, partitions int32, topics ...string) (*Cluster, error) {
	opts := []kfake.Opt{kfake.NumBrokers(brokers), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(int(partitions))}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(partitions, topics...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("embedded: starting cluster: %w", err)
	}
	return &Cluster{c: c}, nil
}

// Addrs returns the brokers' listen addresses (host:port).
func (c *Cluster) Addrs() []string { return c.c.ListenAddrs() }

// Kfake returns the underlying cluster for tests that inject faults.
func (c *Cluster) Kfake() *kfake.Cluster { return c.c }

// Close stops the cluster.
func (c *Cluster) Close() { c.c.Close() }
