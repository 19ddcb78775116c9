package conn

import (
	"testing"
	"time"
)

// TestBackoffNeverExceedsMax: the schedule doubles from base, jitter stays
// within ±20% of the step, and no value, jitter included, exceeds max; a
// max below base means a constant base (KIP-580), and base ≤ 0 no backoff.
func TestBackoffNeverExceedsMax(t *testing.T) {
	cases := []struct{ base, max time.Duration }{
		{100 * time.Millisecond, time.Second},
		{50 * time.Millisecond, 1000 * time.Millisecond},
		{time.Second, time.Second},
		{300 * time.Millisecond, 100 * time.Millisecond}, // max below base
	}
	for _, c := range cases {
		limit := max(c.max, c.base)
		for attempt := range 20 {
			step := c.base
			for range attempt {
				if step >= limit {
					break
				}
				step *= 2
			}
			step = min(step, limit)
			lo := time.Duration(float64(step) * (1 - backoffJitter))
			for range 2000 {
				d := Backoff(attempt, c.base, c.max)
				if d > limit {
					t.Fatalf("Backoff(%d, %v, %v) = %v, above the maximum", attempt, c.base, c.max, d)
				}
				if d < lo {
					t.Fatalf("Backoff(%d, %v, %v) = %v, below %v (step %v less 20%%)", attempt, c.base, c.max, d, lo, step)
				}
			}
		}
	}
	if d := Backoff(3, 0, time.Second); d != 0 {
		t.Fatalf("Backoff with base 0 = %v, want 0", d)
	}
}
