// Package clock provides the coarse wall clock of the Send path.
//
// Every record needs a timestamp, and reading the system clock costs 20 to
// 100 ns depending on the machine's clock source — on some virtual machines
// more than everything else Send does. Kafka timestamps have millisecond
// resolution, so a Coarse clock keeps the current Unix millisecond in an
// atomic, refreshed by one goroutine every millisecond, and Send reads that.
//
// The goroutine only ticks while the clock is read: after a quiet spell it
// parks, and the next reader sees the parked flag, wakes it and reads the
// system clock itself, so a stale value is never returned and an idle
// producer costs no wake-ups.
package clock
