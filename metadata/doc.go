// Package metadata keeps the producer's view of the Kafka cluster: which
// brokers exist and which broker leads each partition of the topics in use.
//
// # Place in the data flow
//
// producer → partitioner → accumulator → sender → protocol, with metadata
// beside them. The producer calls [Metadata.Touch] on every send and
// [Metadata.WaitForTopic] when a topic is not yet known; the partitioner
// reads [Topic.Available]; the sender reads [Snapshot.Leader] to route
// batches, calls [Metadata.RequestUpdate] after retriable errors such as
// NOT_LEADER_OR_FOLLOWER, and applies Produce leader hints with
// [Metadata.UpdateLeader]. Requests go out through a [Fetcher], by default
// a [PoolFetcher] over an internal/conn pool.
//
// # Behaviour
//
// It follows the Java producer's metadata (ProducerMetadata):
//
//   - topics are fetched only while in use, and dropped after
//     metadata.max.idle.ms ([Config.MaxIdle]) without use;
//   - metadata is refreshed on demand (requests coalesce), at least every
//     metadata.max.age.ms ([Config.MaxAge]), and again soon while answers
//     carry retriable errors, with exponential retry backoff after failures;
//   - a topic unknown to the cluster (UNKNOWN_TOPIC_OR_PARTITION, auto
//     creation off) is waited for until the caller's deadline, then reported
//     as a [*WaitError] matching [ErrUnknownTopic] and carrying the last
//     cause (a [*SilentBrokerError] when a fetch is still unanswered); a
//     non-retriable topic error such as TOPIC_AUTHORIZATION_FAILED, or a
//     refused authentication, is reported at once as a [*TopicError];
//     after Close the wait fails with [ErrClosed];
//   - leader epochs never go backwards: partition data with an older epoch
//     than already known is ignored, whether it comes from a Metadata
//     response or a Produce leader hint;
//   - when the known brokers are gone (all in reconnect backoff, no
//     metadata for metadata.recovery.rebootstrap.trigger.ms, or a broker
//     answers REBOOTSTRAP_REQUIRED) it re-bootstraps: it forgets them and
//     starts again from the bootstrap addresses, resolving them anew
//     ([Config.Recovery], [RecoveryRebootstrap], KIP-899 and KIP-1102).
//
// # Concurrency
//
// [Metadata] is safe for concurrent use and owns one refresher goroutine,
// started by [Metadata.Start] and stopped by [Metadata.Close]. Readers get
// an immutable [Snapshot] with one atomic load, without locks or
// allocation; every change publishes a new Snapshot. Touch takes no lock in
// steady state. WaitForTopic blocks until the topic is known or its context
// ends.
//
//	pool := conn.NewPool(&conn.Config{ClientID: "app"}, nil)
//	defer pool.Close()
//	md := metadata.New(metadata.Config{AllowAutoTopicCreation: true},
//		metadata.NewPoolFetcher(pool, []string{"localhost:9092"}))
//	md.Start()
//	defer md.Close()
//	t, err := md.WaitForTopic(ctx, "events")
//	if err != nil {
//		return err
//	}
//	leader, ok := md.Snapshot().Leader("events", t.Available[0])
package metadata
