package metadata

import (
	"maps"

	"github.com/tributary-go/tributary/protocol"
)

// UpdateLeader applies a leader hint from a Produce response (KIP-951:
// CurrentLeader and NodeEndpoints, sent with NOT_LEADER_OR_FOLLOWER and
// friends) at once, without waiting for a Metadata round trip, and
// publishes a new snapshot. The hint is ignored, and UpdateLeader returns
// false, unless the partition is known, the hint is complete (leader and
// epoch ≥ 0), its epoch is newer than the known one, and the new leader is
// a known broker or among endpoints. Endpoints also update the brokers they
// describe. It is safe for concurrent use and does not block on the
// network.
func (m *Metadata) UpdateLeader(topic string, partition int32, leader int32, epoch int32, endpoints []protocol.NodeEndpoint) bool {
	if leader < 0 || epoch < 0 {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	cur := m.snap.Load()
	t := cur.Topics[topic]
	if t == nil || partition < 0 || int(partition) >= len(t.Partitions) {
		return false
	}
	if known := t.Partitions[partition].LeaderEpoch; known >= 0 && epoch <= known {
		return false
	}

	brokers, copied := cur.Brokers, false
	for _, e := range endpoints {
		b := Broker{NodeID: e.NodeID, Host: e.Host, Port: e.Port}
		if e.Rack != nil {
			b.Rack = *e.Rack
		}
		if old, ok := brokers[b.NodeID]; ok && old == b {
			continue
		}
		if !copied {
			brokers, copied = maps.Clone(cur.Brokers), true
		}
		brokers[b.NodeID] = b
	}
	if _, ok := brokers[leader]; !ok {
		return false
	}

	topics := maps.Clone(cur.Topics)
	if copied {
		// New or moved brokers can make other partitions available.
		for name, ot := range topics {
			nt := ot.clone()
			nt.Available = available(nt.Partitions, brokers)
			topics[name] = nt
		}
	}
	nt := topics[topic].clone()
	nt.Partitions = append([]Partition(nil), t.Partitions...)
	nt.Partitions[partition] = Partition{ID: partition, Leader: leader, LeaderEpoch: epoch}
	nt.Available = available(nt.Partitions, brokers)
	topics[topic] = nt

	m.publishLocked(&Snapshot{
		Brokers:      brokers,
		Topics:       topics,
		ClusterID:    cur.ClusterID,
		ControllerID: cur.ControllerID,
		Updated:      cur.Updated,
	})
	return true
}
