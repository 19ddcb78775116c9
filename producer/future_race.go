//go:build race

package producer

// perP is false under the race detector: see future_pin.go.
const perP = false

func procPin() int { return 0 }
func procUnpin()   {}
