package conn

import (
	"errors"
	"fmt"
	"time"
)

// A broker goes away in one of two ways, and often in both, one after the
// other. It stops answering without closing its connections (a
// black-holed network, a hung process): each request then times out at
// request.timeout.ms and kills its connection (as Java's
// NetworkClient.handleTimedOutRequests does), the pool dials again, the
// retried request times out again. Or it cannot be dialed: the TCP
// connection is refused, or the ApiVersions handshake is not answered
// within socket.connection.setup.timeout.ms — which is what the redial of
// a black-holed broker usually runs into. Logging each of those would
// bury the one fact a user needs, so the pool keeps one outage record per
// broker (node.out) that the first request timeout or the first failed
// dial opens, whichever comes first, and tells the story in two lines:
//
//   - at its start a warning: "broker stopped answering" (the node id, the
//     address, the request that went unanswered and request.timeout.ms)
//     when a request timed out, or "connection to broker could not be
//     established" (the purpose, the dial error) when a dial failed;
//   - at its end one line with down_for, counted from the start, whatever
//     happened in between: "broker answers again" once the first response
//     comes on a connection dialed since, for the purpose whose request
//     timed out (so a broker that answers Metadata but swallows Produce
//     requests is still down), or, when no request timed out, "broker
//     reachable again" at the first successful dial.
//
// Every timeout and failed dial in between logs at debug level, except
// that an outage longer than unreachableLogEvery is recalled by one
// warning per unreachableLogEvery ("broker still unreachable after N
// attempts", "broker still not answering"), with down_for, so that a
// broker down for hours does not vanish from a log rotated since.
//
// The reader goroutine of a connection reports both timeouts (connDied,
// from reap) and answers (answered, from readResponse) without holding
// the connection's lock, so taking the pool's lock there cannot deadlock:
// the pool never waits for a connection's goroutines while holding it.

// outage is the pool's record of a broker's current outage; the zero value
// means the broker answers. Guarded by Pool.mu, with the times on
// Pool.now's clock.
type outage struct {
	since     time.Time // first request timeout or failed dial
	loggedAt  time.Time // last warning about it
	dialFails int       // failed dials during it
	// A request timed out during it: it ends at the first answer on a
	// connection for purpose dialed since, not at a successful dial.
	silent  bool
	purpose Purpose
}

// connDied runs on c's reader goroutine when c has died of err, before its
// pending requests fail.
func (p *Pool) connDied(c *Conn, err error) {
	p.mu.Lock()
	node := c.node
	var te *RequestTimeoutError
	if n := p.nodes[node]; n != nil && n.addr == c.addr && errors.As(err, &te) {
		p.timedOutLocked(n, c, te)
	}
	p.mu.Unlock()
	if p.onClose != nil {
		p.onClose(node, err)
	}
}

// timedOutLocked records that a request on c, a connection to n, timed
// out.
func (p *Pool) timedOutLocked(n *node, c *Conn, te *RequestTimeoutError) {
	now := p.now()
	o := &n.out
	switch {
	case o.since.IsZero():
		*o = outage{since: now, loggedAt: now, silent: true, purpose: c.purpose}
		p.log.Warn("broker stopped answering",
			"node", c.node, "broker", c.addr, "request", te.Key.String(), "waited", te.Waited.Round(time.Millisecond),
			"request_timeout", te.Timeout, "err", te)
		return
	case !o.silent:
		// Down since a dial failed for another purpose; it now ends only
		// when this purpose is answered.
		o.silent, o.purpose = true, c.purpose
	}
	downFor := now.Sub(o.since).Round(time.Millisecond)
	if now.Sub(o.loggedAt) >= p.logEvery {
		o.loggedAt = now
		p.log.Warn("broker still not answering", "node", c.node, "broker", c.addr, "down_for", downFor, "err", te)
		return
	}
	p.log.Debug("broker still not answering", "node", c.node, "broker", c.addr, "down_for", downFor, "err", te)
}

// dialFailedLocked records and logs a failed dial of n for purpose.
func (p *Pool) dialFailedLocked(n *node, nodeID int32, purpose Purpose, err error) {
	now := p.now()
	o := &n.out
	o.dialFails++
	retryIn := time.Until(n.retryAt).Round(time.Millisecond)
	switch {
	case o.since.IsZero():
		o.since, o.loggedAt = now, now
		p.log.Warn("connection to broker could not be established",
			"node", nodeID, "broker", n.addr, "purpose", purpose, "retry_in", retryIn, "err", err)
	case now.Sub(o.loggedAt) >= p.logEvery:
		o.loggedAt = now
		p.log.Warn(fmt.Sprintf("broker still unreachable after %d attempts", o.dialFails),
			"node", nodeID, "broker", n.addr, "down_for", now.Sub(o.since).Round(time.Second), "err", err)
	default:
		p.log.Debug("connection to broker could not be established",
			"node", nodeID, "broker", n.addr, "purpose", purpose, "attempts", o.dialFails,
			"down_for", now.Sub(o.since).Round(time.Millisecond), "retry_in", retryIn, "err", err)
	}
}

// dialedLocked records that c, a new connection to n for purpose, is up:
// the end of an outage in which no request timed out; in one in which a
// request did, the connection that will tell whether the broker answers
// again.
func (p *Pool) dialedLocked(n *node, nodeID int32, c *Conn, purpose Purpose) {
	o := &n.out
	switch {
	case o.since.IsZero():
	case o.silent:
		if purpose == o.purpose {
			c.watchAnswer.Store(true)
		}
		if o.dialFails > 0 {
			p.log.Debug("broker reachable again", "node", nodeID, "broker", n.addr, "failed_attempts", o.dialFails)
		}
	default:
		p.log.Info("broker reachable again", "node", nodeID, "broker", n.addr,
			"failed_attempts", o.dialFails, "down_for", p.now().Sub(o.since).Round(time.Millisecond))
		*o = outage{}
	}
}

// answered runs on c's reader goroutine when c, dialed while its broker
// was not answering, got its first response.
func (p *Pool) answered(c *Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.nodes[c.node]
	if n == nil || !n.out.silent || n.addr != c.addr {
		return
	}
	p.log.Info("broker answers again", "node", c.node, "broker", c.addr,
		"down_for", p.now().Sub(n.out.since).Round(time.Millisecond))
	n.out = outage{}
}
