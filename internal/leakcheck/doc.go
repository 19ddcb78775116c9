// Package leakcheck fails a test that leaves goroutines behind. Tests of
// every package that starts goroutines (connections, metadata, the sender,
// the producer) use it to prove that Close stops everything it started.
package leakcheck
