import Prometheus

/// Replication's numbers in Prometheus's text format (served on `/metrics`): per destination
/// the undelivered events, the lag in seconds, the repositories whose delivery is failing,
/// whether the last attempt succeeded, and the events delivered by this process.
public final class ReplicationMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()

    /// An empty set of metrics.
    public init() {}

    /// Counts one event delivered to `destination`.
    func delivered(to destination: String) {
        registry.makeCounter(name: "berth_replication_delivered_events_total", labels: [("destination", destination)],
                             help: "Events delivered to the destination by this process.").increment()
    }

    /// The text exposition of the metrics, with the gauges set from `statuses`.
    public func render(_ statuses: [ReplicationStatus]) -> [UInt8] {
        for status in statuses {
            let labels = [("destination", status.name)]
            registry.makeGauge(name: "berth_replication_pending_events", labels: labels, help: "Events not yet delivered to the destination.")
                .set(Double(status.pendingEvents))
            registry.makeGauge(name: "berth_replication_lag_seconds", labels: labels, help: "Age of the oldest event not yet delivered.")
                .set(status.lagSeconds)
            registry.makeGauge(name: "berth_replication_failing_repositories", labels: labels, help: "Repositories whose last delivery failed.")
                .set(Double(status.failingRepositories))
            registry.makeGauge(name: "berth_replication_healthy", labels: labels, help: "1 when the destination's last attempts succeeded, else 0.")
                .set(status.lastError == nil ? 1.0 : 0.0)
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
