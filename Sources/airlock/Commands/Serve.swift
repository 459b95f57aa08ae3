import AirlockAudit
import AirlockProxy
import AirlockRedaction
import AirlockStandIns
import AirlockTLS
import ArgumentParser
import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix

/// `airlock serve [--config FILE] [--demo-once]`
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Airlock reverse proxy (HTTPS in front of the configured vendors).",
        discussion: """
            With --config, serves that configuration until SIGTERM or SIGINT, then stops accepting, lets in-flight
            requests finish (limits.shutdown_grace_seconds) and exits. SIGHUP, or a change to the configuration file
            or any policy, include or term file behind it, reloads the policies: the new set is validated and compiled
            first, then swapped in at once; an invalid set is refused and logged, and the last good one keeps serving.
            Without --config, runs the built-in demo: throwaway certificates in a temporary directory, a stand-in
            vendor on 127.0.0.1, Airlock in front of it, one demo request through it; then keeps serving and prints
            a curl command to try (or exits with --demo-once).
            Exit codes: 0 clean shutdown; 1 runtime failure (cannot bind, bad certificate); 64 bad usage or an
            invalid configuration (reported as file:line:col).
            """
    )

    @Option(name: .long, help: "The configuration file (YAML). Without it, the built-in demo runs.")
    var config: String?

    @Flag(name: .long, help: "Built-in demo only: exit after the demo request instead of serving on.")
    var demoOnce = false

    @Option(
        name: .long,
        help: """
            How often to check the configuration and policy files for changes, in seconds; a settled change reloads \
            the policies like SIGHUP does. 0 turns watching off.
            """
    )
    var watchInterval: Double = 1

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        if self.demoOnce && self.config != nil {
            throw ValidationError("--demo-once applies to the built-in demo only; drop it or drop --config.")
        }
        if !(self.watchInterval >= 0 && self.watchInterval <= 3600) {
            throw ValidationError("--watch-interval must be between 0 (off) and 3600 seconds.")
        }
        if Logger.Level(rawValue: self.logLevel) == nil {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical.")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: self.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "airlock")
        if let path = self.config {
            let configuration: ProxyConfiguration
            do {
                configuration = try ProxyConfiguration.load(path: path)
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(64)
            }
            let interval: Duration? = self.watchInterval > 0 ? .milliseconds(Int64(self.watchInterval * 1000)) : nil
            try await Self.serve(configuration, logger: logger, watchInterval: interval, afterStart: { _, _ in })
        } else {
            try await ServeDemo.run(once: self.demoOnce, logger: logger)
        }
    }

    /// Starts the proxy, calls `afterStart`, then serves until SIGTERM/SIGINT (or until `afterStart` returns
    /// `stopNow`), and shuts down gracefully.
    static func serve(
        _ configuration: ProxyConfiguration,
        logger: Logger,
        group: MultiThreadedEventLoopGroup? = nil,
        keys: PseudonymKeys? = nil,
        watchInterval: Duration? = .seconds(1),
        afterStart: (AirlockProxyServer, MultiThreadedEventLoopGroup) async throws -> Void,
        stopNow: Bool = false
    ) async throws {
        // Policies compile and the audit log opens before anything listens: a bad policy or an unwritable log
        // means Airlock does not start, rather than starting without them.
        let egress: EgressSetup
        do {
            egress = try await EgressSetup.prepare(configuration, keys: keys, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
        do {
            try await Self.serve(
                configuration,
                egress: egress,
                keys: keys,
                logger: logger,
                group: group,
                watchInterval: watchInterval,
                afterStart: afterStart,
                stopNow: stopNow
            )
        } catch {
            await egress.close()
            throw error
        }
        await egress.close()
    }

    private static func serve(
        _ configuration: ProxyConfiguration,
        egress: EgressSetup,
        keys: PseudonymKeys?,
        logger: Logger,
        group: MultiThreadedEventLoopGroup?,
        watchInterval: Duration?,
        afterStart: (AirlockProxyServer, MultiThreadedEventLoopGroup) async throws -> Void,
        stopNow: Bool
    ) async throws {
        // A group passed in belongs to the caller, who shuts it down.
        let ownsGroup = group == nil
        let group = group ?? MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
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
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            if ownsGroup { try? await group.shutdownGracefully() }
            throw ExitCode(1)
        }
        if let log = egress.auditLog { AuditMetrics.register(log, in: server.metrics.registry) }
        egress.auditSpace?.register(in: server.metrics.registry)
        let signals = SignalWaiter()
        do {
            try await server.start()
        } catch {
            FileHandle.standardError.write(Data("error: cannot start listening (\(error))\n".utf8))
            if ownsGroup { try? await group.shutdownGracefully() }
            throw ExitCode(1)
        }
        do {
            try await afterStart(server, group)
        } catch {
            await server.shutdown(gracePeriod: .seconds(1))
            if ownsGroup { try? await group.shutdownGracefully() }
            throw error
        }
        if !stopNow {
            let reloader = PolicyReloader(
                configuration: configuration,
                egress: egress,
                server: server,
                keys: keys,
                logger: logger
            )
            var watcher: FileChangeWatcher?
            if let interval = watchInterval, configuration.sourcePath != nil {
                let events = signals.continuation
                watcher = FileChangeWatcher(interval: interval) { events.yield(.filesChanged) }
                watcher?.watch(egress.sourceFiles)
            }
            defer { watcher?.stop() }
            loop: while true {
                switch await signals.wait() {
                case .signal(SIGHUP):
                    if let files = await reloader.reload(because: "SIGHUP") { watcher?.watch(files) }
                case .filesChanged:
                    if let files = await reloader.reload(because: "a configuration or policy file changed") {
                        watcher?.watch(files)
                    }
                case .signal(let signal):
                    logger.info("signal received; shutting down", metadata: ["airlock.signal": "\(signal)"])
                    break loop
                }
            }
        }
        let grace = TimeAmount.nanoseconds(Int64(configuration.limits.shutdownGraceSeconds * 1e9))
        await server.shutdown(gracePeriod: grace)
        if ownsGroup { try? await group.shutdownGracefully() }
    }
}

/// Reloads on SIGHUP or a changed file: re-reads the configuration file and recompiles every policy off the
/// cooperative pool, then swaps them in at once. An invalid new set is refused and logged, and the previous policies
/// keep serving. Listeners, vendors, limits and the audit log are not reloaded: a change there is logged as needing a
/// restart.
final class PolicyReloader: Sendable {
    let configuration: ProxyConfiguration
    let egress: EgressSetup
    let server: AirlockProxyServer
    let keys: PseudonymKeys?
    let logger: Logger

    init(
        configuration: ProxyConfiguration,
        egress: EgressSetup,
        server: AirlockProxyServer,
        keys: PseudonymKeys?,
        logger: Logger
    ) {
        self.configuration = configuration
        self.egress = egress
        self.server = server
        self.keys = keys
        self.logger = logger
    }

    /// - Returns: the files the new policies were read from when they were swapped in; nil when refused.
    func reload(because reason: String) async -> [String]? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.reloadNow(because: reason)) }
        }
    }

    private func reloadNow(because reason: String) -> [String]? {
        let files = self.attemptReload(because: reason)
        self.server.metrics.recordReload(applied: files != nil)
        return files
    }

    private func attemptReload(because reason: String) -> [String]? {
        guard let path = self.configuration.sourcePath, FileManager.default.fileExists(atPath: path) else {
            self.logger.warning(
                "reload ignored: the configuration file is gone or was not read from a file",
                metadata: ["airlock.reload.trigger": "\(reason)"]
            )
            return nil
        }
        do {
            let fresh = try ProxyConfiguration.load(path: path)
            // Vendors are not reloaded: one served now but gone from the file (removed, renamed) would keep taking
            // requests with no policy at all, its paths and queries leaving unredacted. Refuse the whole set.
            let missing = self.configuration.vendors.map(\.name).filter { name in
                !fresh.vendors.contains { $0.name == name }
            }
            guard missing.isEmpty else {
                self.logger.error(
                    "reload refused: the new configuration drops vendors still being served; restart to remove them",
                    metadata: ["airlock.reload.trigger": "\(reason)", "airlock.vendors": "\(missing)"]
                )
                return nil
            }
            // The key file is one of the settings that need a restart (see `restartOnly`): policies are compiled
            // with the running one, so pseudonyms already handed out still restore.
            var policiesOnly = fresh
            policiesOnly.pseudonymKeyPath = self.configuration.pseudonymKeyPath
            // Limits need a restart too: the decompressed-size cap stays the running `max_body_bytes`.
            policiesOnly.limits = self.configuration.limits
            let compiled = try EgressSetup.compile(policiesOnly, keys: self.keys)
            self.egress.inspector.replace(compiled.inspector)
            self.server.updatePolicyVersions(compiled.versions)
            self.logger.notice(
                "policies reloaded",
                metadata: [
                    "airlock.reload.trigger": "\(reason)",
                    "airlock.policies":
                        "\(compiled.versions.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })",
                ]
            )
            if Self.restartOnly(fresh) != Self.restartOnly(self.configuration) {
                self.logger.warning(
                    """
                    the configuration changed beyond policies (listeners, vendors, limits, audit, callbacks or \
                    clients): restart to apply
                    """
                )
            }
            return compiled.sourceFiles
        } catch {
            self.logger.error(
                "reload refused; the previous policies keep serving",
                metadata: ["airlock.reload.trigger": "\(reason)", "airlock.error": "\(error)"]
            )
            return nil
        }
    }

    /// The parts of a configuration a reload does not apply, in a comparable form.
    static func restartOnly(_ configuration: ProxyConfiguration) -> String {
        var parts: [String] = [
            "\(configuration.listen)", "\(String(describing: configuration.admin))", "\(configuration.limits)",
            "\(String(describing: configuration.audit))", "\(String(describing: configuration.pseudonymKeyPath))",
            "\(String(describing: configuration.callbacks))",
            // Compared only, never printed (it holds the clients' token hashes).
            "\(String(describing: configuration.clients))",
        ]
        for vendor in configuration.vendors {
            var copy = vendor
            copy.policy = nil
            copy.forwardedHeaders = []
            parts.append("\(copy) \(vendor.forwardedHeaders.sorted())")
        }
        return parts.joined(separator: "\n")
    }
}

/// Waits for SIGTERM, SIGINT or SIGHUP (delivered through Dispatch, not a C handler), or a posted event.
final class SignalWaiter {
    enum Event: Sendable {
        case signal(Int32)
        case filesChanged
    }

    private let sources: [any DispatchSourceSignal]
    /// Posts an event from any thread.
    let continuation: AsyncStream<Event>.Continuation
    private var events: AsyncStream<Event>.Iterator

    init() {
        let (stream, continuation) = AsyncStream<Event>.makeStream()
        self.continuation = continuation
        self.events = stream.makeAsyncIterator()
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(.signal(number)) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func wait() async -> Event {
        await self.events.next() ?? .signal(SIGTERM)
    }

    deinit {
        for source in self.sources { source.cancel() }
    }
}
/// The built-in demo behind `airlock serve` without `--config`.
enum ServeDemo {
    /// A labeling task as a lab would send it, carrying things that must not reach a vendor as they are: a codename,
    /// a roadmap marker, an internal URL and a staff email. All fictional.
    static let demoTask = """
        {"project": "Nightingale", "instruction": "Rank the answers of Project Falcon before the Q3 2026 launch.", \
        "reference": "https://eval.corp.example.com/falcon/runs/4411", "contact": "jane.doe@lab.example.com", \
        "attachments": [{"type": "text", "content": "Tidewater eval batch 7: compare tone and accuracy."}]}
        """

    static func run(once: Bool, logger: Logger) async throws {
        let certificates = try ThrowawayCertificates.create(commonName: "Airlock demo CA (throwaway)")
        defer { certificates.remove() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let vendor = try await StandInVendor.start(
            group: group,
            certificatePath: certificates.vendorCertificatePath,
            keyPath: certificates.vendorKeyPath
        )

        var configuration = try Self.configuration(
            certificates: certificates,
            vendorPort: vendor.port,
            port: 8443,
            adminPort: 9901
        )
        // The usual ports may be taken (a second demo, a real Airlock): fall back to ephemeral ones.
        if !Self.portIsFree(8443) || !Self.portIsFree(9901) {
            configuration = try Self.configuration(
                certificates: certificates,
                vendorPort: vendor.port,
                port: 0,
                adminPort: 0
            )
        }

        let outcome: Result<Void, any Error>
        do {
            try await Self.runDemo(
                configuration,
                certificates: certificates,
                vendor: vendor,
                group: group,
                once: once,
                logger: logger
            )
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await vendor.stop()
        try? await group.shutdownGracefully()
        try outcome.get()
    }

    private static func runDemo(
        _ configuration: ProxyConfiguration,
        certificates: ThrowawayCertificates,
        vendor: StandInVendor,
        group: MultiThreadedEventLoopGroup,
        once: Bool,
        logger: Logger
    ) async throws {
        // A fresh pseudonym key per demo run: tokens are only meaningful to this run.
        var secret = SystemRandomNumberGenerator()
        let keys = PseudonymKeys(secret: (0..<PseudonymKeys.secretLength).map { _ in secret.next() as UInt8 })
        try await Serve.serve(
            configuration,
            logger: logger,
            group: group,
            keys: keys,
            afterStart: { server, group in
                let port = server.listenAddress?.port ?? 0
                let adminPort = server.adminAddress?.port ?? 0
                print("Airlock demo")
                print("  stand-in vendor  https://127.0.0.1:\(vendor.port)  (throwaway certificate)")
                print("  Airlock          https://127.0.0.1:\(port)/scale/...  -> vendor \"scale\"")
                print("  admin            http://127.0.0.1:\(adminPort)/metrics")
                print("  policy           Policies/demo.yaml")
                print("  audit log        \(certificates.directory)/audit  (airlock log show --dir …)")
                print("")
                print("What the lab sent:  POST /scale/v1/task/textcollection")
                print("  " + Self.demoTask)
                let response = try await HTTPSProbe.send(
                    group: group,
                    host: "127.0.0.1",
                    port: port,
                    caPath: certificates.caCertificatePath,
                    method: "POST",
                    path: "/scale/v1/task/textcollection",
                    headers: [
                        ("Content-Type", "application/json"), ("X-Forwarded-For", "10.1.2.3"),
                        ("Via", "1.1 lab-gateway.corp.example.com"),
                    ],
                    body: Array(Self.demoTask.utf8)
                )
                print("")
                if let received = vendor.requests.last {
                    print("What the vendor received:  \(received.method) \(received.uri)")
                    for (name, value) in received.headers {
                        print("  \(name): \(value)")
                    }
                    print("  " + received.bodyText)
                } else {
                    print("The vendor received nothing.")
                }
                print("")
                print(
                    "What the lab got back: HTTP \(response.status), \(response.body.count) bytes "
                        + "(the vendor's echo, with pseudonyms restored)"
                )
                print("  " + response.bodyText.prefix(600))
                Self.printAuditRecord(directory: "\(certificates.directory)/audit")
                if !once {
                    print("")
                    print("Try it yourself (Ctrl-C to stop):")
                    print("  curl --cacert \(certificates.caCertificatePath) -H 'Content-Type: application/json' \\")
                    print("    -d '{\"project\": \"Nightingale\", \"contact\": \"jane.doe@lab.example.com\"}' \\")
                    print("    https://127.0.0.1:\(port)/scale/v1/task/textcollection")
                }
                fflush(nil)
                if response.status != 200 {
                    throw DemoFailure(status: response.status, body: response.bodyText)
                }
            },
            stopNow: once
        )
    }

    /// Shows the decision the audit log holds for the demo request: rule ids and counts, never the values.
    private static func printAuditRecord(directory: String) {
        print("")
        guard let entries = try? AuditLogReader(directory: URL(fileURLWithPath: directory)).entries(),
            let decision = entries.last(where: { $0.event == .decision })
        else {
            print("The audit log holds no decision.")
            return
        }
        print("What the audit log recorded (seq \(decision.seq), hash-chained):")
        print("  decision \(decision.decision?.rawValue ?? "?")  policy \(decision.policy ?? "?")")
        for finding in decision.findings ?? [] {
            print(
                "  finding  \(finding.id) ×\(finding.count) (\(finding.action)) at \(finding.paths.joined(separator: ", "))"
            )
        }
        print("  forwarded \(decision.forwardedBytes ?? 0) bytes, sha256 \(decision.forwardedSHA256 ?? "-")")
    }

    struct DemoFailure: Error, CustomStringConvertible {
        var status: Int
        var body: String
        var description: String { "the demo request failed with HTTP \(self.status): \(self.body)" }
    }

    static func configuration(
        certificates: ThrowawayCertificates,
        vendorPort: Int,
        port: Int,
        adminPort: Int
    ) throws
        -> ProxyConfiguration
    {
        let yaml = """
            listen:
              address: 127.0.0.1:\(port)
              tls: {certificate: \(certificates.airlockCertificatePath), key: \(certificates.airlockKeyPath)}
            admin:
              address: 127.0.0.1:\(adminPort)
            limits:
              max_body_bytes: 33554432
              upstream_timeout_seconds: 30
              shutdown_grace_seconds: 5
            vendors:
              - name: scale
                path_prefix: /scale
                upstream: https://127.0.0.1:\(vendorPort)
                ca: \(certificates.caCertificatePath)
                routes: ["POST /v1/task/*", "GET /v1/task/*", "POST /v1/batches"]
                policy: Policies/demo.yaml
            audit:
              directory: \(certificates.directory)/audit
            """
        return try ProxyConfiguration.parse(
            yaml: yaml,
            file: "<built-in demo>",
            baseDirectory: FileManager.default.currentDirectoryPath
        )
    }

    static func portIsFree(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }
}
