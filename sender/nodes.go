package sender

// Per-node failure state. The connection pool knows whether a node's last
// dial failed (conn.Pool.LastError) and when it may be dialled again; the
// sender keeps, beside that, the two things only it can know, in one
// nodeState per node that has any: whether it has already asked for a
// metadata refresh for the node's current reconnect backoff, and the error
// of the latest request to the node that failed on its connection. Both
// are cleared by the node's recovery (a connection ready for it, an
// answered request), and a node with neither has no entry, so a healthy
// cluster keeps the map empty. Like all the sender's bookkeeping, the map
// is owned by the run goroutine and needs no lock.

import (
	"time"
)

// nodeState is the sender's failure state for one node. The zero value
// means nothing to remember.
type nodeState struct {
	// refreshedUntil is the end of the reconnect backoff that a metadata
	// update was last requested for (noteUnreachable), while the node has
	// batches to send and cannot be dialled; zero once a connection to it
	// is ready.
	refreshedUntil time.Time
	// lastErr is the error of the latest request to the node that failed on
	// its connection, until a request to the node is answered: the cause of
	// a queued batch that expires while the node's connection is being set
	// up again (holdCause).
	lastErr error
}

// node returns the failure state of node (the zero value for none).
func (s *Sender) node(node int32) nodeState { return s.nodes[node] }

// setNode stores the failure state of node, dropping the entry when there
// is nothing left to remember.
func (s *Sender) setNode(node int32, st nodeState) {
	if st.refreshedUntil.IsZero() && st.lastErr == nil {
		delete(s.nodes, node)
		return
	}
	if s.nodes == nil {
		s.nodes = make(map[int32]nodeState)
	}
	s.nodes[node] = st
}

// requestFailed records err, the failure of a request to node on its
// connection.
func (s *Sender) requestFailed(node int32, err error) {
	st := s.node(node)
	st.lastErr = err
	s.setNode(node, st)
}

// answered records that node answered a request: its last request error is
// history.
func (s *Sender) answered(node int32) {
	if st, ok := s.nodes[node]; ok && st.lastErr != nil {
		st.lastErr = nil
		s.setNode(node, st)
	}
}

// reachable records that a connection to node is ready: a later failed dial
// starts a new backoff, which earns a new metadata refresh.
func (s *Sender) reachable(node int32) {
	if st, ok := s.nodes[node]; ok && !st.refreshedUntil.IsZero() {
		st.refreshedUntil = time.Time{}
		s.setNode(node, st)
	}
}

// noteUnreachable requests a metadata update once per failed dial of node,
// which has batches to send but is backing off after a failure: a leader
// that died keeps its partitions in the metadata until a refresh shows
// the new leader the controller elected. Java's NetworkClient requests an
// update after every disconnect, failed connection attempts included
// (handleDisconnections); without it the batches wait for the old leader
// to come back, or for metadata.max.age.ms.
func (s *Sender) noteUnreachable(node int32, now time.Time, retryIn time.Duration) {
	if retryIn <= 0 || s.pool.LastError(node) == nil {
		return // a dial is running (its end wakes the loop), or none failed
	}
	st := s.node(node)
	if now.Before(st.refreshedUntil) {
		return // this backoff's update was requested already
	}
	st.refreshedUntil = now.Add(retryIn)
	s.setNode(node, st)
	s.meta.RequestUpdate()
}
