package metadata

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/protocol"
)

// The refresher follows Java's Metadata.timeToNextUpdate. A refresh is due
// at lastSuccess + MaxAge, or at once when one was requested (RequestUpdate,
// a new topic, an answer with retriable errors) or none has succeeded yet.
// Two backoffs then push it later:
//
//   - after failed fetches, retry.backoff.ms·2^(failures-1) (KIP-580), so an
//     unreachable cluster is not hammered;
//   - after answers that still carried retriable errors (a topic not yet
//     created, a leader election in progress), the same schedule counted in
//     such answers, so that waiting for a topic costs a handful of requests
//     a second at most. A brand new topic skips this one, as Java's
//     requestUpdateForNewTopics does, so that the first send to it is quick.
//
// Every refresh asks for all tracked topics (a full update); topics idle for
// MaxIdle with nobody waiting for them are dropped first. Requests that
// arrive while a fetch is running are not lost: they cause one more refresh
// after it.

// testHookRefreshWait, if set (tests only, before Start), sees every wait
// the refresher is about to sleep for.
var testHookRefreshWait func(wait time.Duration)

// run is the refresher goroutine, owned by the Metadata: started by Start,
// stopped by Close (quit), done closed on exit.
func (m *Metadata) run() {
	defer close(m.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		m.mu.Lock()
		wait := m.untilNextLocked(time.Now())
		m.mu.Unlock()
		if wait > 0 {
			if testHookRefreshWait != nil {
				testHookRefreshWait(wait)
			}
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-m.wake:
			case <-m.quit:
				return
			}
			continue
		}
		select {
		case <-m.quit:
			return
		default:
		}
		m.refresh()
	}
}

// untilNextLocked returns how long until the next refresh is due.
func (m *Metadata) untilNextLocked(now time.Time) time.Duration {
	due := m.lastSuccess.Add(m.cfg.MaxAge)
	if m.want || m.lastSuccess.IsZero() {
		due = now
	}
	if (m.failures > 0 || m.incomplete > 0 && !m.urgent) && m.retryAt.After(due) {
		due = m.retryAt
	}
	return due.Sub(now)
}

// refresh fetches metadata for the tracked topics and publishes the result.
func (m *Metadata) refresh() {
	m.mu.Lock()
	start := time.Now()
	topics := m.sweepLocked(start)
	m.want, m.urgent = false, false
	if m.attemptFrom.IsZero() {
		m.attemptFrom = start
	}
	ctx, cancel := m.ctx, context.CancelFunc(func() {})
	bounded := m.canRebootstrap()
	if bounded {
		// A broker that never answers must not hold the re-bootstrap
		// back (rebootstrap.go).
		ctx, cancel = context.WithDeadline(m.ctx, m.attemptFrom.Add(m.cfg.RebootstrapTrigger))
	}
	m.mu.Unlock()

	resp, err := m.fetcher.Fetch(ctx, topics, m.cfg.AllowAutoTopicCreation)
	timedOut := bounded && ctx.Err() != nil && m.ctx.Err() == nil
	cancel()
	required := false
	if err == nil && resp.ErrorCode != 0 {
		// KIP-1102: a top-level error (Metadata v13+) means the answer
		// is not to be used; REBOOTSTRAP_REQUIRED asks for a re-bootstrap.
		err = fmt.Errorf("metadata: broker answered with a top-level error: %w", protocol.KafkaError(resp.ErrorCode, nil))
		required = errors.Is(err, protocol.ErrRebootstrapRequired)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	m.lastAttempt = now
	if err != nil {
		if m.errClosing(err) {
			return
		}
		if timedOut {
			err = fmt.Errorf("metadata: no answer within metadata.recovery.rebootstrap.trigger.ms=%v: %w", m.cfg.RebootstrapTrigger, err)
		}
		m.failures++
		m.retryAt = now.Add(conn.Backoff(m.failures-1, m.cfg.RetryBackoff, m.cfg.RetryBackoffMax))
		m.lastErr = err
		m.want = true
		switch {
		case required && m.canRebootstrap():
			m.rebootstrapLocked(now, "a broker answered REBOOTSTRAP_REQUIRED")
		case m.canRebootstrap() && now.Sub(m.attemptFrom) >= m.cfg.RebootstrapTrigger:
			m.rebootstrapLocked(now, fmt.Sprintf("no metadata for metadata.recovery.rebootstrap.trigger.ms=%v", m.cfg.RebootstrapTrigger))
		}
		m.notifyLocked()
		// The first failure warns, then at most one line per logEvery
		// while refreshes keep failing (the pool logs each broker alike).
		msg, level := "metadata refresh failed", m.log.Debug
		switch {
		case m.failures == 1:
			m.failSince, m.failLogged, level = now, now, m.log.Warn
		case now.Sub(m.failLogged) >= m.logEvery:
			m.failLogged, level = now, m.log.Warn
			msg = fmt.Sprintf("metadata refresh still failing after %d attempts", m.failures)
		}
		level(msg, "topics", len(topics), "failures", m.failures,
			"retry_in", m.retryAt.Sub(now).Round(time.Millisecond), "err", err)
		return
	}
	m.attemptFrom = time.Time{}
	if m.failures > 0 {
		m.log.Info("metadata refresh succeeded again", "failed_attempts", m.failures, "failing_for", now.Sub(m.failSince).Round(time.Millisecond))
	}

	next, retry := buildSnapshot(m.snap.Load(), resp, topics, now)
	m.failures, m.lastErr, m.lastSuccess = 0, nil, now
	if retry || m.hasFatalTopicError(next) {
		// Retriable errors call for another look soon; non-retriable
		// ones only slow down the refreshes WaitForTopic asks for.
		m.incomplete++
		m.retryAt = now.Add(conn.Backoff(m.incomplete-1, m.cfg.RetryBackoff, m.cfg.RetryBackoffMax))
		m.want = m.want || retry
	} else {
		m.incomplete = 0
	}
	m.publishLocked(next)
	m.log.Debug("metadata refreshed", "brokers", len(next.Brokers), "topics", len(next.Topics), "retriable_errors", retry)
}

// canRebootstrap reports whether the strategy is rebootstrap and the
// fetcher can do it.
func (m *Metadata) canRebootstrap() bool {
	_, ok := m.fetcher.(Rebootstrapper)
	return ok && m.cfg.Recovery == RecoveryRebootstrap
}

// rebootstrapLocked sends the fetcher back to its bootstrap addresses and
// makes the next refresh start at once; the trigger time counts again
// from now, as Java's NetworkClient.handleRebootstrap restarts
// metadataAttemptStartMs.
func (m *Metadata) rebootstrapLocked(now time.Time, reason string) {
	m.fetcher.(Rebootstrapper).Rebootstrap(reason)
	m.rebootstraps++
	m.attemptFrom = now
	m.retryAt = now
}

// Rebootstraps returns how many times the Metadata sent its fetcher back
// to the bootstrap addresses on the trigger time or REBOOTSTRAP_REQUIRED
// (the fetcher's own immediate re-bootstraps, when every known broker is
// in backoff, are counted by PoolFetcher.Rebootstraps). It does not block.
func (m *Metadata) Rebootstraps() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rebootstraps
}

// hasFatalTopicError reports whether any topic came back with a
// non-retriable error (authorization, invalid name).
func (m *Metadata) hasFatalTopicError(s *Snapshot) bool {
	for _, t := range s.Topics {
		if t.Err != nil && !protocol.IsRetriable(t.Err) {
			return true
		}
	}
	return false
}

// sweepLocked drops topics idle for MaxIdle that nobody waits for and
// returns the rest, sorted.
func (m *Metadata) sweepLocked(now time.Time) []string {
	cur := *m.tracked.Load()
	names := make([]string, 0, len(cur))
	var expired []string
	for name, u := range cur {
		if u.used.Load() {
			u.used.Store(false)
			u.lastUsed = now
		}
		if u.waiters == 0 && now.Sub(u.lastUsed) >= m.cfg.MaxIdle {
			u.dropped.Store(true)
			expired = append(expired, name)
			continue
		}
		names = append(names, name)
	}
	if len(expired) > 0 {
		next := maps.Clone(cur)
		for _, name := range expired {
			delete(next, name)
		}
		m.tracked.Store(&next)
		m.log.Debug("dropping idle topics from metadata", "topics", expired)
	}
	slices.Sort(names)
	return names
}

// Changed returns a channel closed at the next refresh attempt's outcome:
// a new snapshot or a failed fetch. The sender waits on it, instead of
// polling, while a queued batch has no known leader. Take the channel
// before reading Snapshot, or compare snapshots after taking it, so that
// a publication in between is not missed. It is safe for concurrent use
// and does not block.
func (m *Metadata) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}
