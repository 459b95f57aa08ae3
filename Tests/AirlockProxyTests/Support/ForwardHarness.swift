import AirlockProxy
import AirlockRedaction
import AirlockStandIns
import AirlockSupport
import AirlockTLS
import Foundation
import Logging
import NIOCore
import NIOPosix

/// Airlock with a forward listener (`forward:`) in front of the stand-in vendor, which answers the Scale and Labelbox
/// APIs. `api.scale.com` and `api.labelbox.com` are listed hosts whose `upstream` is the stand-in on 127.0.0.1: the
/// proxy never resolves a CONNECT host, so clients reach "the vendor" without any change to name resolution. The
/// example lab policy inspects both vendors. Call `close()` at the end of every test.
final class ForwardHarness: @unchecked Sendable {
    // @unchecked: every property is a constant of a thread-safe type.
    static let token = "fwd-pipeline-token-8c1f"
    static let otherToken = "fwd-labelbox-only-token-77a2"

    let certificates: ThrowawayCertificates
    let group: MultiThreadedEventLoopGroup
    let vendor: StandInVendor
    let recorder = CollectingRecorder()
    let server: AirlockProxyServer
    let interceptionCAPath: String

    struct Options {
        /// `forward.tls`: clients speak TLS to the proxy itself.
        var proxyTLS = false
        /// The vendor's `ca:` (a CA that did not sign the stand-in's certificate makes the vendor's TLS fail).
        var vendorCA = "ca.crt"
        var policy = true
        /// The hosts the interception CA's name constraints permit.
        var caHosts = ["api.scale.com", "api.labelbox.com"]
        /// `limits.request_head_timeout_seconds`.
        var headTimeoutSeconds = 10.0
    }

    init(_ options: Options = Options()) async throws {
        self.certificates = try ThrowawayCertificates.create()
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        self.vendor = try await StandInVendor.start(group: self.group, serving: self.certificates)
        self.vendor.apis = [ScaleAPIStandIn(), LabelboxAPIStandIn()]
        let directory = URL(fileURLWithPath: self.certificates.directory)
        try InterceptionAuthority.create(in: directory, hosts: options.caHosts)
        self.interceptionCAPath = directory.appendingPathComponent("interception-ca.crt").path
        if options.vendorCA != "ca.crt" {
            let other = try CertificateAuthority(selfSignedCommonName: "Some other CA")
            try ThrowawayCertificates.write(
                other.certificate.pemRepresentation,
                to: directory.appendingPathComponent(options.vendorCA).path,
                mode: 0o644
            )
        }
        func hash(_ token: String) -> String { Hex.encode(SHA256.hash(Array(token.utf8))) }
        let upstream = "https://127.0.0.1:\(self.vendor.port)"
        let yaml = """
            listen:
              address: 127.0.0.1:0
              tls: {certificate: airlock.crt, key: airlock.key}
            forward:
              address: 127.0.0.1:0
              ca: {certificate: interception-ca.crt, key: interception-ca.key}
            \(options.proxyTLS ? "  tls: {certificate: airlock.crt, key: airlock.key}" : "")
            admin:
              address: 127.0.0.1:0
            limits:
              max_body_bytes: 1048576
              upstream_timeout_seconds: 10
              shutdown_grace_seconds: 5
              request_head_timeout_seconds: \(options.headTimeoutSeconds)
            clients:
              - name: pipeline
                token_sha256: \(hash(Self.token))
                vendors: [scale, labelbox]
              - name: labelbox-only
                token_sha256: \(hash(Self.otherToken))
                vendors: [labelbox]
            vendors:
              - name: scale
                path_prefix: /scale
                hosts: [api.scale.com]
                upstream: \(upstream)
                ca: \(options.vendorCA)
                routes: ["POST /v1/task/*", "GET /v1/task/*", "POST /v2/task/chat"]
                policy: none
              - name: labelbox
                path_prefix: /labelbox
                hosts: [api.labelbox.com]
                upstream: \(upstream)
                ca: \(options.vendorCA)
                routes: ["POST /graphql"]
                policy: none
            """
        let configuration = try ProxyConfiguration.parse(
            yaml: yaml,
            file: "forward.yaml",
            baseDirectory: self.certificates.directory
        )
        var logger = Logger(label: "airlock.test")
        logger.logLevel = .critical
        var inspector: any EgressInspector = PassThroughInspector()
        if options.policy {
            let keys = PseudonymKeys(secret: (0..<32).map { _ in UInt8.random(in: 0...255) })
            let lab = try VendorPolicy.load(
                path: PythonClients.packageRoot.appendingPathComponent("Policies/lab.yaml").path,
                keys: keys
            )
            inspector = PolicyInspector(policies: ["scale": lab, "labelbox": lab])
        }
        do {
            self.server = try AirlockProxyServer(
                configuration: configuration,
                group: self.group,
                inspector: inspector,
                recorder: self.recorder,
                logger: logger
            )
        } catch {
            await self.vendor.stop()
            try? await self.group.shutdownGracefully()
            self.certificates.remove()
            throw error
        }
        try await self.server.start()
    }

    var forwardPort: Int { self.server.forwardAddress?.port ?? 0 }
    var listenPort: Int { self.server.listenAddress?.port ?? 0 }
    var adminPort: Int { self.server.adminAddress?.port ?? 0 }
    var proxyURL: String { "http://127.0.0.1:\(self.forwardPort)" }

    /// curl through the forward listener, trusting only the interception CA, authenticated as `pipeline` unless
    /// `arguments` says otherwise.
    func curl(_ arguments: [String], authenticate: Bool = true) async throws -> CurlResult {
        let auth = authenticate ? ["--proxy-header", "Proxy-Authorization: Bearer \(Self.token)"] : []
        return try await Curl.run(["-x", self.proxyURL, "--cacert", self.interceptionCAPath] + auth + arguments)
    }

    /// The forward listener's CONNECT results on `/metrics`.
    func connects(_ result: String) -> Int {
        metricSample("airlock_forward_connects_total{result=\"\(result)\"}", adminPort: self.adminPort) ?? 0
    }

    /// Early refusals the audit log received (aggregated records), by code.
    func recordedRefusals(_ code: String) -> Int {
        self.recorder.decisions.filter { $0.reason == code }.reduce(0) { $0 + ($1.aggregated?.count ?? 1) }
    }

    /// Runs `body` against a fresh harness and closes it, also when `body` throws.
    static func with(_ options: Options = Options(), _ body: (ForwardHarness) async throws -> Void) async throws {
        let harness = try await ForwardHarness(options)
        do {
            try await body(harness)
        } catch {
            await harness.close()
            throw error
        }
        await harness.close()
    }

    func close() async {
        await self.server.shutdown(gracePeriod: .seconds(2))
        await self.vendor.stop()
        try? await self.group.shutdownGracefully()
        self.certificates.remove()
    }
}
