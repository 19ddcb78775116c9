package conn

import (
	"errors"
	"time"
)

// A broker that stops answering without closing its connections (a
// black-holed network, a hung process) shows up as request timeouts: each
// kills its connection (request.timeout.ms, as in Java's
// NetworkClient.handleTimedOutRequests), the pool dials again, the retried
// request times out again, and so on until the broker is back. Logging
// each of those would bury the one fact a user needs, so the pool tells
// the story per broker, in two lines:
//
//   - the first request timeout on a broker that was answering logs a
//     warning, "broker stopped answering", with the node id, the address,
//     the request that went unanswered and request.timeout.ms; later
//     timeouts, and the dial failures that follow (a black-holed broker
//     often fails the next ApiVersions too), log at debug level;
//   - the first response to a request on a connection dialed since, for
//     the purpose whose request timed out (so a broker that answers
//     Metadata but swallows Produce requests is still silent), logs
//     "broker answers again" with how long it was silent.
//
// The reader goroutine of a connection reports both (connDied from reap,
// answered from readResponse) without holding the connection's lock, so
// taking the pool's lock there cannot deadlock: the pool never waits for a
// connection's goroutines while holding it.

// connDied runs on c's reader goroutine when c has died of err, before its
// pending requests fail.
func (p *Pool) connDied(c *Conn, err error) {
	p.mu.Lock()
	node := c.node
	var te *RequestTimeoutError
	if n := p.nodes[node]; n != nil && n.addr == c.addr && errors.As(err, &te) {
		if n.silentSince.IsZero() {
			n.silentSince, n.silentPurpose = p.now(), c.purpose
			p.log.Warn("broker stopped answering",
				"node", node, "broker", c.addr, "request", te.Key.String(), "waited", te.Waited.Round(time.Millisecond),
				"request_timeout", te.Timeout, "err", err)
		} else {
			p.log.Debug("broker still not answering", "node", node, "broker", c.addr,
				"silent_for", p.now().Sub(n.silentSince).Round(time.Millisecond), "err", err)
		}
	}
	p.mu.Unlock()
	if p.onClose != nil {
		p.onClose(node, err)
	}
}

// answered runs on c's reader goroutine when c, dialed while its broker
// was silent, got its first response.
func (p *Pool) answered(c *Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.nodes[c.node]
	if n == nil || n.silentSince.IsZero() || n.addr != c.addr {
		return
	}
	p.log.Info("broker answers again", "node", c.node, "broker", c.addr,
		"silent_for", p.now().Sub(n.silentSince).Round(time.Millisecond))
	n.silentSince = time.Time{}
}
