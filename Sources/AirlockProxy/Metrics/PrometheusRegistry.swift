import Metrics
import Synchronization

/// A small swift-metrics backend that keeps values in atomics and renders them in the Prometheus text format (0.0.4).
///
/// Counters and floating-point counters are `counter`s, meters and non-aggregating recorders are `gauge`s, timers
/// (in seconds) and aggregating recorders are `histogram`s with fixed buckets. Creating a metric takes a lock (once per
/// label set: the same label and dimensions return the same storage); updating one is lock-free.
public final class PrometheusRegistry: MetricsFactory, Sendable {
    /// Upper bounds (seconds) of timer histogram buckets.
    public static let latencyBuckets: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    ]

    private struct Key: Hashable {
        var name: String
        var labels: String
    }

    private struct State {
        var entries: [Key: PrometheusMetric] = [:]
        var order: [Key] = []
        var help: [String: String] = [:]
    }

    private let state = Mutex(State())
    private let histogramBuckets: [Double]
    private let collectors = Mutex<[@Sendable () -> Void]>([])

    public init(histogramBuckets: [Double] = PrometheusRegistry.latencyBuckets) {
        self.histogramBuckets = histogramBuckets
    }

    /// Sets the `# HELP` line of a metric family.
    public func setHelp(_ text: String, for name: String) {
        self.state.withLock { $0.help[Self.sanitizeName(name)] = text }
    }

    private func metric(
        _ label: String,
        _ dimensions: [(String, String)],
        make: () -> PrometheusMetric
    )
        -> PrometheusMetric
    {
        let key = Key(name: Self.sanitizeName(label), labels: Self.renderLabels(dimensions))
        return self.state.withLock { state in
            if let existing = state.entries[key] { return existing }
            let created = make()
            state.entries[key] = created
            state.order.append(key)
            return created
        }
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> CounterHandler {
        self.metric(label, dimensions) { PrometheusCounter() } as! PrometheusCounter
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> FloatingPointCounterHandler {
        self.metric(label, dimensions) { PrometheusFloatingCounter() } as! PrometheusFloatingCounter
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> MeterHandler {
        self.metric(label, dimensions) { PrometheusGauge() } as! PrometheusGauge
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> RecorderHandler {
        if aggregate {
            return self.metric(label, dimensions) { PrometheusHistogram(buckets: self.histogramBuckets, scale: 1) }
                as! PrometheusHistogram
        }
        return self.metric(label, dimensions) { PrometheusGauge() } as! PrometheusGauge
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> TimerHandler {
        self.metric(label, dimensions) { PrometheusHistogram(buckets: Self.latencyBuckets, scale: 1e-9) }
            as! PrometheusHistogram
    }

    public func destroyCounter(_ handler: CounterHandler) {}
    public func destroyFloatingPointCounter(_ handler: FloatingPointCounterHandler) {}
    public func destroyMeter(_ handler: MeterHandler) {}
    public func destroyRecorder(_ handler: RecorderHandler) {}
    public func destroyTimer(_ handler: TimerHandler) {}

    /// Runs `collect` before every render: it brings metrics kept up to date elsewhere (a component with counters
    /// of its own) into this registry. It must be quick and must not block.
    public func addCollector(_ collect: @escaping @Sendable () -> Void) {
        self.collectors.withLock { $0.append(collect) }
    }

    /// The exposition text for `GET /metrics` (`text/plain; version=0.0.4`).
    public func render() -> String {
        for collect in self.collectors.withLock({ $0 }) { collect() }
        let (entries, help) = self.state.withLock { state in
            (state.order.map { ($0, state.entries[$0]!) }, state.help)
        }
        // Group by family name, keeping first-registration order.
        var families: [String: [(labels: String, metric: PrometheusMetric)]] = [:]
        var familyOrder: [String] = []
        for (key, metric) in entries {
            if families[key.name] == nil { familyOrder.append(key.name) }
            families[key.name, default: []].append((key.labels, metric))
        }
        var out = ""
        for name in familyOrder {
            let members = families[name]!
            if let text = help[name] {
                out += "# HELP \(name) \(text)\n"
            }
            out += "# TYPE \(name) \(members[0].metric.typeName)\n"
            for member in members {
                member.metric.render(name: name, labels: member.labels, into: &out)
            }
        }
        return out
    }

    static func sanitizeName(_ name: String) -> String {
        var result = ""
        for (index, scalar) in name.unicodeScalars.enumerated() {
            let ok =
                (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || scalar == "_"
                || scalar == ":" || (index > 0 && scalar >= "0" && scalar <= "9")
            result.unicodeScalars.append(ok ? scalar : "_")
        }
        return result
    }

    static func renderLabels(_ dimensions: [(String, String)]) -> String {
        if dimensions.isEmpty { return "" }
        var parts: [String] = []
        for (name, value) in dimensions {
            var escaped = ""
            for character in value {
                switch character {
                case "\\": escaped += "\\\\"
                case "\"": escaped += "\\\""
                case "\n": escaped += "\\n"
                default: escaped.append(character)
                }
            }
            parts.append("\(Self.sanitizeName(name))=\"\(escaped)\"")
        }
        return parts.joined(separator: ",")
    }

    static func formatValue(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}

/// Storage shared by the metric kinds.
class PrometheusMetric: @unchecked Sendable {
    var typeName: String { preconditionFailure("abstract") }
    func render(name: String, labels: String, into out: inout String) { preconditionFailure("abstract") }

    static func line(_ name: String, _ labels: String, _ value: String, into out: inout String) {
        out += labels.isEmpty ? "\(name) \(value)\n" : "\(name){\(labels)} \(value)\n"
    }
}

/// A lock-free Double held as its bit pattern.
struct AtomicDouble: ~Copyable {
    private let bits = Atomic<UInt64>(0)

    func load() -> Double { Double(bitPattern: self.bits.load(ordering: .relaxed)) }
    func store(_ value: Double) { self.bits.store(value.bitPattern, ordering: .relaxed) }
    func add(_ delta: Double) {
        var current = self.bits.load(ordering: .relaxed)
        while true {
            let next = (Double(bitPattern: current) + delta).bitPattern
            let (exchanged, original) = self.bits.compareExchange(
                expected: current,
                desired: next,
                ordering: .relaxed
            )
            if exchanged { return }
            current = original
        }
    }
}

final class PrometheusCounter: PrometheusMetric, CounterHandler, @unchecked Sendable {
    private let value = Atomic<Int64>(0)
    override var typeName: String { "counter" }
    func increment(by amount: Int64) { self.value.wrappingAdd(amount, ordering: .relaxed) }
    func reset() { self.value.store(0, ordering: .relaxed) }
    override func render(name: String, labels: String, into out: inout String) {
        Self.line(name, labels, String(self.value.load(ordering: .relaxed)), into: &out)
    }
}

final class PrometheusFloatingCounter: PrometheusMetric, FloatingPointCounterHandler, @unchecked Sendable {
    private let value = AtomicDouble()
    override var typeName: String { "counter" }
    func increment(by amount: Double) { self.value.add(amount) }
    func reset() { self.value.store(0) }
    override func render(name: String, labels: String, into out: inout String) {
        Self.line(name, labels, PrometheusRegistry.formatValue(self.value.load()), into: &out)
    }
}

final class PrometheusGauge: PrometheusMetric, MeterHandler, RecorderHandler, @unchecked Sendable {
    private let value = AtomicDouble()
    override var typeName: String { "gauge" }
    func set(_ value: Int64) { self.value.store(Double(value)) }
    func set(_ value: Double) { self.value.store(value) }
    func increment(by amount: Double) { self.value.add(amount) }
    func decrement(by amount: Double) { self.value.add(-amount) }
    func record(_ value: Int64) { self.value.store(Double(value)) }
    func record(_ value: Double) { self.value.store(value) }
    override func render(name: String, labels: String, into out: inout String) {
        Self.line(name, labels, PrometheusRegistry.formatValue(self.value.load()), into: &out)
    }
}

/// Fixed-bucket histogram; `scale` converts recorded values (e.g. nanoseconds) to the exposed unit (seconds).
final class PrometheusHistogram: PrometheusMetric, RecorderHandler, TimerHandler, @unchecked Sendable {
    private let bounds: [Double]
    private let counts: UnsafeMutablePointer<Atomic<Int64>>
    private let sum = AtomicDouble()
    private let scale: Double

    init(buckets: [Double], scale: Double) {
        self.bounds = buckets
        self.scale = scale
        // One slot per bound plus +Inf.
        self.counts = UnsafeMutablePointer<Atomic<Int64>>.allocate(capacity: buckets.count + 1)
        for index in 0...buckets.count {
            (self.counts + index).initialize(to: Atomic<Int64>(0))
        }
    }

    deinit {
        self.counts.deinitialize(count: self.bounds.count + 1)
        self.counts.deallocate()
    }

    override var typeName: String { "histogram" }

    func record(_ value: Int64) { self.observe(Double(value) * self.scale) }
    func record(_ value: Double) { self.observe(value * self.scale) }
    func recordNanoseconds(_ duration: Int64) { self.observe(Double(duration) * self.scale) }

    private func observe(_ value: Double) {
        var index = self.bounds.count
        for (position, bound) in self.bounds.enumerated() where value <= bound {
            index = position
            break
        }
        self.counts[index].wrappingAdd(1, ordering: .relaxed)
        self.sum.add(value)
    }

    override func render(name: String, labels: String, into out: inout String) {
        let prefix = labels.isEmpty ? "" : labels + ","
        var cumulative: Int64 = 0
        for (index, bound) in self.bounds.enumerated() {
            cumulative += self.counts[index].load(ordering: .relaxed)
            out += "\(name)_bucket{\(prefix)le=\"\(PrometheusRegistry.formatValue(bound))\"} \(cumulative)\n"
        }
        cumulative += self.counts[self.bounds.count].load(ordering: .relaxed)
        out += "\(name)_bucket{\(prefix)le=\"+Inf\"} \(cumulative)\n"
        Self.line(name + "_sum", labels, PrometheusRegistry.formatValue(self.sum.load()), into: &out)
        Self.line(name + "_count", labels, String(cumulative), into: &out)
    }
}
