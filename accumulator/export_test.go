package accumulator

// Visits returns how many times the sender's side looked at a deque under
// its lock since the accumulator was made (ready.go): the figure that must
// follow what is ready, not how many partitions exist.
func (a *Accumulator) Visits() uint64 {
	a.smu.Lock()
	defer a.smu.Unlock()
	return a.visits
}
