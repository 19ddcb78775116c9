// Package chaos breaks a kfake cluster on purpose, for the fault-injection
// tests and the soak: it moves leaders, injects produce errors (some after
// the append, so only idempotence prevents duplicates), closes connections
// instead of answering, swallows requests, and takes brokers away and back.
// Test and tooling code only; the library never imports it.
package chaos
