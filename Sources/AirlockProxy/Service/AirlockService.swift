import AirlockRedaction
import Logging
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Airlock as a running service: the proxy for one configuration, with its compiled policies and audit log, from
/// start-up to graceful shutdown, reloading its policies on SIGHUP, on a changed file, or when asked.
///
/// Lifecycle: `init` compiles every policy, opens the audit log and validates the TLS material (nothing listens yet:
/// a bad policy or an unwritable log means Airlock does not start, rather than starting without them); `start()`
/// binds the listeners; `run()` serves until SIGTERM / SIGINT or `requestShutdown()`, then stops accepting, lets
/// in-flight requests finish (`limits.shutdown_grace_seconds`) and writes the audit log's final checkpoint.
/// Reloads (SIGHUP, a settled file change, `reload()`) are applied one at a time by `run()`: an invalid new set is
/// refused and logged, and the previous policies keep serving.
public final class AirlockService: Sendable {
    public struct Options: Sendable {
        /// The event loops to serve on; nil: the service makes one per core and shuts it down when it stops. A group
        /// passed in belongs to the caller, who shuts it down.
        public var group: MultiThreadedEventLoopGroup?
        /// The pseudonym keys; nil: read from the configuration's `pseudonym_key`.
        public var keys: PseudonymKeys?
        /// How often the configuration and policy files are checked for changes; nil turns watching off.
        public var watchInterval: Duration?
        /// The signals handled from `init` on: SIGHUP reloads, any other shuts down. Tests pass fewer (the test
        /// runner keeps its own SIGINT).
        public var signals: [Int32]
        /// The build `/metrics` reports as `airlock_build_info`.
        public var build: BuildInfo

        public init(
            group: MultiThreadedEventLoopGroup? = nil,
            keys: PseudonymKeys? = nil,
            watchInterval: Duration? = .seconds(1),
            signals: [Int32] = [SIGTERM, SIGINT, SIGHUP],
            build: BuildInfo = BuildInfo(version: "unknown", commit: "unknown")
        ) {
            self.group = group
            self.keys = keys
            self.watchInterval = watchInterval
            self.signals = signals
            self.build = build
        }
    }

    enum Event: Sendable {
        case signal(Int32)
        case filesChanged
        case reloadRequested(CheckedContinuation<Bool, Never>)
        case shutdownRequested
    }

    public let configuration: ProxyConfiguration
    /// The proxy: its addresses once started, its metrics.
    public let server: AirlockProxyServer
    private let egress: EgressSetup
    private let reloader: PolicyReloader
    private let group: MultiThreadedEventLoopGroup
    private let ownsGroup: Bool
    private let watchInterval: Duration?
    private let events: AsyncStream<Event>
    private let post: AsyncStream<Event>.Continuation
    private let signals: ServiceSignals
    private let running = Mutex(false)
    private let logger: Logger

    /// Compiles the policies, opens the audit log and prepares the listeners' TLS; binds nothing.
    /// - Throws: ``AirlockServiceError`` naming the file and the problem; nothing is left open then.
    public init(
        configuration: ProxyConfiguration,
        options: Options = Options(),
        logger: Logger
    ) async throws(AirlockServiceError) {
        if let problem = KeyFileCheck.problem(configuration) { throw AirlockServiceError(problem) }
        let egress: EgressSetup
        do {
            egress = try await EgressSetup.prepare(configuration, keys: options.keys, logger: logger)
        } catch {
            throw AirlockServiceError(error.description)
        }
        let group = options.group ?? MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let server: AirlockProxyServer
        do {
            server = try AirlockProxyServer(
                configuration: configuration,
                group: group,
                inspector: egress.inspector,
                recorder: egress.recorder,
                policyVersions: egress.policyVersions,
                logger: logger
            )
        } catch {
            await egress.close()
            if options.group == nil { try? await group.shutdownGracefully() }
            throw AirlockServiceError("\(error)")
        }
        if let log = egress.auditLog { AuditMetrics.register(log, in: server.metrics.registry) }
        egress.auditSpace?.register(in: server.metrics.registry)
        ProcessMetrics.register(in: server.metrics.registry)
        options.build.register(in: server.metrics.registry)
        let (events, post) = AsyncStream<Event>.makeStream()
        self.events = events
        self.post = post
        self.signals = ServiceSignals(options.signals) { post.yield(.signal($0)) }
        self.configuration = configuration
        self.server = server
        self.egress = egress
        self.reloader = PolicyReloader(
            configuration: configuration,
            egress: egress,
            server: server,
            keys: options.keys,
            logger: logger
        )
        self.group = group
        self.ownsGroup = options.group == nil
        self.watchInterval = configuration.sourcePath == nil ? nil : options.watchInterval
        self.logger = logger
    }

    /// Binds the lab, callback and admin listeners. On failure everything the service opened is closed.
    public func start() async throws(AirlockServiceError) {
        do {
            try await self.server.start()
        } catch {
            await self.close()
            throw AirlockServiceError("cannot start listening (\(error))")
        }
    }

    /// Serves until SIGTERM / SIGINT or `requestShutdown()`, applying reloads as they come, then shuts down
    /// gracefully. Call once, after `start()`.
    public func run() async {
        let alreadyRunning = self.running.withLock { running in
            defer { running = true }
            return running
        }
        precondition(!alreadyRunning, "AirlockService.run() called twice")
        var watcher: FileChangeWatcher?
        if let interval = self.watchInterval {
            let post = self.post
            watcher = FileChangeWatcher(interval: interval) { post.yield(.filesChanged) }
            watcher?.watch(self.egress.sourceFiles)
        }
        var pending = self.events.makeAsyncIterator()
        loop: while let event = await pending.next() {
            switch event {
            case .signal(SIGHUP):
                await self.reload(because: "SIGHUP", watcher: watcher)
            case .filesChanged:
                await self.reload(because: "a configuration or policy file changed", watcher: watcher)
            case .reloadRequested(let caller):
                caller.resume(returning: await self.reload(because: "reload()", watcher: watcher))
            case .signal(let signal):
                self.logger.info("signal received; shutting down", metadata: ["airlock.signal": "\(signal)"])
                break loop
            case .shutdownRequested:
                self.logger.info("shutting down")
                break loop
            }
        }
        watcher?.stop()
        // Reloads asked for while stopping are answered: refused.
        self.post.finish()
        while let event = await pending.next() {
            if case .reloadRequested(let caller) = event { caller.resume(returning: false) }
        }
        await self.server.shutdown(
            gracePeriod: .nanoseconds(Int64(self.configuration.limits.shutdownGraceSeconds * 1e9))
        )
        await self.close()
    }

    /// Reloads the configuration's policies now (as SIGHUP does), once `run()` serves.
    /// - Returns: true when the new policies were swapped in; false when they were refused (the previous ones keep
    ///   serving) or the service has stopped.
    public func reload() async -> Bool {
        await withCheckedContinuation { caller in
            if case .terminated = self.post.yield(.reloadRequested(caller)) { caller.resume(returning: false) }
        }
    }

    /// Makes `run()` shut down gracefully, as SIGTERM does.
    public func requestShutdown() {
        self.post.yield(.shutdownRequested)
    }

    @discardableResult
    private func reload(because reason: String, watcher: FileChangeWatcher?) async -> Bool {
        guard let files = await self.reloader.reload(because: reason) else { return false }
        watcher?.watch(files)
        return true
    }

    /// Stops reporting signals, writes the audit log's final checkpoint, and shuts down a group the service made.
    private func close() async {
        self.signals.cancel()
        await self.egress.close()
        if self.ownsGroup { try? await self.group.shutdownGracefully() }
    }
}
