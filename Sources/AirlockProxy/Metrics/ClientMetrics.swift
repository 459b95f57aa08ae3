import Metrics

/// `airlock_client_requests_total{client, vendor, result}` when `clients:` is configured. Label values are the
/// configured client names (or `none` for an unauthenticated request) and vendor names: bounded by the
/// configuration, never taken from a request.
final class ClientMetrics: Sendable {
    enum Result: String {
        case forwarded
        case blocked
        case error
        case unauthenticated
        case notAllowed = "not_allowed"
    }

    private let registry: PrometheusRegistry
    private let vendorNames: [String]

    init(metrics: ProxyMetrics) {
        self.registry = metrics.registry
        self.vendorNames = metrics.vendorNames
        metrics.registry.setHelp(
            "Requests from the lab's named clients, by client, vendor and result (forwarded, blocked, error, "
                + "unauthenticated, not_allowed).",
            for: "airlock_client_requests_total"
        )
    }

    func count(client: String?, vendorIndex: Int, result: Result) {
        Counter(
            label: "airlock_client_requests_total",
            dimensions: [
                ("client", client ?? "none"),
                ("vendor", self.vendorNames[min(vendorIndex, self.vendorNames.count - 1)]),
                ("result", result.rawValue),
            ],
            factory: self.registry
        ).increment()
    }
}
