import AirlockTLS
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// What a pool needs to know about its vendor; shared by the pools of all event loops.
final class VendorRuntime: Sendable {
    let index: Int
    let configuration: ProxyConfiguration.Vendor
    let tls: TLSClientContext
    /// Connections each event loop's pool may open (the configured maximum split across loops, at least 1).
    let maxConnectionsPerLoop: Int

    init(index: Int, configuration: ProxyConfiguration.Vendor, tls: TLSClientContext, loopCount: Int) {
        self.index = index
        self.configuration = configuration
        self.tls = tls
        self.maxConnectionsPerLoop = max(1, (configuration.maxConnections + loopCount - 1) / max(1, loopCount))
    }
}

/// A bounded pool of keep-alive TLS connections to one vendor, owned by one event loop.
///
/// Every method runs on `eventLoop`; the pool is never shared across threads, so it needs no locks. Idle connections
/// are reused most-recently-used first and closed after the vendor's idle timeout; when all `maxConnectionsPerLoop`
/// are busy, requests wait in FIFO order (bounded by their own timeout).
///
/// Timeouts of exchanges and idle connections are enforced by one sweep per pool, armed only while there is
/// something to watch, rather than by a scheduled task per request: scheduling and cancelling two timers per request
/// cost several per cent of the proxy's throughput. A timeout therefore fires up to one sweep period late.
final class UpstreamPool {
    private struct Waiter {
        var id: Int
        var handOver: (Result<UpstreamConnectionHandler, UpstreamError>) -> Void
    }

    private struct IdleConnection {
        var connection: UpstreamConnectionHandler
        var idleSince: NIODeadline
    }

    let eventLoop: any EventLoop
    let vendor: VendorRuntime
    private let metrics: ProxyMetrics
    private let logger: Logger
    private var idle: [IdleConnection] = []
    private var waiters = CircularBuffer<Waiter>(initialCapacity: 8)
    private var nextWaiterID = 0
    /// Open or opening connections: idle + busy + connecting.
    private var openCount = 0
    private var isShutDown = false
    /// Exchanges not yet complete, by id, for the sweep to time out.
    private var inFlight: [Int: PooledExchange] = [:]
    private var nextExchangeID = 0
    /// The pending sweep, when one is armed.
    private var sweep: Scheduled<Void>?
    private var sweepPeriod: TimeAmount = .milliseconds(250)

    /// Longest time a new connection may take to connect and complete its TLS handshake before it is abandoned
    /// (so a vendor that accepts TCP and then stalls cannot hold a pool slot forever).
    private let establishTimeout: TimeAmount

    init(
        eventLoop: any EventLoop,
        vendor: VendorRuntime,
        metrics: ProxyMetrics,
        logger: Logger,
        establishTimeout: TimeAmount
    ) {
        self.establishTimeout = establishTimeout
        self.eventLoop = eventLoop
        self.vendor = vendor
        self.metrics = metrics
        self.logger = logger
    }

    /// Runs one exchange: takes a connection (idle, new, or after waiting), sends the request, reads the response,
    /// and puts the connection back if it can carry another request. `completion` is called exactly once, on the
    /// event loop, at the latest `timeout` after the call (not counting the time `admit` takes).
    ///
    /// `admit`, when given, is called once a connection is ready (connected, certificate and pins verified), before
    /// the first byte of the request is written, and must call its argument exactly once, on the event loop: `true`
    /// sends the request, `false` withdraws it (`UpstreamError.withdrawn`; the connection goes back to the pool).
    /// A failure before `admit` was called (connect, TLS, no connection in time) means nothing was sent.
    func execute(
        _ request: UpstreamRequest,
        timeout: TimeAmount,
        maxResponseBytes: Int,
        admit: ((@escaping (Bool) -> Void) -> Void)? = nil,
        completion: @escaping (Result<UpstreamResponse, UpstreamError>) -> Void
    ) {
        let id = self.nextExchangeID
        self.nextExchangeID &+= 1
        let exchange = PooledExchange(deadline: .now() + timeout, admit: admit) { [weak self] result in
            self?.inFlight[id] = nil
            completion(result)
        }
        self.inFlight[id] = exchange
        self.armSweep(forTimeout: timeout)
        self.run(request, exchange: exchange, maxResponseBytes: maxResponseBytes, allowReuse: true)
    }

    // MARK: Timeouts

    /// Makes sure a sweep is pending, at most an eighth of `timeout` away (between 10 and 250 ms).
    private func armSweep(forTimeout timeout: TimeAmount) {
        let period = TimeAmount.nanoseconds(min(250_000_000, max(10_000_000, timeout.nanoseconds / 8)))
        if period < self.sweepPeriod {
            self.sweepPeriod = period
            self.sweep?.cancel()
            self.sweep = nil
        }
        // After shutdown the sweep still runs for exchanges in flight, so a vendor that stalls cannot hold one.
        guard self.sweep == nil, !self.isShutDown || !self.inFlight.isEmpty else { return }
        self.sweep = self.eventLoop.assumeIsolated().scheduleTask(in: self.sweepPeriod) { [weak self] in
            guard let self else { return }
            self.sweep = nil
            self.sweepNow()
        }
    }

    /// Times out overdue exchanges and closes connections idle for longer than the vendor's idle timeout.
    private func sweepNow() {
        let now = NIODeadline.now()
        // An exchange being admitted waits for its caller (the audit log), which bounds that wait itself.
        let overdue = self.inFlight.values.filter { $0.deadline <= now && !$0.isAdmitting }
        for exchange in overdue {
            if let waiterID = exchange.waiterID {
                self.removeWaiter(waiterID)
            }
            exchange.connection?.abort(.timeout)
            exchange.complete(.failure(.timeout))
        }
        let idleTimeout = TimeAmount.nanoseconds(Int64(self.vendor.configuration.idleTimeoutSeconds * 1e9))
        let expired = self.idle.filter { $0.idleSince + idleTimeout <= now }
        if !expired.isEmpty {
            // Out of the list first: closing runs onClose, which looks the connection up there.
            self.idle.removeAll { $0.idleSince + idleTimeout <= now }
            for entry in expired { entry.connection.abort(.shuttingDown) }
        }
        if !self.inFlight.isEmpty || !self.idle.isEmpty {
            self.armSweep(forTimeout: idleTimeout)
        }
    }

    private func run(_ request: UpstreamRequest, exchange: PooledExchange, maxResponseBytes: Int, allowReuse: Bool) {
        self.acquire(exchange: exchange, allowReuse: allowReuse) { result in
            guard !exchange.isComplete else {
                // Timed out while waiting: hand the connection straight back.
                if case .success(let connection) = result { self.release(connection) }
                return
            }
            switch result {
            case .failure(let error):
                exchange.complete(.failure(error))
            case .success(let connection):
                guard let admit = exchange.takeAdmit() else {
                    self.send(request, on: connection, exchange: exchange, maxResponseBytes: maxResponseBytes)
                    return
                }
                exchange.isAdmitting = true
                admit { admitted in
                    exchange.isAdmitting = false
                    guard admitted, !exchange.isComplete else {
                        self.release(connection)
                        exchange.complete(.failure(.withdrawn))
                        return
                    }
                    self.send(request, on: connection, exchange: exchange, maxResponseBytes: maxResponseBytes)
                }
            }
        }
    }

    private func send(
        _ request: UpstreamRequest,
        on connection: UpstreamConnectionHandler,
        exchange: PooledExchange,
        maxResponseBytes: Int
    ) {
        exchange.connection = connection
        connection.execute(request, maxResponseBytes: maxResponseBytes) { outcome in
            exchange.connection = nil
            self.release(connection)
            if case .failure(.closedBeforeResponse(true, false)) = outcome, !exchange.isComplete,
                Self.isSafeToRetry(request.head.method)
            {
                // The vendor closed an idle keep-alive connection as we reused it; nothing was answered,
                // and the method is idempotent, so one retry on a fresh connection is safe.
                self.run(request, exchange: exchange, maxResponseBytes: maxResponseBytes, allowReuse: false)
                return
            }
            exchange.complete(outcome)
        }
    }

    private static func isSafeToRetry(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD, .PUT, .DELETE, .OPTIONS: return true
        default: return false
        }
    }

    // MARK: Connections

    private func acquire(
        exchange: PooledExchange,
        allowReuse: Bool,
        _ handOver: @escaping (Result<UpstreamConnectionHandler, UpstreamError>) -> Void
    ) {
        if self.isShutDown {
            handOver(.failure(.shuttingDown))
            return
        }
        if allowReuse {
            while let candidate = self.idle.popLast() {
                if candidate.connection.isReusable, candidate.connection.channel?.isActive == true {
                    handOver(.success(candidate.connection))
                    return
                }
            }
        }
        if self.openCount < self.vendor.maxConnectionsPerLoop {
            self.connect(handOver)
            return
        }
        if !allowReuse, let oldest = self.idle.first {
            // A retry needs a fresh connection but the pool is full: retire the oldest idle one.
            self.idle.removeFirst()
            oldest.connection.abort(.shuttingDown)
        }
        let id = self.nextWaiterID
        self.nextWaiterID += 1
        exchange.waiterID = id
        self.waiters.append(
            Waiter(
                id: id,
                handOver: { result in
                    exchange.waiterID = nil
                    handOver(result)
                }
            )
        )
    }

    private func removeWaiter(_ id: Int) {
        if let index = self.waiters.firstIndex(where: { $0.id == id }) {
            self.waiters.remove(at: index)
        }
    }

    /// Returns a connection after an exchange: to a waiter, to the idle list, or closed.
    private func release(_ connection: UpstreamConnectionHandler) {
        guard connection.isReusable, connection.channel?.isActive == true, !self.isShutDown else {
            connection.abort(.shuttingDown)  // its onClose accounts for it and serves a waiter
            return
        }
        if let waiter = self.waiters.popFirst() {
            waiter.handOver(.success(connection))
            return
        }
        self.idle.append(IdleConnection(connection: connection, idleSince: .now()))
        if self.sweep == nil {
            self.armSweep(
                forTimeout: .nanoseconds(Int64(self.vendor.configuration.idleTimeoutSeconds * 1e9))
            )
        }
    }

    private func connect(_ handOver: @escaping (Result<UpstreamConnectionHandler, UpstreamError>) -> Void) {
        self.openCount += 1
        let vendorIndex = self.vendor.index
        self.metrics.upstreamConnections[vendorIndex].increment()
        let upstream = self.vendor.configuration.upstream
        let tls = self.vendor.tls
        let handler = UpstreamConnectionHandler()
        var handedOver = false
        let establishTimer = self.eventLoop.assumeIsolated().scheduleTask(in: self.establishTimeout) {
            [weak handler] in
            handler?.abort(.timeout)
        }
        handler.onReady = { result in
            establishTimer.cancel()
            handedOver = true
            handOver(result.map { handler })
        }
        handler.onClose = { [weak self] in
            guard let self else { return }
            self.openCount -= 1
            self.metrics.upstreamConnections[vendorIndex].decrement()
            if let index = self.idle.firstIndex(where: { $0.connection === handler }) {
                self.idle.remove(at: index)
            }
            // A slot opened up: start a connection for the longest waiter.
            if !self.isShutDown, !self.waiters.isEmpty, self.openCount < self.vendor.maxConnectionsPerLoop {
                let waiter = self.waiters.removeFirst()
                self.connect(waiter.handOver)
            }
        }
        let loopBoundHandler = NIOLoopBound(handler, eventLoop: self.eventLoop)
        ClientBootstrap(group: self.eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(self.establishTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(tls.makeHandler(serverHostname: upstream.host))
                    let handler = loopBoundHandler.value
                    try sync.addHandler(ByteToMessageHandler(UpstreamResponseDecoder(http: handler.responseDecoder)))
                    try sync.addHandler(handler)
                }
            }
            .connect(host: upstream.host, port: upstream.port)
            .assumeIsolated()
            .whenFailure { [weak self] error in
                establishTimer.cancel()
                guard let self else { return }
                // The channel never became active: onClose will not run.
                if !handedOver {
                    handedOver = true
                    handler.onReady = nil
                    handOver(.failure(.connectFailed(error)))
                }
                if !handler.becameActive {
                    self.openCount -= 1
                    self.metrics.upstreamConnections[vendorIndex].decrement()
                    if !self.isShutDown, !self.waiters.isEmpty, self.openCount < self.vendor.maxConnectionsPerLoop {
                        let waiter = self.waiters.removeFirst()
                        self.connect(waiter.handOver)
                    }
                }
            }
    }

    /// Closes idle connections and fails waiters; busy connections finish their exchange and are then closed.
    func shutdown() {
        self.isShutDown = true
        for entry in self.idle {
            entry.connection.abort(.shuttingDown)
        }
        self.idle.removeAll()
        while let waiter = self.waiters.popFirst() {
            waiter.handOver(.failure(.shuttingDown))
        }
    }
}

@available(*, unavailable)
extension UpstreamPool: Sendable {}

/// One exchange through the pool: completes once, whichever of response, failure or timeout comes first.
final class PooledExchange {
    private var completion: ((Result<UpstreamResponse, UpstreamError>) -> Void)?
    /// When the pool's sweep times it out.
    let deadline: NIODeadline
    var waiterID: Int?
    var connection: UpstreamConnectionHandler?
    /// The caller's last word before the first byte leaves (see `UpstreamPool.execute`); taken once.
    private var admit: ((@escaping (Bool) -> Void) -> Void)?
    /// True while the caller decides whether the request may leave; the sweep does not time it out meanwhile.
    var isAdmitting = false

    init(
        deadline: NIODeadline,
        admit: ((@escaping (Bool) -> Void) -> Void)?,
        completion: @escaping (Result<UpstreamResponse, UpstreamError>) -> Void
    ) {
        self.deadline = deadline
        self.admit = admit
        self.completion = completion
    }

    func takeAdmit() -> ((@escaping (Bool) -> Void) -> Void)? {
        defer { self.admit = nil }
        return self.admit
    }

    var isComplete: Bool { self.completion == nil }

    func complete(_ result: Result<UpstreamResponse, UpstreamError>) {
        guard let completion = self.completion else { return }
        self.completion = nil
        completion(result)
    }
}

@available(*, unavailable)
extension PooledExchange: Sendable {}
