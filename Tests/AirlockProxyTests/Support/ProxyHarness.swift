import AirlockProxy
import AirlockStandIns
import AirlockTLS
import Foundation
import Logging
import NIOCore
import NIOPosix

/// A running Airlock (real sockets on 127.0.0.1, ephemeral ports) in front of a stand-in vendor, with throwaway
/// certificates. Call `close()` at the end of every test.
final class ProxyHarness: @unchecked Sendable {
    let certificates: ThrowawayCertificates
    let group: MultiThreadedEventLoopGroup
    let vendor: StandInVendor
    let server: AirlockProxyServer
    let configuration: ProxyConfiguration

    struct Options {
        var maxBodyBytes = 1024 * 1024
        var upstreamTimeoutSeconds = 5.0
        var routes = ["POST /v1/task/*", "GET /v1/task/*", "POST /v1/batches", "HEAD /v1/task/*"]
        var inspector: any EgressInspector = PassThroughInspector()
        var recorder: any EgressRecorder = NoOpRecorder()
        /// Overrides the vendor upstream (e.g. a closed port, or a vendor with another certificate).
        var upstreamPort: Int?
        var admin = true
        /// YAML flow mapping for the vendor's `pool:` key, e.g. `{max_connections: 2}`.
        var pool: String?
        var clientIdleTimeoutSeconds = 60.0
        /// SPKI pins for the vendor (`pin_sha256`).
        var pins: [String] = []
        /// Extra lab headers the vendor may receive (the vendor's `headers:` list).
        var headers: [String] = []
        /// Adds the pin of the stand-in vendor's own key.
        var pinTheVendorKey = false
        /// Airlock's logger; by default one that logs only critical messages.
        var logger: Logger?
        /// `limits.max_response_bytes`.
        var maxResponseBytes = 64 * 1024 * 1024
        /// More `limits:` keys, as YAML lines (`request_head_timeout_seconds: 0.5`).
        var limits: [String] = []
    }

    init(_ options: Options = Options()) async throws {
        self.certificates = try ThrowawayCertificates.create()
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        self.vendor = try await StandInVendor.start(group: self.group, serving: self.certificates)
        var pins = options.pins
        if options.pinTheVendorKey {
            pins.append(try Certificate(pemFile: self.certificates.vendorCertificatePath).spkiSHA256Base64)
        }
        let routes = options.routes.map { "\"\($0)\"" }.joined(separator: ", ")
        let yaml = """
            listen:
              address: 127.0.0.1:0
              tls: {certificate: airlock.crt, key: airlock.key}
            \(options.admin ? "admin:\n  address: 127.0.0.1:0" : "")
            limits:
              max_body_bytes: \(options.maxBodyBytes)
              max_response_bytes: \(options.maxResponseBytes)
              upstream_timeout_seconds: \(options.upstreamTimeoutSeconds)
              shutdown_grace_seconds: 10
              client_idle_timeout_seconds: \(options.clientIdleTimeoutSeconds)
            \(options.limits.map { "  \($0)" }.joined(separator: "\n"))
            vendors:
              - name: scale
                path_prefix: /scale
                upstream: https://127.0.0.1:\(options.upstreamPort ?? self.vendor.port)
                ca: ca.crt
                routes: [\(routes)]
                policy: none
                headers: [\(options.headers.map { "\"\($0)\"" }.joined(separator: ", "))]
            \(options.pool.map { "    pool: \($0)" } ?? "")
                pin_sha256: [\(pins.map { "\"\($0)\"" }.joined(separator: ", "))]
            """
        self.configuration = try ProxyConfiguration.parse(
            yaml: yaml,
            file: "test.yaml",
            baseDirectory: self.certificates.directory
        )
        var logger = Logger(label: "airlock.test")
        logger.logLevel = .critical
        self.server = try AirlockProxyServer(
            configuration: self.configuration,
            group: self.group,
            inspector: options.inspector,
            recorder: options.recorder,
            logger: options.logger ?? logger
        )
        try await self.server.start()
    }

    var port: Int { self.server.listenAddress?.port ?? 0 }
    var adminPort: Int { self.server.adminAddress?.port ?? 0 }

    func url(_ path: String) -> String { "https://127.0.0.1:\(self.port)\(path)" }

    /// curl against the HTTPS listener, trusting only the throwaway CA.
    func curl(_ arguments: [String], timeout: TimeInterval = 20) async throws -> CurlResult {
        try await Curl.run(["--cacert", self.certificates.caCertificatePath] + arguments, timeout: timeout)
    }

    func close() async {
        await self.server.shutdown(gracePeriod: .seconds(2))
        await self.vendor.stop()
        try? await self.group.shutdownGracefully()
        self.certificates.remove()
    }
}

/// Parses `{"error": {"code": ..., "message": ...}}`.
func errorCode(_ body: String) -> String? {
    guard let data = body.data(using: .utf8),
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
        let error = object["error"] as? [String: Any]
    else { return nil }
    guard error["message"] is String else { return nil }
    return error["code"] as? String
}

/// The stand-in's echo: `{"received": {...}}`.
func echoed(_ body: String) -> [String: Any]? {
    guard let data = body.data(using: .utf8),
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return nil }
    return object["received"] as? [String: Any]
}

/// A port nothing listens on: bound, then released.
func closedPort() throws -> Int {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    defer { try? group.syncShutdownGracefully() }
    let channel = try ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).wait()
    let port = channel.localAddress!.port!
    try channel.close().wait()
    return port
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: TimeInterval = 10, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
    return condition()
}
