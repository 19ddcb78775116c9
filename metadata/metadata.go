package metadata

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/protocol"
)

// Defaults applied to zero Config fields; they are the Java producer's.
const (
	DefaultMaxAge          = 5 * time.Minute        // metadata.max.age.ms
	DefaultMaxIdle         = 5 * time.Minute        // metadata.max.idle.ms
	DefaultRetryBackoff    = 100 * time.Millisecond // retry.backoff.ms
	DefaultRetryBackoffMax = time.Second            // retry.backoff.max.ms
)

// Config configures a Metadata. Zero durations take the defaults above.
type Config struct {
	// MaxAge is metadata.max.age.ms: metadata is refreshed at least this
	// often, even when nothing asks for it.
	MaxAge time.Duration
	// MaxIdle is metadata.max.idle.ms: a topic not used (Touch,
	// WaitForTopic) for this long is dropped from refreshes. Idleness is
	// checked when a refresh starts, so a topic may outlive MaxIdle by up
	// to one refresh interval.
	MaxIdle time.Duration
	// AllowAutoTopicCreation is allow.auto.create.topics: ask brokers to
	// create topics that do not exist. The Java producer's default is
	// true; the zero value here is false, so producers should set it.
	AllowAutoTopicCreation bool
	// RetryBackoff and RetryBackoffMax are retry.backoff.ms and
	// retry.backoff.max.ms: after failed refreshes, or refreshes whose
	// answer still carried retriable errors, the next one waits
	// base·2^(n-1), capped at the max, ±20%.
	RetryBackoff, RetryBackoffMax time.Duration
	// Logger receives refresh events; nil discards them.
	Logger *slog.Logger

	// Recovery is metadata.recovery.strategy (KIP-899): whether to go
	// back to the bootstrap addresses when no known broker can be
	// reached; the zero value is Java's default, RecoveryRebootstrap.
	Recovery RecoveryStrategy
	// RebootstrapTrigger is metadata.recovery.rebootstrap.trigger.ms
	// (KIP-1102): with RecoveryRebootstrap, re-bootstrap once no refresh
	// has succeeded for this long since the first attempt after the last
	// success. Zero means DefaultRebootstrapTrigger.
	RebootstrapTrigger time.Duration
}

// Fetcher performs one Metadata request for the given topics (never nil; an
// empty list asks only for brokers). The default is a *PoolFetcher.
// Implementations must honour ctx and be safe for concurrent use.
type Fetcher interface {
	Fetch(ctx context.Context, topics []string, allowAutoCreate bool) (*protocol.MetadataResponse, error)
}

// Metadata is the producer's cache of cluster metadata. It owns one
// refresher goroutine (Start, Close) that fetches metadata for the topics in
// use: on demand, at least every MaxAge, and again soon after an answer
// with retriable errors. Readers take the current immutable Snapshot
// without locks. Metadata is safe for concurrent use.
type Metadata struct {
	cfg     Config
	log     *slog.Logger
	fetcher Fetcher

	snap    atomic.Pointer[Snapshot]
	tracked atomic.Pointer[map[string]*topicUse] // copy-on-write; replaced under mu

	mu           sync.Mutex
	changed      chan struct{} // guarded by mu: closed and replaced after every refresh attempt and publication
	want         bool          // guarded by mu: a refresh was requested
	urgent       bool          // guarded by mu: new topics: skip the backoff of answers with retriable errors
	failures     int           // guarded by mu: consecutive failed fetches
	incomplete   int           // guarded by mu: consecutive answers with retriable errors
	retryAt      time.Time     // guarded by mu: no backed-off refresh before this
	lastAttempt  time.Time     // guarded by mu
	lastSuccess  time.Time     // guarded by mu
	lastErr      error         // guarded by mu: the last fetch error; nil after a success
	failSince    time.Time     // guarded by mu: first failure of the current run
	failLogged   time.Time     // guarded by mu: last warning about failing refreshes
	attemptFrom  time.Time     // guarded by mu: first refresh attempt since the last success (KIP-1102's metadataAttemptStartMs); zero after a success
	rebootstraps int           // guarded by mu: re-bootstraps on the trigger time or REBOOTSTRAP_REQUIRED
	logEvery     time.Duration // how often to repeat that refreshes keep failing; set by New (tests shorten it)
	started      bool          // guarded by mu
	closed       bool          // guarded by mu

	ctx    context.Context // for fetches; cancelled by Close
	cancel context.CancelFunc
	wake   chan struct{} // capacity 1: requests → refresher
	quit   chan struct{} // closed by Close
	done   chan struct{} // closed when the refresher exits
}

// topicUse tracks a topic in use.
type topicUse struct {
	used     atomic.Bool // set by Touch, cleared by the sweep
	dropped  atomic.Bool // set by the sweep when the topic stops being tracked
	lastUsed time.Time   // guarded by Metadata.mu
	waiters  int         // guarded by Metadata.mu: WaitForTopic calls in progress; the topic cannot expire
}

// New returns a Metadata that fetches through f. It does nothing until
// Start. It does not block.
func New(cfg Config, f Fetcher) *Metadata {
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.MaxIdle <= 0 {
		cfg.MaxIdle = DefaultMaxIdle
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	if cfg.RetryBackoffMax <= 0 {
		cfg.RetryBackoffMax = DefaultRetryBackoffMax
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RebootstrapTrigger <= 0 {
		cfg.RebootstrapTrigger = DefaultRebootstrapTrigger
	}
	if ra, ok := f.(recoveryAware); ok {
		ra.setRecovery(cfg.Recovery, cfg.Logger)
	}
	m := &Metadata{
		cfg:     cfg,
		log:     cfg.Logger,
		fetcher: f,
		changed: make(chan struct{}),
		want:    true, // learn the cluster at once
		wake:    make(chan struct{}, 1),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),

		logEvery: 30 * time.Second,
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.snap.Store(emptySnapshot)
	m.tracked.Store(&map[string]*topicUse{})
	return m
}

// Start starts the refresher goroutine. Later calls, and calls after Close,
// do nothing. It does not block.
func (m *Metadata) Start() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started || m.closed {
		return
	}
	m.started = true
	go m.run()
}

// Close stops the refresher, cancelling a fetch in progress, and waits for
// it to exit; WaitForTopic calls in progress and later fail with ErrClosed.
// It does not close the Fetcher (or its pool), which the caller owns. It is
// safe for concurrent use and idempotent.
func (m *Metadata) Close() {
	m.mu.Lock()
	if !m.closed {
		m.closed = true
		close(m.quit)
		m.cancel()
		m.notifyLocked()
	}
	started := m.started
	m.mu.Unlock()
	if started {
		<-m.done
	}
}

// Snapshot returns the current snapshot, which is never nil and never
// modified. It does not block or allocate.
func (m *Metadata) Snapshot() *Snapshot { return m.snap.Load() }

// Use returns the topic's metadata from the current snapshot, or nil, and
// marks the topic in use as Touch does, with a single map lookup. It is the
// Send path's call. It does not block and does not allocate.
func (m *Metadata) Use(topic string) *Topic {
	t := m.snap.Load().Topics[topic]
	if t == nil {
		return nil
	}
	if u := t.use.Load(); u != nil && !u.dropped.Load() {
		if !u.used.Load() {
			u.used.Store(true)
		}
		return t
	}
	m.Touch(topic)
	return t
}

// Touch marks a topic as in use so that it is not dropped after MaxIdle.
// It is meant to be called on every send: for a tracked topic it is a map
// lookup and, at most once per refresh, an atomic store, with no lock and
// no allocation. A topic that is neither tracked nor in the snapshot is
// ignored (WaitForTopic starts tracking it). It does not block.
func (m *Metadata) Touch(topic string) {
	if u := (*m.tracked.Load())[topic]; u != nil {
		if !u.used.Load() {
			u.used.Store(true)
		}
		return
	}
	if m.snap.Load().Topics[topic] != nil {
		// Dropped from tracking but still in the snapshot: track it again.
		m.mu.Lock()
		m.trackLocked(topic)
		m.mu.Unlock()
	}
}

// trackLocked returns the topic's tracking entry, creating it (and asking
// for an urgent refresh) if the topic is new.
func (m *Metadata) trackLocked(topic string) *topicUse {
	cur := *m.tracked.Load()
	if u := cur[topic]; u != nil {
		return u
	}
	u := &topicUse{lastUsed: time.Now()}
	u.used.Store(true)
	next := maps.Clone(cur)
	next[topic] = u
	m.tracked.Store(&next)
	if t := m.snap.Load().Topics[topic]; t != nil {
		t.use.Store(u)
	}
	m.want, m.urgent = true, true
	m.poke()
	return u
}

// WaitForTopic returns the topic's metadata once it has partitions,
// tracking the topic and requesting a refresh if it is not known. It blocks
// until then or until ctx ends, and then returns a *WaitError matching
// ErrUnknownTopic and ctx's error (and the last error seen for the topic or
// the last fetch error, if any). After Close it returns ErrClosed. A
// non-retriable error for the
// topic, such as TOPIC_AUTHORIZATION_FAILED or INVALID_TOPIC_EXCEPTION, is
// returned at once as a *TopicError, and so is a last fetch error matching
// conn.ErrAuthentication (SASL refused, TLS trust failed). It is safe for
// concurrent use.
func (m *Metadata) WaitForTopic(ctx context.Context, topic string) (*Topic, error) {
	if t := m.snap.Load().Topics[topic]; t != nil && len(t.Partitions) > 0 {
		m.Touch(topic)
		return t, nil
	}
	start := time.Now()
	m.mu.Lock()
	u := m.trackLocked(topic)
	u.waiters++
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		u.waiters--
		u.used.Store(true)
		m.mu.Unlock()
	}()

	for {
		m.mu.Lock()
		changed, closed, lastErr := m.changed, m.closed, m.lastErr
		m.mu.Unlock()
		if closed {
			return nil, ErrClosed
		}
		// Load after taking changed: a publication after this point
		// closes the channel we wait on.
		t := m.snap.Load().Topics[topic]
		switch {
		case t == nil:
		case len(t.Partitions) > 0:
			return t, nil
		case t.Err != nil && !protocol.IsRetriable(t.Err):
			m.RequestUpdate() // so that a fix (say, a new ACL) is seen soon
			return nil, &TopicError{Topic: topic, Err: t.Err}
		}
		if errors.Is(lastErr, conn.ErrAuthentication) {
			// Refused credentials or an untrusted certificate: waiting
			// will not help (Java's AuthenticationException).
			m.RequestUpdate()
			return nil, &TopicError{Topic: topic, Err: lastErr}
		}
		m.RequestUpdate()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, m.timeoutError(topic, t, lastErr, ctx.Err(), time.Since(start))
		}
	}
}

// timeoutError builds WaitForTopic's error for a wait that ran out.
func (m *Metadata) timeoutError(topic string, t *Topic, fetchErr, ctxErr error, waited time.Duration) error {
	last := fetchErr
	if t != nil && t.Err != nil {
		last = t.Err
	}
	if last == nil {
		if sr, ok := m.fetcher.(stallReporter); ok {
			if se := sr.stalled(time.Now()); se != nil {
				last = se
			}
		}
	}
	return &WaitError{Topic: topic, Waited: waited, Last: last, Ctx: ctxErr}
}

// stallReporter is implemented by fetchers that can say which broker a
// fetch in progress is waiting on (*PoolFetcher).
type stallReporter interface {
	stalled(now time.Time) *SilentBrokerError
}

// RequestUpdate asks for a refresh soon. Requests coalesce: any number made
// before a refresh starts cause one refresh. Backoff after failed
// refreshes still applies. It does not block.
func (m *Metadata) RequestUpdate() {
	m.mu.Lock()
	m.want = true
	m.mu.Unlock()
	m.poke()
}

// poke wakes the refresher without blocking.
func (m *Metadata) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Age returns the time since the last successful refresh, or a very large
// duration if there has been none. It does not block.
func (m *Metadata) Age() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return time.Since(m.lastSuccess)
}

// notifyLocked wakes every WaitForTopic.
func (m *Metadata) notifyLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// publishLocked makes s the current snapshot and wakes waiters.
func (m *Metadata) publishLocked(s *Snapshot) {
	tracked := *m.tracked.Load()
	for name, t := range s.Topics {
		if u := tracked[name]; u != nil && t.use.Load() != u {
			t.use.Store(u)
		}
	}
	m.snap.Store(s)
	m.notifyLocked()
}

// errClosing tells whether a fetch error is only Close cancelling it.
func (m *Metadata) errClosing(err error) bool {
	return errors.Is(err, context.Canceled) && m.ctx.Err() != nil
}
