// Package kafkatest runs real Apache Kafka clusters for Tributary's tests:
// the brokers users run, where kfake and internal/fakebroker are
// re-implementations. It is test support only; nothing in the library
// imports it.
//
// # What it starts
//
// [Start] fetches Kafka from Maven Central (once per version, see [Fetch]
// and testing/kafka/pom.xml), formats and starts a 3-node KRaft cluster of
// combined broker+controller JVMs on free loopback ports, and returns once
// every node is registered and a replicated topic accepts an acks=all
// write. Each node has four listeners:
//
//   - CLIENT (PLAINTEXT) for clients: [Cluster.Bootstrap]. Connections act
//     as User:ANONYMOUS, a super user.
//   - SASL_SSL for clients: [Cluster.SASLBootstrap], with PLAIN,
//     SCRAM-SHA-256 and SCRAM-SHA-512 for the users [Admin] (a super
//     user), [Alice] and [Bob] (no ACLs until a test grants them), and a
//     certificate signed by a CA made at start ([Cluster.CAFile],
//     [Cluster.CAPEM]).
//   - INTERNAL (PLAINTEXT) for replication and CONTROLLER for the quorum,
//     always direct, so [Options.Advertise] can put a proxy in front of
//     the client listeners alone.
//
// Topics and internal topics have replication factor 3 and
// min.insync.replicas 2; ACLs go through StandardAuthorizer; auto topic
// creation is on. Each node logs to its own file ([Node.LogFile]); on
// failure a test prints the paths and the last lines.
//
// # Which cluster a test gets
//
// [Shared] returns the suite's cluster: the one `make test` started
// (testing/kafka/with-cluster.sh runs cmd/kafkacluster and sets
// TRIBUTARY_KAFKA_STATE), else one the test binary starts on first use
// and [Main] stops. Without java it skips, unless CI or
// TRIBUTARY_REQUIRE_KAFKA=1 is set: then it fails, so CI cannot pass by
// skipping. [StartT] gives a test a cluster of its own, to kill
// ([Cluster.Kill], SIGKILL), terminate ([Cluster.Terminate], controlled
// shutdown) and restart ([Cluster.Restart]) nodes of.
//
//	func TestMain(m *testing.M) { os.Exit(kafkatest.Main(m)) }
//
//	func TestKafkaSomething(t *testing.T) {
//		c := kafkatest.Shared(t)
//		// produce to c.Bootstrap() with Tributary, then read back with Kafka's own consumer:
//		recs, err := c.ConsoleConsume(ctx, "topic", kafkatest.ConsumeOptions{Max: n})
//	}
//
// # Reading back
//
// Verdicts rest on Apache Kafka's own tools: [Cluster.ConsoleConsume]
// (org.apache.kafka.tools.consumer.ConsoleConsumer, parsed into
// [Consumed] records), [Cluster.DumpLogSegments] (codec and producer id
// per batch) and [Cluster.RunTool] for any other tool class. Each run is a
// JVM start-up of a few seconds, so a test reads its records with one run.
// [Cluster.Admin] and [Cluster.CreateTopic] use franz-go's kadm for fast
// administration.
//
// # Cleaning up
//
// JVMs started by a test process get SIGKILL when that process dies
// (Linux Pdeathsig), so an interrupted or crashed test leaves no broker
// behind; t.Cleanup and [Main] stop them in the ordinary case. Clusters
// started with [Options.Detach] (make kafka-up, make test) outlive the
// starter and are stopped with `kafkacluster down` (make kafka-down, or
// with-cluster.sh's trap).
//
// # Concurrency
//
// A [Cluster]'s methods are safe for concurrent use; those that start or
// stop nodes or run tools block until done. Tests sharing a cluster should
// use topics of their own.
package kafkatest
