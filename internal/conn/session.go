package conn

import (
	"errors"
	"math/rand/v2"
	"time"
)

// A broker that enforces connections.max.reauth.ms (KIP-368) tells the
// client, in its last SaslAuthenticate response, how long the
// authenticated session lasts. Past that, the broker closes the connection
// at the next request, and whatever was pipelined behind it fails.
//
// KIP-368 lets the client re-authenticate on the same connection instead.
// Doing that safely means stopping the writer between requests, running
// SaslHandshake and SaslAuthenticate while every other request waits, and
// resuming; the Java client does so inside its Selector. We take the
// simpler road the KIP also allows: retire the connection before the
// session ends and let the pool dial a fresh one, which authenticates
// anew. Nothing is lost on the way:
//
//  1. At a random point between 85% and 95% of the lifetime (the jitter
//     keeps a fleet of connections from re-dialing in lockstep), retire
//     marks the connection retiring. The pool stops handing it out from
//     then on (Pool.Ready and Pool.Lookup treat it as gone).
//  2. The retiring connection keeps working: requests already queued or in
//     flight complete normally, and a caller that took it from the pool
//     just before it retired may still Send on it.
//  3. Only once it has nothing pending does the pool dial a replacement
//     (until then Ready answers "not ready, look again in
//     retireDrainPoll"). Requests on two connections to one broker may be
//     handled in either order, and an idempotent producer's batches for a
//     partition must reach the broker in sequence order, so at most one
//     connection per broker and purpose carries requests at any time — as
//     with Java, which re-authenticates only when nothing is in flight.
//  4. Once nothing is pending and the connection has been quiet for
//     retireGrace, the reader closes it with ErrSessionExpired, which the
//     pool does not count as a failure.
//
// The cost is a pause of about one round trip plus one TCP, TLS and SASL
// setup per session lifetime (typically an hour or more), against a writer
// that never has to stop for an exchange in the middle of its traffic.

// retireGrace is how long a retiring connection must have had nothing
// pending before it closes: long enough for a caller that took it from the
// pool just before it retired to Send on it.
const retireGrace = 100 * time.Millisecond

// retireDrainPoll is how soon Pool.Ready asks to be called again while a
// retiring connection still has requests to answer (usually one round
// trip).
const retireDrainPoll = 5 * time.Millisecond

// ErrSessionExpired is the reason a connection closed itself before its
// SASL session lifetime ran out (see [Conn.SetSessionLifetime]). Like
// ErrIdle it is not a failure: the next request dials again and
// re-authenticates.
var ErrSessionExpired = errors.New("conn: closed to re-authenticate before the SASL session expired")

// SetSessionLifetime tells the connection that the broker ends its
// authenticated session d after authentication (SaslAuthenticate v1+
// SessionLifetimeMillis, KIP-368). At a random point between 85% and 95%
// of d the connection retires: the pool hands it out no more, and it
// closes itself with ErrSessionExpired once its pending requests are done.
// A d of zero or less means no limit. It is meant for Config.Authenticate;
// a later call replaces the earlier schedule. It does not block and is safe
// for concurrent use.
func (c *Conn) SetSessionLifetime(d time.Duration) {
	if d <= 0 {
		return
	}
	after := time.Duration(float64(d) * (0.85 + 0.10*rand.Float64()))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	if c.retireTimer != nil {
		c.retireTimer.Stop()
	}
	c.retireTimer = time.AfterFunc(after, c.retire)
}

// retire runs on the timer's goroutine. It marks the connection retiring
// and wakes the reader, which closes the connection once it is idle.
func (c *Conn) retire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil || c.retiring.Load() {
		return
	}
	c.retiredAt = time.Now()
	c.retiring.Store(true)
	// Wake the reader so it re-checks the state (checkDeadline). If the
	// writer moves the deadline later for a new request, the reader
	// checks again when the last response arrives.
	c.nc.SetReadDeadline(c.retiredAt)
	c.log.Debug("SASL session lifetime nearly over; closing the connection once idle so that a new one re-authenticates", "broker", c.addr)
}

// idleDeadlineLocked returns the read deadline for a connection with
// nothing in flight: the idle timeout, or the end of the grace period of a
// retiring connection.
func (c *Conn) idleDeadlineLocked() time.Time {
	if c.retiring.Load() {
		return c.lastActive.Add(retireGrace)
	}
	return c.lastActive.Add(c.cfg.IdleTimeout)
}

// pendingRecheckLocked returns how soon to look again at a connection with
// requests queued or being written but none awaiting a response.
func (c *Conn) pendingRecheckLocked() time.Duration {
	if c.retiring.Load() {
		return retireGrace
	}
	return c.cfg.IdleTimeout
}

// checkRetiredLocked decides, for a retiring connection with nothing
// pending, whether to close it now or look again after the grace period.
func (c *Conn) checkRetiredLocked(now time.Time) error {
	quietSince := c.lastActive
	if c.retiredAt.After(quietSince) {
		quietSince = c.retiredAt
	}
	if now.Sub(quietSince) >= retireGrace {
		return ErrSessionExpired
	}
	c.nc.SetReadDeadline(quietSince.Add(retireGrace))
	return nil
}
