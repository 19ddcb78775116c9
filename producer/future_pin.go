//go:build !race

package producer

import _ "unsafe" // go:linkname

// perP makes futureSource keep one slab per P. Send then claims a Future
// with a plain increment on its own P's slab instead of an atomic add on a
// cursor every sending goroutine shares: with goroutines on several cores
// sending at once, that cursor's cache line moved between cores on every
// Send. The race detector does not know that pinning orders the accesses
// of goroutines that run on one P, so -race builds use the shared slab
// (future_race.go).
const perP = true

// procPin disables preemption and returns the current P's id; procUnpin
// ends it. Both are the runtime's, as sync.Pool uses them; the runtime
// keeps them reachable by go:linkname (runtime/proc.go, go.dev/issue/67401).
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()
