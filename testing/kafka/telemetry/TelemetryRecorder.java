// TelemetryRecorder is a Kafka broker plug-in for Tributary's KIP-714 tests
// (producer/realkafka_telemetry_test.go): a metric.reporters class that is
// also the broker's client-telemetry receiver. It decodes every pushed
// OTLP payload with the protobuf classes bundled in kafka-clients and
// appends what it received, one line per push and per metric, to the file
// named by the broker property tributary.telemetry.file:
//
//   push <client instance id> terminating=<bool> type=<content type> client=<client id> software=<name>/<version>
//   metric <name> <gauge|delta|cumulative> <value> <attr>=<value>...
//
// (a sum is named by its aggregation temporality)
//   end
//
// The test compiles it with javac against the broker's own jars and puts it
// on the broker's class path (kafkatest.Options.ClassPath).
package tributary.test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.metrics.MetricsReporter;
import org.apache.kafka.server.authorizer.AuthorizableRequestContext;
import org.apache.kafka.server.telemetry.ClientTelemetry;
import org.apache.kafka.server.telemetry.ClientTelemetryPayload;
import org.apache.kafka.server.telemetry.ClientTelemetryReceiver;
import org.apache.kafka.shaded.io.opentelemetry.proto.common.v1.KeyValue;
import org.apache.kafka.shaded.io.opentelemetry.proto.metrics.v1.Metric;
import org.apache.kafka.shaded.io.opentelemetry.proto.metrics.v1.MetricsData;
import org.apache.kafka.shaded.io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import org.apache.kafka.shaded.io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import org.apache.kafka.shaded.io.opentelemetry.proto.metrics.v1.ScopeMetrics;

public class TelemetryRecorder implements MetricsReporter, ClientTelemetry {
    private Path out;

    @Override
    public synchronized void configure(Map<String, ?> configs) {
        Object file = configs.get("tributary.telemetry.file");
        if (file != null) {
            out = Paths.get(file.toString());
        }
    }

    @Override
    public void init(List<KafkaMetric> metrics) {}

    @Override
    public void metricChange(KafkaMetric metric) {}

    @Override
    public void metricRemoval(KafkaMetric metric) {}

    @Override
    public void close() {}

    @Override
    public ClientTelemetryReceiver clientReceiver() {
        return this::record;
    }

    private synchronized void record(AuthorizableRequestContext ctx, ClientTelemetryPayload payload) {
        StringBuilder b = new StringBuilder();
        b.append("push ").append(payload.clientInstanceId())
            .append(" terminating=").append(payload.isTerminating())
            .append(" type=").append(payload.contentType())
            .append(" client=").append(ctx.clientId()).append('\n');
        try {
            MetricsData data = MetricsData.parseFrom(payload.data());
            for (ResourceMetrics rm : data.getResourceMetricsList()) {
                for (ScopeMetrics sm : rm.getScopeMetricsList()) {
                    for (Metric m : sm.getMetricsList()) {
                        List<NumberDataPoint> points;
                        String kind;
                        if (m.hasGauge()) {
                            kind = "gauge";
                            points = m.getGauge().getDataPointsList();
                        } else if (m.hasSum()) {
                            kind = m.getSum().getAggregationTemporalityValue() == 1 ? "delta" : "cumulative";
                            points = m.getSum().getDataPointsList();
                        } else {
                            kind = "other";
                            points = List.of();
                        }
                        for (NumberDataPoint p : points) {
                            b.append("metric ").append(m.getName()).append(' ').append(kind).append(' ').append(p.getAsDouble());
                            for (KeyValue kv : p.getAttributesList()) {
                                b.append(' ').append(kv.getKey()).append('=').append(kv.getValue().getStringValue());
                            }
                            b.append('\n');
                        }
                    }
                }
            }
        } catch (Exception e) {
            b.append("error ").append(e).append('\n');
        }
        b.append("end\n");
        if (out == null) {
            return;
        }
        try {
            Files.write(out, b.toString().getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }
}
