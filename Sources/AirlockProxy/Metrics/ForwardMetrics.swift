import Metrics

/// The forward listener's CONNECTs, `airlock_forward_connects_total{result}`: `intercepted`, `tunneled`, or the code
/// of the refusal (`host_not_listed`, `proxy_authentication_required`, ...). Label values come from Airlock's own
/// fixed set, never from a request (the host asked for is not a label). And
/// `airlock_forward_certificates_minted_total`: leaves minted for intercepted hosts (cache misses and renewals).
final class ForwardMetrics: Sendable {
    private let registry: PrometheusRegistry
    private let minted: Counter

    init(registry: PrometheusRegistry) {
        self.registry = registry
        registry.setHelp(
            "CONNECT requests to the forward listener by result (intercepted, tunneled, or the refusal's code).",
            for: "airlock_forward_connects_total"
        )
        registry.setHelp(
            "Leaf certificates minted for intercepted hosts (first use of a host, and renewals).",
            for: "airlock_forward_certificates_minted_total"
        )
        self.minted = Counter(label: "airlock_forward_certificates_minted_total", factory: registry)
    }

    func countConnect(result: String) {
        Counter(label: "airlock_forward_connects_total", dimensions: [("result", result)], factory: self.registry)
            .increment()
    }

    func countMinted(_ count: Int) {
        if count > 0 { self.minted.increment(by: count) }
    }
}
