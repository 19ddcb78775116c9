// Package tcpforward is a small retargetable TCP forwarder for tests: it
// listens on a loopback port and copies every accepted connection to the
// current target address. Pointing a client's bootstrap address at a
// Forwarder and retargeting it stands in for a DNS name or load balancer
// that moves to a new cluster (re-bootstrap tests, KIP-899/KIP-1102).
//
// # Concurrency
//
// A [Forwarder] is safe for concurrent use. It owns one accept goroutine
// and two copy goroutines per connection; [Forwarder.Close] stops them all
// and waits for them.
//
//	fw, err := tcpforward.New(clusterA)
//	// bootstrap.servers = fw.Addr()
//	fw.Retarget(clusterB) // new connections go to B
//	fw.DropAll()          // and the old ones end
//	defer fw.Close()
package tcpforward
