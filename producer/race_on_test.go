//go:build race

package producer

// raceEnabled is true under the race detector, which makes sync.Pool drop
// a quarter of what is put into it, so pool-based allocation counts only
// hold without it.
const raceEnabled = true
