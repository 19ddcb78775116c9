// Package telemetry is the client side of KIP-714 client metrics: it asks
// a broker which of the producer's metrics the cluster wants
// (GetTelemetrySubscriptions), then pushes them at the interval the broker
// names (PushTelemetry) as an OpenTelemetry (OTLP) MetricsData protobuf,
// compressed with a codec the broker accepts, and sends a last, terminating
// push when the producer closes. It mirrors Java's ClientTelemetryReporter
// (clients/.../common/telemetry/internals).
//
// # Place in the data flow
//
// It sits beside the sender, not in the record path: a [Reporter] has one
// goroutine of its own that borrows a control connection (the producer's
// least-loaded broker, as for Metadata) for each request and reads the
// producer's metrics through a [Config.Collect] function when a push is
// due. Nothing on the Send path knows it exists.
//
// # Staying quiet
//
// Most clusters have no telemetry receiver: their brokers do not list the
// two APIs in ApiVersions (Kafka 3.7+ lists them only when a receiver
// plug-in is configured), or answer with no requested metrics. The
// Reporter then makes no pushes. With no metrics requested it asks again
// after the broker's push interval, the re-check the KIP asks for. With
// the APIs not listed it sends nothing and arms no timer: it checks again
// only after a new connection was dialled (a broker lists its APIs once
// per connection) and at least five minutes (Java's
// DEFAULT_PUSH_INTERVAL_MS) after the last check, so an idle producer is
// never woken by telemetry and its connections still close after
// connections.max.idle.ms. Its first request waits for [Reporter.Ready]
// (a first dial), so that a producer that is never used contacts no
// broker.
//
// # Errors
//
// Broker errors are handled as Java's ClientTelemetryUtils does:
// UNKNOWN_SUBSCRIPTION_ID and UNSUPPORTED_COMPRESSION_TYPE fetch the
// subscription again at once; TELEMETRY_TOO_LARGE and
// THROTTLING_QUOTA_EXCEEDED fetch it again after the push interval;
// INVALID_REQUEST, INVALID_RECORD, UNSUPPORTED_VERSION and unknown codes
// disable telemetry for the producer's lifetime. A failed connection or
// request is retried after a backoff. Throttle times are honoured.
//
// # Concurrency
//
// A Reporter is safe for concurrent use. Its goroutine is started by
// [Reporter.Start] and has exited when [Reporter.Close] returns.
//
//	r := telemetry.New(telemetry.Config{Conn: conn, Collect: collect})
//	r.Start()
//	r.Ready() // once a broker connection exists
//	defer r.Close(ctx)
package telemetry
