// Package toxi puts a toxiproxy (github.com/Shopify/toxiproxy/v2, run in
// this process) in front of the PLAINTEXT client listener of every node of
// a real Kafka cluster from internal/kafkatest, so that tests can make the
// network between a client and one broker slow, silent or broken while
// replication and the KRaft quorum stay direct.
//
// It is test support only: nothing in the library imports it, and only
// _test.go files import it, so toxiproxy never enters a non-test build.
//
// # How it is wired
//
// [Start] starts the cluster with [kafkatest.Options.Advertise] set: for
// each node it starts a proxy on a free loopback port whose upstream is the
// node's client listener, and the node advertises the proxy's address. A
// client that bootstraps from [Cluster.Bootstrap] therefore reaches every
// broker, for bootstrap, metadata and produce, through its proxy. The
// SASL_SSL listener stays direct.
//
//	c, err := toxi.Start(ctx, kafkatest.Options{})
//	defer c.Stop()
//	c.BlackHole(1)     // node 1's proxy swallows bytes both ways
//	defer c.Heal(1)    // and passes them again
//
// # Toxics
//
// [Cluster.Add] adds any toxiproxy toxic (latency, bandwidth, timeout,
// reset_peer, limit_data, slicer, slow_close) to a node's proxy, in one
// direction: "downstream" is broker to client, "upstream" client to
// broker. A toxic applies to the connections already open and to new ones.
// Removing a timeout toxic closes the connections it held (toxiproxy's
// TimeoutToxic.Cleanup), so a client sees its connections to a black-holed
// broker close once the hole lifts, if it has not dropped them before.
//
// # Concurrency
//
// A [Cluster]'s methods are safe for concurrent use. Start and Stop block
// until the cluster is up or gone.
package toxi
