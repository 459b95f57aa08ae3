import Metrics
import Prometheus
import Synchronization

/// Airlock's swift-metrics backend: swift-prometheus's ``PrometheusCollectorRegistry`` (the maintained Prometheus
/// backend of swift-server), with the help texts, scrape-time collectors and histogram buckets Airlock sets.
///
/// Counters and floating-point counters are `counter`s, meters and non-aggregating recorders are `gauge`s, timers
/// (exposed in seconds) and aggregating recorders are `histogram`s with fixed buckets. Names and labels are Airlock's
/// own (swift-prometheus keeps them as given when they are valid Prometheus names, which all of Airlock's are).
/// Gauges are rendered as floating point numbers (`airlock_client_connections 0.0`), counters as integers.
///
/// swift-prometheus stops the process when one family is registered with two help texts: a family's help is fixed
/// when its first metric is made (`setHelp` before that; later calls for it are ignored), so that cannot happen.
public final class PrometheusRegistry: MetricsFactory, Sendable {
    /// Upper bounds (seconds) of timer histogram buckets.
    public static let latencyBuckets: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    ]

    private struct Help {
        var texts: [String: String] = [:]
        /// Families with a metric already: their help can no longer change.
        var fixed: Set<String> = []
    }

    private let registry = PrometheusCollectorRegistry()
    private let help = Mutex(Help())
    private let collectors = Mutex<[@Sendable () -> Void]>([])
    private let valueBuckets: [Double]
    private let timerBuckets: [Duration]

    public init(histogramBuckets: [Double] = PrometheusRegistry.latencyBuckets) {
        self.valueBuckets = histogramBuckets
        self.timerBuckets = Self.latencyBuckets.map { .nanoseconds(Int64(($0 * 1e9).rounded())) }
    }

    /// Sets the `# HELP` line of a metric family; call it before the family's first metric is made.
    public func setHelp(_ text: String, for name: String) {
        self.help.withLock { help in
            if !help.fixed.contains(name) { help.texts[name] = text }
        }
    }

    /// The family's name and help, fixing its help.
    private func descriptor(_ name: String) -> MetricNameDescriptor {
        let text = self.help.withLock { help in
            help.fixed.insert(name)
            return help.texts[name] ?? ""
        }
        return MetricNameDescriptor(metricName: name, unitName: "", helpText: text)
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> CounterHandler {
        self.registry.makeCounter(descriptor: self.descriptor(label), labels: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> FloatingPointCounterHandler {
        self.registry.makeCounter(descriptor: self.descriptor(label), labels: dimensions)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> MeterHandler {
        self.registry.makeGauge(descriptor: self.descriptor(label), labels: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> RecorderHandler {
        guard aggregate else { return self.registry.makeGauge(descriptor: self.descriptor(label), labels: dimensions) }
        return self.registry.makeValueHistogram(
            descriptor: self.descriptor(label),
            labels: dimensions,
            buckets: self.valueBuckets
        )
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> TimerHandler {
        self.registry.makeDurationHistogram(
            descriptor: self.descriptor(label),
            labels: dimensions,
            buckets: self.timerBuckets
        )
    }

    // Airlock's metrics live as long as the process: nothing is unregistered.
    public func destroyCounter(_ handler: CounterHandler) {}
    public func destroyFloatingPointCounter(_ handler: FloatingPointCounterHandler) {}
    public func destroyMeter(_ handler: MeterHandler) {}
    public func destroyRecorder(_ handler: RecorderHandler) {}
    public func destroyTimer(_ handler: TimerHandler) {}

    /// Runs `collect` before every render: it brings metrics kept up to date elsewhere (a component with counters
    /// of its own, the process's memory and CPU) into this registry. It must be quick and must not block.
    public func addCollector(_ collect: @escaping @Sendable () -> Void) {
        self.collectors.withLock { $0.append(collect) }
    }

    /// The exposition text for `GET /metrics` (`text/plain; version=0.0.4`).
    public func render() -> String {
        for collect in self.collectors.withLock({ $0 }) { collect() }
        return self.registry.emitToString()
    }
}
