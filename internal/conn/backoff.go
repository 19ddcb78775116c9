package conn

import (
	"math/rand/v2"
	"time"
)

// backoffJitter is Kafka's CommonClientConfigs.RETRY_BACKOFF_JITTER.
const backoffJitter = 0.2

// Backoff returns how long to wait before retry number attempt (0 for the
// first retry) with Kafka's exponential backoff: base·2^attempt, never more
// than max, scaled by a random factor in [0.8, 1.2) and capped at max again.
// This is the schedule of reconnect.backoff.ms and retry.backoff.ms
// (KIP-144, KIP-580). A base of zero or less disables backoff. It is safe for
// concurrent use and does not block.
func Backoff(attempt int, base, max time.Duration) time.Duration {
	if base <= 0 {
		return 0
	}
	if max < base {
		max = base
	}
	d := base
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	j := 1 + backoffJitter*(2*rand.Float64()-1)
	return min(time.Duration(float64(d)*j), max)
}
