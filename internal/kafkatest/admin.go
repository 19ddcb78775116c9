package kafkatest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Admin operations run through franz-go's kadm on the PLAINTEXT listener:
// in-process and fast, where each Java admin tool costs a JVM start-up.

// readyTopic is written by waitReady to prove the cluster serves
// replicated writes.
const readyTopic = "_kafkatest_ready"

// Client returns a franz-go client on the PLAINTEXT listener (a super
// user), with opts added. The caller closes it.
func (c *Cluster) Client(opts ...kgo.Opt) (*kgo.Client, error) {
	all := append([]kgo.Opt{kgo.SeedBrokers(c.Bootstrap()...)}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		return nil, fmt.Errorf("kafkatest: %w", err)
	}
	return cl, nil
}

// Admin returns a kadm client on the PLAINTEXT listener (a super user).
// The caller closes it.
func (c *Cluster) Admin() (*kadm.Client, error) {
	cl, err := c.Client()
	if err != nil {
		return nil, err
	}
	return kadm.NewClient(cl), nil
}

// CreateTopic creates topic with the given partitions and replication
// factor (-1: the broker's default, 3) and waits until every running
// broker knows a leader for every partition: a broker that has not yet
// learned of the topic answers UNKNOWN_TOPIC_OR_PARTITION, which loses
// acks=0 records. configs are topic configs such as
// "min.insync.replicas". It blocks.
func (c *Cluster) CreateTopic(ctx context.Context, topic string, partitions int32, rf int16, configs map[string]string) error {
	cl, err := c.Client()
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	cfg := map[string]*string{}
	for k, v := range configs {
		cfg[k] = &v
	}
	resp, err := adm.CreateTopic(ctx, partitions, rf, cfg, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("kafkatest: creating topic %s: %w", topic, err)
	}
	return c.waitLeaders(ctx, cl, topic, int(partitions))
}

// waitLeaders polls each running broker's metadata until it lists topic
// with partitions partitions, each with a leader.
func (c *Cluster) waitLeaders(ctx context.Context, cl *kgo.Client, topic string, partitions int) error {
	for _, n := range c.Nodes {
		if !c.Running(n.ID) {
			continue
		}
		for !hasLeaders(ctx, cl, n.ID, topic, partitions) {
			select {
			case <-ctx.Done():
				return fmt.Errorf("kafkatest: node %d knows no leaders for every partition of %s: %w", n.ID, topic, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

func hasLeaders(ctx context.Context, cl *kgo.Client, node int, topic string, partitions int) bool {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl.Broker(node))
	if err != nil || len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 || len(resp.Topics[0].Partitions) != partitions {
		return false
	}
	for _, p := range resp.Topics[0].Partitions {
		if p.ErrorCode != 0 || p.Leader < 0 {
			return false
		}
	}
	return true
}

// waitReady waits until the brokers ids are registered and, if write is
// set, a record can be written with acks=all to a replicated topic.
func (c *Cluster) waitReady(ctx context.Context, ids []int, write bool) error {
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	var last error
	for {
		if err := c.exitedEarly(ids); err != nil {
			return err
		}
		last = c.readyOnce(ctx, ids, write)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kafkatest: cluster not ready (logs: %v): %w", c.LogFiles(), errors.Join(last, ctx.Err()))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// readyOnce checks readiness with a client of its own: a client's cached
// metadata could hide brokers that registered after it first asked.
func (c *Cluster) readyOnce(ctx context.Context, ids []int, write bool) error {
	attempt, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cl, err := c.Client(kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordDeliveryTimeout(10*time.Second))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	md, err := adm.BrokerMetadata(attempt)
	if err != nil {
		return err
	}
	registered := map[int32]bool{}
	for _, b := range md.Brokers {
		registered[b.NodeID] = true
	}
	for _, id := range ids {
		if !registered[int32(id)] {
			return fmt.Errorf("node %d is not registered (registered: %v)", id, md.Brokers.NodeIDs())
		}
	}
	if !write {
		return nil
	}
	rf := int16(min(3, len(c.Nodes)))
	if resp, err := adm.CreateTopic(attempt, 1, rf, nil, readyTopic); err != nil {
		return err
	} else if resp.Err != nil && !errors.Is(resp.Err, kerr.TopicAlreadyExists) {
		return resp.Err
	}
	if err := c.waitLeaders(attempt, cl, readyTopic, 1); err != nil {
		return err
	}
	return cl.ProduceSync(attempt, &kgo.Record{Topic: readyTopic, Value: []byte("ready")}).FirstErr()
}

// exitedEarly reports a node of ids whose JVM has exited.
func (c *Cluster) exitedEarly(ids []int) error {
	for _, id := range ids {
		n := c.Node(id)
		if !c.running(n) {
			return fmt.Errorf("kafkatest: node %d exited during start-up; see %s and %s:\n%s", n.ID, n.LogFile, n.OutFile, tail(n.OutFile, 20)+tail(n.LogFile, 20))
		}
	}
	return nil
}
