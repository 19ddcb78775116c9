package metadata

import (
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tributary-go/tributary/protocol"
)

// Broker is a Kafka broker as the cluster describes it.
type Broker struct {
	NodeID int32
	Host   string
	Port   int32
	Rack   string // "" when the broker has none
}

// Addr returns the broker's host:port. It is safe for concurrent use.
func (b Broker) Addr() string { return net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port))) }

// Partition is one partition of a topic.
type Partition struct {
	ID          int32
	Leader      int32 // node id of the leader; -1 when there is none
	LeaderEpoch int32 // -1 when the broker did not say (Metadata before v7)
	// Err is the partition's error from the broker, e.g.
	// protocol.ErrLeaderNotAvailable, or nil.
	Err error
}

// Topic is a topic's metadata.
type Topic struct {
	Name string
	ID   [16]byte // topic id (Metadata v10+), zero when unknown
	// Partitions is indexed by partition id. It is empty when Err is set.
	Partitions []Partition
	// Available lists the ids of the partitions whose leader is known and
	// present in the snapshot's Brokers, in increasing order.
	Available []int32
	// Err is the topic-level error from the broker, e.g.
	// protocol.ErrUnknownTopicOrPartition, or nil.
	Err error

	// use links the topic to its idle-tracking entry so that Use marks it
	// with no map lookup; set by Metadata when publishing or tracking.
	use atomic.Pointer[topicUse]
}

// clone returns a copy of t for a new snapshot, keeping its tracking link.
func (t *Topic) clone() *Topic {
	c := &Topic{Name: t.Name, ID: t.ID, Partitions: t.Partitions, Available: t.Available, Err: t.Err}
	c.use.Store(t.use.Load())
	return c
}

// Snapshot is an immutable view of the cluster. A published Snapshot, and
// everything it points to, is never modified, so it may be read from any
// goroutine without locks.
type Snapshot struct {
	Brokers      map[int32]Broker
	Topics       map[string]*Topic
	ClusterID    string
	ControllerID int32
	// Updated is when the Metadata response this snapshot is built from
	// arrived; zero before the first one.
	Updated time.Time
}

// maxPartitionGap bounds how far past a topic's partition count an id in a
// Metadata response may be before it is ignored as garbage.
const maxPartitionGap = 1024

var emptySnapshot = &Snapshot{Brokers: map[int32]Broker{}, Topics: map[string]*Topic{}, ControllerID: -1}

// Leader returns the broker leading the partition, if the partition is
// known, has a leader and the leader is a known broker. It does not block
// or allocate.
func (s *Snapshot) Leader(topic string, partition int32) (Broker, bool) {
	t := s.Topics[topic]
	if t == nil || partition < 0 || int(partition) >= len(t.Partitions) {
		return Broker{}, false
	}
	p := &t.Partitions[partition]
	if p.Leader < 0 {
		return Broker{}, false
	}
	b, ok := s.Brokers[p.Leader]
	return b, ok
}

// buildSnapshot makes the snapshot that follows prev once resp, the answer
// to a request for topics, has arrived. Only requested topics are kept, so
// topics no longer requested drop out.
//
// Leader epochs never go backwards: a partition whose epoch in resp is older
// than the one in prev (which may come from a Produce response's leader
// hint, or from a fresher broker) keeps prev's data, as Java's
// Metadata.updateLatestMetadata does. That rule is waived when the topic id
// changed, since a re-created topic starts its epochs again.
//
// retry reports whether the response carried retriable errors (unknown
// topic, leader not available...), which call for another refresh soon.
func buildSnapshot(prev *Snapshot, resp *protocol.MetadataResponse, requested []string, now time.Time) (next *Snapshot, retry bool) {
	want := make(map[string]bool, len(requested))
	for _, name := range requested {
		want[name] = true
	}
	next = &Snapshot{
		Brokers:      make(map[int32]Broker, len(resp.Brokers)),
		Topics:       make(map[string]*Topic, len(requested)),
		ControllerID: resp.ControllerID,
		Updated:      now,
	}
	if resp.ClusterID != nil {
		next.ClusterID = *resp.ClusterID
	}
	for _, b := range resp.Brokers {
		br := Broker{NodeID: b.NodeID, Host: b.Host, Port: b.Port}
		if b.Rack != nil {
			br.Rack = *b.Rack
		}
		next.Brokers[b.NodeID] = br
	}

	for i := range resp.Topics {
		rt := &resp.Topics[i]
		if rt.Name == nil || !want[*rt.Name] {
			continue
		}
		t := &Topic{Name: *rt.Name, ID: rt.TopicID}
		next.Topics[t.Name] = t
		if err := protocol.ErrorForCode(rt.ErrorCode); err != nil {
			t.Err = err
			retry = retry || protocol.IsRetriable(err)
			continue
		}
		var old *Topic
		if pt := prev.Topics[t.Name]; pt != nil && (pt.ID == t.ID || pt.ID == [16]byte{} || t.ID == [16]byte{}) {
			old = pt
		}
		// Partition ids are dense from 0. Allow gaps, but not an id so
		// far past the count that a bad answer could make us allocate
		// gigabytes.
		n, limit := 0, len(rt.Partitions)+maxPartitionGap
		for _, rp := range rt.Partitions {
			if int(rp.PartitionIndex) < limit {
				n = max(n, int(rp.PartitionIndex)+1)
			}
		}
		t.Partitions = make([]Partition, n)
		for j := range t.Partitions {
			// Filled below; a partition missing from the response has
			// no leader.
			t.Partitions[j] = Partition{ID: int32(j), Leader: -1, LeaderEpoch: -1, Err: protocol.ErrLeaderNotAvailable}
		}
		for _, rp := range rt.Partitions {
			if rp.PartitionIndex < 0 || int(rp.PartitionIndex) >= n {
				retry = true
				continue
			}
			p := Partition{ID: rp.PartitionIndex, Leader: rp.LeaderID, LeaderEpoch: rp.LeaderEpoch, Err: protocol.ErrorForCode(rp.ErrorCode)}
			if old != nil && int(p.ID) < len(old.Partitions) && p.LeaderEpoch >= 0 &&
				old.Partitions[p.ID].LeaderEpoch > p.LeaderEpoch {
				p = old.Partitions[p.ID] // stale: keep what we know
			}
			if p.Err != nil && protocol.IsRetriable(p.Err) {
				retry = true
			}
			t.Partitions[p.ID] = p
		}
		if len(rt.Partitions) < n {
			retry = true
		}
		t.Available = available(t.Partitions, next.Brokers)
	}
	// Brokers answer for every topic asked about; a topic left out is
	// asked about again, with backoff, rather than waited on forever.
	retry = retry || len(next.Topics) < len(want)
	return next, retry
}

// available lists the partitions with a leader present in brokers.
func available(parts []Partition, brokers map[int32]Broker) []int32 {
	out := make([]int32, 0, len(parts))
	for _, p := range parts {
		if p.Leader < 0 {
			continue
		}
		if _, ok := brokers[p.Leader]; ok {
			out = append(out, p.ID)
		}
	}
	return out
}
