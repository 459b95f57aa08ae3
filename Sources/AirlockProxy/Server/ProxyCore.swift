import AirlockTLS
import Logging
import NIOCore

/// What every connection handler shares: the loaded configuration, the vendors, the seams. Immutable and Sendable.
final class ProxyCore: Sendable {
    let configuration: ProxyConfiguration
    let vendors: [VendorRuntime]
    /// The inspection seam; nil when nothing is inspected (no policy and no callbacks).
    let inspector: (any EgressInspector)?
    let recorder: any EgressRecorder
    /// Vendor callbacks arriving on the listener; nil when no callback routes are configured.
    let callbacks: CallbackService?
    /// False on the callback listener (`callbacks.listen`): no vendor route is reachable there.
    let servesVendorRoutes: Bool
    /// The named lab clients; nil when `clients:` is absent (or on the callback listener).
    let clients: ClientAuthenticator?
    let clientMetrics: ClientMetrics?
    let metrics: ProxyMetrics
    let logger: Logger
    let maxBodyBytes: Int
    let maxResponseBytes: Int
    let upstreamTimeout: TimeAmount
    /// Largest request URI accepted; longer ones get 414 before any routing.
    let maxURIBytes = 8192
    /// Refusals made before any policy saw the request: counted, and recorded at most once a second per kind
    /// (one aggregator for the lab and the callback listener).
    let refusals: RefusalAggregator

    init(
        configuration: ProxyConfiguration,
        vendors: [VendorRuntime],
        inspector: (any EgressInspector)?,
        recorder: any EgressRecorder,
        metrics: ProxyMetrics,
        logger: Logger,
        callbacks: CallbackService? = nil,
        servesVendorRoutes: Bool = true,
        clients: ClientAuthenticator? = nil,
        refusals: RefusalAggregator? = nil
    ) {
        self.callbacks = callbacks
        self.servesVendorRoutes = servesVendorRoutes
        self.clients = clients
        self.clientMetrics = clients.map { _ in ClientMetrics(metrics: metrics) }
        self.configuration = configuration
        self.vendors = vendors
        self.inspector = inspector
        self.recorder = recorder
        self.metrics = metrics
        self.logger = logger
        self.maxBodyBytes = configuration.limits.maxBodyBytes
        self.maxResponseBytes = configuration.limits.maxResponseBytes
        self.upstreamTimeout = .nanoseconds(Int64(configuration.limits.upstreamTimeoutSeconds * 1e9))
        self.refusals = refusals ?? RefusalAggregator(recorder: recorder, logger: logger)
    }

    /// The answer to a path that is neither a callback nor under a vendor's prefix.
    var unroutedRefusal: EgressRefusal {
        EgressRefusal(self.servesVendorRoutes ? .unknownVendor : .notACallback)
    }

    /// The vendor whose prefix starts `path` (followed by `/` or the end), and the rest of the path.
    func route(_ path: Substring) -> (vendor: VendorRuntime, rest: Substring)? {
        guard self.servesVendorRoutes else { return nil }
        for vendor in self.vendors {
            let prefix = vendor.configuration.pathPrefix
            guard path.utf8.starts(with: prefix.utf8) else { continue }
            let rest = path.dropFirst(prefix.utf8.count)
            if rest.isEmpty || rest.utf8.first == UInt8(ascii: "/") {
                return (vendor, rest)
            }
        }
        return nil
    }
}

/// Per event loop: the upstream pools and the metric cache. Only touched on its event loop.
final class LoopContext {
    let pools: [UpstreamPool]
    let metrics: LoopMetrics
    private var nextConnectionID: UInt64

    init(core: ProxyCore, eventLoop: any EventLoop) {
        self.pools = core.vendors.map {
            UpstreamPool(
                eventLoop: eventLoop,
                vendor: $0,
                metrics: core.metrics,
                logger: core.logger,
                establishTimeout: core.upstreamTimeout
            )
        }
        self.metrics = LoopMetrics(metrics: core.metrics)
        self.nextConnectionID = UInt64.random(in: 0..<(1 << 40)) << 20
    }

    func makeConnectionID() -> UInt64 {
        self.nextConnectionID &+= 1
        return self.nextConnectionID
    }

    func shutdown() {
        for pool in self.pools { pool.shutdown() }
    }
}

@available(*, unavailable)
extension LoopContext: Sendable {}
