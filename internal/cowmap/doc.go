// Package cowmap is a copy-on-write map from topic names to per-topic
// state, for lookups on the Send path.
//
// Each key is written once and then read on every send by many goroutines.
// A Load is one atomic pointer load and one built-in map lookup with the
// string hash the compiler specialises: about half the cost of sync.Map's
// interface-keyed Load, and no lock. Writes clone the map, which is fine for
// the handful of topics a producer writes to; entries are never removed.
package cowmap
