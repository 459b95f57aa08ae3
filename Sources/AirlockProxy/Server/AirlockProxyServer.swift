import AirlockTLS
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The Airlock reverse proxy: an HTTPS listener for the lab, a pool of verified TLS connections per vendor, the
/// plain-HTTP admin listener, and with `callbacks.listen` an HTTPS listener for vendor callbacks only.
///
/// Lifecycle: `init` validates TLS material (throws on bad certificates/keys/CA files), `start()` binds the listeners
/// (after which `listenAddress`/`adminAddress` are known and `/readyz` says ready), `shutdown(gracePeriod:)` stops
/// accepting, lets in-flight requests finish, and closes everything. The event loop group belongs to the caller.
public final class AirlockProxyServer: Sendable {
    private struct Channels {
        var listener: (any Channel)?
        var admin: (any Channel)?
        var callbacks: (any Channel)?
        var assets: (any Channel)?
        var forward: (any Channel)?
        var isShuttingDown = false
        /// Writes the aggregated early refusals once a second.
        var refusalFlush: RepeatedTask?
    }

    public let configuration: ProxyConfiguration
    public let metrics: ProxyMetrics
    let group: any EventLoopGroup
    private let core: ProxyCore
    private let serverTLS: TLSServerContext
    /// With `callbacks.listen`: what its connections share (callback routes only) and its TLS.
    private let callbackListener: (core: ProxyCore, tls: TLSServerContext)?
    /// With `assets:`: the asset gateway and its listener's TLS.
    private let assets: AssetService?
    let loops: [ObjectIdentifier: NIOLoopBoundBox<LoopContext?>]
    let tracker = ConnectionTracker()
    let connectionLimits: ConnectionLimits
    /// With `forward:`: what the forward listener's connections share.
    let forward: ForwardRuntime?
    private let readiness: Readiness
    private let channels = Mutex(Channels())
    private let logger: Logger

    /// - Parameters:
    ///   - inspector: the content-inspection seam; pass-through by default.
    ///   - recorder: the audit seam; records nothing by default.
    ///   - registry: where metrics go; `/metrics` renders it.
    ///   - policyVersions: vendor -> `name@sha256:…` of its policy, reported by `/readyz`.
    // Over 80 lines: it sets every stored `let` (TLS contexts, loop contexts, metrics, callbacks, cores) in order.
    public init(
        configuration: ProxyConfiguration,
        group: any EventLoopGroup,
        inspector: any EgressInspector = PassThroughInspector(),
        recorder: any EgressRecorder = NoOpRecorder(),
        registry: PrometheusRegistry = PrometheusRegistry(),
        policyVersions: [String: String] = [:],
        logger: Logger
    ) throws(TLSError) {
        self.readiness = Readiness(policyVersions: policyVersions) { recorder.unavailableReason }
        self.configuration = configuration
        self.group = group
        self.logger = logger
        let tls = configuration.listen.tls
        self.serverTLS = try TLSServerContext(
            configuration: TLSServerConfiguration(
                certificateChainPath: tls.certificatePath,
                privateKeyPath: tls.keyPath,
                clientCAPath: tls.clientCAPath
            )
        )
        var loopBoxes: [ObjectIdentifier: NIOLoopBoundBox<LoopContext?>] = [:]
        for loop in group.makeIterator() {
            loopBoxes[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeEmptyBox(
                valueType: LoopContext.self,
                eventLoop: loop
            )
        }
        self.loops = loopBoxes
        let vendors = try Self.vendors(of: configuration, loopCount: max(1, loopBoxes.count))
        self.metrics = ProxyMetrics(registry: registry, vendorNames: configuration.vendors.map(\.name))
        self.connectionLimits = ConnectionLimits(
            maxConnections: configuration.limits.maxConnections,
            maxPerPeer: configuration.limits.maxConnectionsPerPeer,
            metrics: self.metrics.connections
        )
        let policyInspector: (any EgressInspector)? = inspector is PassThroughInspector ? nil : inspector
        self.assets = try configuration.assets.map { assets throws(TLSError) in
            try AssetService(
                configuration: configuration,
                assets: assets,
                inspector: policyInspector,
                recorder: recorder,
                logger: logger
            )
        }
        let egressInspector = Self.egressInspector(
            inspector,
            configuration: configuration,
            minter: self.assets?.minter
        )
        let callbacks =
            configuration.callbacks == nil
            ? nil
            : try CallbackService(
                configuration: configuration,
                inspector: inspector,
                recorder: recorder,
                registry: registry,
                logger: logger
            )
        // With a callback listener of its own, the lab listener serves no callback path, and the callback
        // listener no vendor route: a vendor cannot send a pseudonym through a route to have it restored.
        let callbackListen = configuration.callbacks?.listen
        self.core = ProxyCore(
            configuration: configuration,
            vendors: vendors,
            inspector: egressInspector,
            recorder: recorder,
            metrics: self.metrics,
            logger: logger,
            callbacks: callbackListen == nil ? callbacks : nil,
            clients: configuration.clients.map { ClientAuthenticator(clients: $0, vendors: configuration.vendors) }
        )
        let metrics = self.metrics
        let refusals = self.core.refusals
        self.callbackListener = try callbackListen.map { listen throws(TLSError) in
            let core = ProxyCore(
                configuration: configuration,
                vendors: vendors,
                inspector: egressInspector,
                recorder: recorder,
                metrics: metrics,
                logger: logger,
                callbacks: callbacks,
                servesVendorRoutes: false,
                refusals: refusals
            )
            let tls = try TLSServerContext(
                configuration: TLSServerConfiguration(
                    certificateChainPath: listen.tls.certificatePath,
                    privateKeyPath: listen.tls.keyPath
                )
            )
            return (core, tls)
        }
        let labCore = self.core
        self.forward = try configuration.forward.map { settings throws(TLSError) in
            try ForwardRuntime(settings, labCore: labCore, loopCount: max(1, loopBoxes.count))
        }
    }

    /// Each configured vendor with its TLS client context.
    private static func vendors(
        of configuration: ProxyConfiguration,
        loopCount: Int
    ) throws(TLSError) -> [VendorRuntime] {
        var vendors: [VendorRuntime] = []
        for (index, vendor) in configuration.vendors.enumerated() {
            let context: TLSClientContext
            do {
                context = try TLSClientContext(
                    configuration: TLSClientConfiguration(
                        trustRoots: vendor.trustRoots,
                        pinnedSPKISHA256: vendor.pinnedSPKISHA256
                    )
                )
            } catch {
                // The CA file alone does not say whose it is: name the vendor.
                throw TLSError(
                    code: error.code,
                    message: "vendor \"\(vendor.name)\": \(error.message)",
                    openSSLErrors: error.openSSLErrors
                )
            }
            vendors.append(VendorRuntime(index: index, configuration: vendor, tls: context, loopCount: loopCount))
        }
        return vendors
    }

    /// The inspector requests pass: callback URLs in outgoing requests are checked around the policy (see
    /// OutgoingCallbacks). A pass-through inspector is no inspector: without a callbacks section, nil (requests are
    /// not inspected at all).
    /// Attachment URLs are handled around both (see OutgoingAssets).
    private static func egressInspector(
        _ inspector: any EgressInspector,
        configuration: ProxyConfiguration,
        minter: AssetMinter?
    ) -> (any EgressInspector)? {
        let policyInspector: (any EgressInspector)? = inspector is PassThroughInspector ? nil : inspector
        guard configuration.callbacks != nil || configuration.assets != nil || policyInspector != nil else {
            return nil
        }
        return AssetRewritingInspector.chain(around: policyInspector, configuration: configuration, minter: minter)
    }

    /// The lab-facing HTTPS address, once started.
    public var listenAddress: SocketAddress? {
        self.channels.withLock { $0.listener?.localAddress }
    }

    /// The callback listener's address, once started (nil without `callbacks.listen`).
    public var callbackAddress: SocketAddress? {
        self.channels.withLock { $0.callbacks?.localAddress }
    }

    /// The asset listener's address, once started (nil without `assets:`).
    public var assetAddress: SocketAddress? {
        self.channels.withLock { $0.assets?.localAddress }
    }

    /// The forward listener's address, once started (nil without `forward:`).
    public var forwardAddress: SocketAddress? {
        self.channels.withLock { $0.forward?.localAddress }
    }

    /// The admin address, once started (nil when no admin listener is configured).
    public var adminAddress: SocketAddress? {
        self.channels.withLock { $0.admin?.localAddress }
    }

    public var isReady: Bool { self.readiness.isReady }

    /// After a reload: the policy versions `/readyz` reports from now on.
    public func updatePolicyVersions(_ versions: [String: String]) {
        self.readiness.setPolicyVersions(versions)
    }

    /// Binds the HTTPS listener, the callback listener and the admin listener. Throws if an address cannot be bound.
    public func start() async throws {
        let address = self.configuration.listen.address
        let listener = try await ListenerBindError.binding("listen.address", address) {
            try await self.bindHTTPS(address, core: self.core, tls: self.serverTLS)
        }
        // Both listeners' cores share one aggregator (`ProxyCore.refusals`): its counts are written once a second.
        let core = self.core
        let flushLoop = self.group.next()
        let refusalFlush = flushLoop.scheduleRepeatedAsyncTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            core.refusals.flush(on: flushLoop)
        }
        self.channels.withLock {
            $0.listener = listener
            $0.refusalFlush = refusalFlush
        }
        if let (core, tls) = self.callbackListener, let address = self.configuration.callbacks?.listen?.address {
            let channel = try await self.bindOrUnwind {
                try await ListenerBindError.binding("callbacks.listen.address", address) {
                    try await self.bindHTTPS(address, core: core, tls: tls)
                }
            }
            self.channels.withLock { $0.callbacks = channel }
        }
        if let assets = self.assets {
            let tracker = self.tracker
            let channel = try await self.bindOrUnwind { try await assets.bind(group: self.group) { tracker.add($0) } }
            self.channels.withLock { $0.assets = channel }
        }
        if let forward = self.forward {
            let channel = try await self.bindOrUnwind { try await self.bindForward(forward) }
            self.channels.withLock { $0.forward = channel }
        }
        if let admin = self.configuration.admin {
            let registry = self.metrics.registry
            let readiness = self.readiness
            let adminChannel = try await self.bindOrUnwind {
                try await ListenerBindError.binding("admin.address", admin.address) {
                    try await ServerBootstrap(group: self.group)
                        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                        .childChannelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture {
                                let sync = channel.pipeline.syncOperations
                                try sync.configureHTTPServerPipeline(withErrorHandling: true)
                                try sync.addHandler(AdminHandler(registry: registry, readiness: readiness))
                            }
                        }
                        .bind(host: admin.address.host, port: admin.address.port)
                        .get()
                }
            }
            self.channels.withLock { $0.admin = adminChannel }
        }
        self.readiness.set(true)
        self.logger.info(
            "airlock listening",
            metadata: [
                "airlock.listen": "\(listener.localAddress.map { "\($0)" } ?? "?")",
                "airlock.admin": "\(self.adminAddress.map { "\($0)" } ?? "none")",
                "airlock.callbacks": "\(self.callbackAddress.map { "\($0)" } ?? "on the lab listener")",
                "airlock.forward": "\(self.forwardAddress.map { "\($0)" } ?? "none")",
                "airlock.vendors": "\(self.configuration.vendors.map(\.name).joined(separator: ","))",
            ]
        )
        if self.configuration.callbacks != nil && self.callbackListener == nil {
            self.logger.warning(
                """
                callbacks are served on the lab listener: whoever reaches it to call back can also use the vendor \
                routes and read pseudonyms restored; give callbacks their own listener (callbacks.listen)
                """
            )
        }
    }

    /// Binds one more listener; if that fails, closes every listener bound so far (the lab's, callbacks, assets,
    /// forward) before rethrowing, so a failed start leaves nothing listening.
    private func bindOrUnwind(_ bind: () async throws -> any Channel) async throws -> any Channel {
        do {
            return try await bind()
        } catch {
            let bound = self.channels.withLock { [$0.listener, $0.callbacks, $0.assets, $0.forward] }
            for channel in bound.compactMap({ $0 }) { try? await channel.close() }
            throw error
        }
    }

    /// An HTTPS listener whose connections are served with `core`: the lab's, or the callback listener.
    private func bindHTTPS(
        _ address: HostAndPort,
        core: ProxyCore,
        tls serverTLS: TLSServerContext
    ) async throws -> any Channel {
        let deadlines = RequestDeadlines.Settings(limits: self.configuration.limits)
        let connectionMetrics = self.metrics.connections
        let clientIdle = TimeAmount.nanoseconds(Int64(self.configuration.limits.clientIdleTimeoutSeconds * 1e9))
        return try await ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let loop = try self.accept(channel, core: core)
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(serverTLS.makeHandler())
                    try sync.addHandler(RequestDeadlineHandler(settings: deadlines, metrics: connectionMetrics))
                    try sync.addHandler(IdleStateHandler(readTimeout: clientIdle))
                    // Only the request decoder: ProxyHTTPHandler serialises its responses itself (one buffer per answer)
                    // and queues pipelined requests itself (see its queue) without pausing reads.
                    try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                    try sync.addHandler(ProxyHTTPHandler(core: core, loop: loop))
                }
            }
            .bind(host: address.host, port: address.port)
            .get()
    }

    /// Admits an accepted connection under the connection caps and tracks it for shutdown; returns its event loop's
    /// context. Over a cap it throws: the connection is closed before any TLS handshake, so a flood costs no crypto.
    func accept(_ channel: any Channel, core: ProxyCore) throws -> LoopContext {
        let peer = channel.remoteAddress?.ipAddress
        if let refusal = self.connectionLimits.admit(peer) { throw ConnectionLimits.CapReached(refusal: refusal) }
        let limits = self.connectionLimits
        channel.closeFuture.whenComplete { _ in limits.release(peer) }
        self.tracker.add(channel)
        let box = self.loops[ObjectIdentifier(channel.eventLoop)]!
        if let existing = box.value { return existing }
        let loop = LoopContext(core: core, eventLoop: channel.eventLoop)
        box.value = loop
        return loop
    }

    /// Stops accepting, asks every lab connection to close once its current request is answered, waits up to
    /// `gracePeriod` for them, then cuts what is left and closes the upstream pools and the admin listener.
    public func shutdown(gracePeriod: TimeAmount) async {
        let (listener, callbackListener, admin, refusalFlush, alreadyShuttingDown) = self.channels.withLock { state in
            defer { state.isShuttingDown = true }
            return (state.listener, state.callbacks, state.admin, state.refusalFlush, state.isShuttingDown)
        }
        let assetListener = self.channels.withLock { $0.assets }
        let forwardListener = self.channels.withLock { $0.forward }
        guard !alreadyShuttingDown else { return }
        self.readiness.set(false)
        self.logger.info(
            "airlock shutting down",
            metadata: ["airlock.open_connections": "\(self.tracker.openChannels.count)"]
        )
        try? await listener?.close()
        try? await forwardListener?.close()
        try? await callbackListener?.close()
        try? await assetListener?.close()
        for channel in self.tracker.openChannels {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        let drained = self.tracker.waitUntilDrained(on: self.group.next())
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await drained.get() }
            group.addTask { try? await Task.sleep(nanoseconds: UInt64(max(0, gracePeriod.nanoseconds))) }
            await group.next()
            group.cancelAll()
        }
        let left = self.tracker.openChannels
        if !left.isEmpty {
            self.logger.warning(
                "grace period over; closing connections",
                metadata: ["airlock.open_connections": "\(left.count)"]
            )
            for channel in left { channel.close(promise: nil) }
        }
        for (_, box) in self.loops {
            try? await box.eventLoop.submit { box.value?.shutdown() }.get()
        }
        // The refusals counted since the last flush are written before the audit log can be closed (waiting a few
        // seconds at most: a recorder that hangs must not hang the shutdown).
        refusalFlush?.cancel()
        let flushLoop = self.group.next()
        let core = self.core
        try? await flushLoop.flatSubmit {
            let flushed = flushLoop.makePromise(of: Void.self)
            let finished = NIOLoopBoundBox(false, eventLoop: flushLoop)
            @Sendable func finish() {
                guard !finished.value else { return }
                finished.value = true
                flushed.succeed(())
            }
            let limit = flushLoop.scheduleTask(in: .seconds(5)) { finish() }
            core.refusals.flush(on: flushLoop).whenComplete { _ in
                limit.cancel()
                finish()
            }
            return flushed.futureResult
        }.get()
        try? await admin?.close()
        self.logger.info("airlock stopped")
    }
}
