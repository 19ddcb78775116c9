package metadata

// Re-bootstrap (KIP-899, KIP-1102). A producer that only ever asks the
// brokers named by its last Metadata response is stranded when the whole
// cluster moves: every known broker is gone, yet the bootstrap addresses
// (a DNS name, a load balancer) already lead to the new brokers. With
// metadata.recovery.strategy=rebootstrap, the default since Kafka 4.0, the
// client then forgets the brokers it knows and starts again from the
// bootstrap addresses, as Java's NetworkClient does on three triggers:
//
//   - no known broker is usable: each one is in reconnect backoff after a
//     failed connection (DefaultMetadataUpdater.maybeUpdate when
//     leastLoadedNode has no node available, KIP-899). The PoolFetcher
//     checks this on every pick.
//   - metadata could not be fetched from anyone for
//     metadata.recovery.rebootstrap.trigger.ms, counted from the first
//     attempt after the last success (Metadata.needsRebootstrap, KIP-1102):
//     this catches brokers that accept connections but never answer. The
//     refresher bounds each fetch by the time left, so a silent broker
//     cannot hold the re-bootstrap back for a whole request.timeout.ms.
//   - a broker answers Metadata (v13+) with the top-level error
//     REBOOTSTRAP_REQUIRED (KIP-1102): its cluster no longer matches what
//     the client knows.
//
// Re-bootstrapping drops the known brokers from the fetcher and closes
// every connection to them and to the bootstrap addresses, so that the
// next dial resolves the bootstrap names again (the pool dials host:port,
// resolving DNS each time). The snapshot is kept until the next answer
// replaces it: the sender can go on with the leaders it knows if they come
// back, and the answer from the new cluster carries other topic ids, so
// its (possibly lower) leader epochs are accepted. With
// metadata.recovery.strategy=none none of this happens: once brokers are
// known, only they are asked.

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tributary-go/tributary/internal/conn"
)

// RecoveryStrategy is metadata.recovery.strategy: what to do when no
// known broker can be reached.
type RecoveryStrategy uint8

const (
	// RecoveryRebootstrap goes back to the bootstrap addresses (Java's
	// default, "rebootstrap").
	RecoveryRebootstrap RecoveryStrategy = iota
	// RecoveryNone keeps asking the known brokers ("none").
	RecoveryNone
)

// DefaultRebootstrapTrigger is metadata.recovery.rebootstrap.trigger.ms's
// default.
const DefaultRebootstrapTrigger = 5 * time.Minute

// String returns the property value: "rebootstrap" or "none".
func (s RecoveryStrategy) String() string {
	switch s {
	case RecoveryRebootstrap:
		return "rebootstrap"
	case RecoveryNone:
		return "none"
	}
	return fmt.Sprintf("RecoveryStrategy(%d)", uint8(s))
}

// ParseRecoveryStrategy parses a metadata.recovery.strategy value, case
// insensitively as Java does.
func ParseRecoveryStrategy(v string) (RecoveryStrategy, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "rebootstrap":
		return RecoveryRebootstrap, nil
	case "none":
		return RecoveryNone, nil
	}
	return 0, fmt.Errorf("metadata: metadata.recovery.strategy %q is not one of none, rebootstrap", v)
}

// Rebootstrapper is implemented by a Fetcher that can go back to its
// bootstrap addresses (*PoolFetcher does). The Metadata calls Rebootstrap
// from its refresher when the trigger time passed or a broker answered
// REBOOTSTRAP_REQUIRED; implementations must be safe for concurrent use.
type Rebootstrapper interface {
	Rebootstrap(reason string)
}

// recoveryAware is implemented by fetchers whose own choice of broker
// depends on the strategy (*PoolFetcher falls back to the bootstrap
// addresses only under RecoveryRebootstrap). New tells them.
type recoveryAware interface {
	setRecovery(s RecoveryStrategy, log *slog.Logger)
}

var (
	_ Rebootstrapper = (*PoolFetcher)(nil)
	_ recoveryAware  = (*PoolFetcher)(nil)
)

func (f *PoolFetcher) setRecovery(s RecoveryStrategy, log *slog.Logger) {
	f.mu.Lock()
	f.recovery, f.logger = s, log
	f.mu.Unlock()
}

// log returns the logger New gave, or one that discards.
func (f *PoolFetcher) log() *slog.Logger {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.logger
}

// Rebootstrap implements Rebootstrapper: it forgets the known brokers and
// closes the pool's connections to them and to the bootstrap addresses
// (failing their pending requests, which the callers retry), so the next
// Fetch dials a bootstrap address afresh. It does not block.
func (f *PoolFetcher) Rebootstrap(reason string) {
	f.mu.Lock()
	known := f.brokers
	f.brokers = nil
	f.rebootstraps++
	f.mu.Unlock()
	f.log().Info("metadata: re-bootstrapping", "reason", reason, "dropped_brokers", len(known), "bootstrap", f.bootstrap)
	for _, b := range known {
		f.pool.CloseNode(b.NodeID)
	}
	for i := range f.bootstrap {
		f.pool.CloseNode(conn.BootstrapID(i))
	}
}

// Rebootstraps returns how many times the fetcher went back to its
// bootstrap addresses after knowing brokers. It does not block.
func (f *PoolFetcher) Rebootstraps() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rebootstraps
}
