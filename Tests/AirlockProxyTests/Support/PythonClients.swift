import AirlockProxy
import AirlockRedaction
import AirlockStandIns
import Foundation
import Logging
import NIOCore
import NIOPosix

/// The vendors' official Python clients (`scaleapi`, `labelbox`), installed by `scripts/install-deps.sh` into a
/// virtual environment at `.build/python-clients`, run as real subprocesses.
enum PythonClients {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `$AIRLOCK_PYTHON_CLIENTS` (a virtual environment, or its interpreter), else `.build/python-clients`.
    static var interpreter: String {
        if let configured = ProcessInfo.processInfo.environment["AIRLOCK_PYTHON_CLIENTS"], !configured.isEmpty {
            return configured.hasSuffix("python3") ? configured : configured + "/bin/python3"
        }
        return packageRoot.appendingPathComponent(".build/python-clients/bin/python3").path
    }

    /// Why the clients cannot run, or `nil` when the interpreter is there.
    static var missing: String? {
        guard FileManager.default.isExecutableFile(atPath: Self.interpreter) else {
            return "no Python with the vendor clients at \(Self.interpreter): run scripts/install-deps.sh"
        }
        return nil
    }

    struct Outcome {
        var process: CurlResult
        /// The script's `@@RESULT@@ {json}` line.
        var result: [String: Any]?

        var ok: Bool { self.result?["ok"] as? Bool == true }
        var error: String? { self.result?["error"] as? String }
        var status: Int? { self.result?["status"] as? Int }
        var summary: String {
            "exit \(self.process.exitCode)\n\(self.process.stdout)\n\(self.process.stderr.suffix(3000))"
        }
    }

    static let resultMarker = "@@RESULT@@ "

    /// Runs `script` with the clients' interpreter; `input` reaches it as JSON in `$AIRLOCK_TEST_INPUT`.
    /// Waits off the Swift concurrency pool (see `Curl.run`), at most `timeout` seconds.
    static func run(
        _ script: String,
        input: [String: Any],
        environment: [String: String] = [:],
        timeout: TimeInterval = 25
    ) async throws -> Outcome {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-client-\(UUID()).py")
        try script.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.interpreter)
        process.arguments = [file.path]
        var env = ProcessInfo.processInfo.environment
        // No proxy but Airlock; and no trust but what the test names: requests lets REQUESTS_CA_BUNDLE and
        // CURL_CA_BUNDLE override a session's own `verify` (scaleapi's `verify=CA_PATH`).
        for name in [
            "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "REQUESTS_CA_BUNDLE",
            "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR",
        ] {
            env[name] = nil
        }
        env["NO_PROXY"] = "127.0.0.1"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["AIRLOCK_TEST_INPUT"] = String(decoding: try JSONSerialization.data(withJSONObject: input), as: UTF8.self)
        env.merge(environment) { _, new in new }
        process.environment = env
        let finished = try await Curl.execute(process, timeout: timeout)
        let line = finished.stdout.split(separator: "\n").last { $0.hasPrefix(Self.resultMarker) }
        let result = line.flatMap {
            try? JSONSerialization.jsonObject(with: Data($0.dropFirst(Self.resultMarker.count).utf8))
        }
        return Outcome(process: finished, result: result as? [String: Any])
    }
}

/// Airlock in process, in front of a stand-in vendor that answers the Scale and Labelbox APIs, with the example
/// lab policy (`Policies/lab.yaml`) for both vendors:
/// `https://127.0.0.1:<port>/scale/...` and `https://127.0.0.1:<port>/labelbox/graphql`.
final class VendorClientAirlock: @unchecked Sendable {
    // @unchecked: every property is a constant of a thread-safe type.
    let certificates: ThrowawayCertificates
    let group: MultiThreadedEventLoopGroup
    let vendor: StandInVendor
    let scale = ScaleAPIStandIn()
    let labelbox = LabelboxAPIStandIn()
    let server: AirlockProxyServer

    init(policy: String = PythonClients.packageRoot.appendingPathComponent("Policies/lab.yaml").path) async throws {
        self.certificates = try ThrowawayCertificates.create()
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        self.vendor = try await StandInVendor.start(group: self.group, serving: self.certificates)
        self.vendor.apis = [self.scale, self.labelbox]
        let upstream = "https://127.0.0.1:\(self.vendor.port)"
        let configuration = try ProxyConfiguration.parse(
            yaml: """
                listen:
                  address: 127.0.0.1:0
                  tls: {certificate: airlock.crt, key: airlock.key}
                limits:
                  max_body_bytes: 1048576
                  upstream_timeout_seconds: 10
                  shutdown_grace_seconds: 5
                vendors:
                  - name: scale
                    path_prefix: /scale
                    upstream: \(upstream)
                    ca: ca.crt
                    routes: ["POST /v1/task/*", "GET /v1/task/*", "POST /v2/task/chat"]
                    policy: none
                  - name: labelbox
                    path_prefix: /labelbox
                    upstream: \(upstream)
                    ca: ca.crt
                    routes: ["POST /graphql"]
                    policy: none
                """,
            file: "vendor-clients.yaml",
            baseDirectory: self.certificates.directory
        )
        let keys = PseudonymKeys(secret: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let lab = try VendorPolicy.load(path: policy, keys: keys)
        var logger = Logger(label: "airlock.test")
        logger.logLevel = .critical
        self.server = try AirlockProxyServer(
            configuration: configuration,
            group: self.group,
            inspector: PolicyInspector(policies: ["scale": lab, "labelbox": lab]),
            recorder: NoOpRecorder(),
            logger: logger
        )
        try await self.server.start()
    }

    var baseURL: String { "https://127.0.0.1:\(self.server.listenAddress?.port ?? 0)" }
    var caPath: String { self.certificates.caCertificatePath }

    /// Everything the vendor received, request lines, headers and bodies (multipart file parts included), as text.
    var everythingTheVendorSaw: String {
        self.vendor.requests.map { request in
            ([request.method + " " + request.uri] + request.headers.map { "\($0.name): \($0.value)" }
                + [request.bodyText]).joined(separator: "\n")
        }.joined(separator: "\n\n")
    }

    func close() async {
        await self.server.shutdown(gracePeriod: .seconds(2))
        await self.vendor.stop()
        try? await self.group.shutdownGracefully()
        self.certificates.remove()
    }
}
