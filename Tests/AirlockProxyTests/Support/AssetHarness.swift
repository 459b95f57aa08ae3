import AirlockAudit
import AirlockProxy
import AirlockRedaction
import AirlockStandIns
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Airlock with an `assets:` section on 127.0.0.1: a stand-in vendor upstream (Scale's API plus the echo) for scale,
/// labelbox and labelstudio; a stand-in file server inside the lab that the gateway may fetch from (`/datasets/` and
/// the `gs://lab-data/` bucket, served under `/gcs/lab-data/`); and a second stand-in outside the allowlist that must
/// never be contacted. Records go to a real audit log with bodies. Call `close()` at the end of every test.
final class AssetHarness: @unchecked Sendable {
    static let publicURL = "https://assets.airlock.example.com"
    static let policyText = """
        version: 1
        name: asset-test
        terms:
          - {id: codenames, label: CODENAME, action: pseudonymize, values: ["Nightingale", "Project Falcon"]}
        detectors:
          - url: {action: redact, hosts: ["*.corp.example.com"]}
        content:
          unknown: block
        """

    let certificates: ThrowawayCertificates
    let group: MultiThreadedEventLoopGroup
    let vendor: StandInVendor
    let scale = ScaleAPIStandIn()
    let files: StandInVendor
    let fileServer = FileServerStandIn()
    let outside: StandInVendor
    let server: AirlockProxyServer
    let auditLog: AuditLog
    let inspections = CountingInspector.Counter()
    let logs = CapturedLog()
    var directory: String { self.certificates.directory }
    var auditDirectory: String { self.directory + "/audit" }
    var configuration: ProxyConfiguration { self.server.configuration }

    struct Options {
        /// Without `assets:` at all.
        var assets = true
        /// The YAML of `assets.addresses`; nil leaves it out (the default denies loopback).
        var addresses: String? = "[127.0.0.1/32]"
    }

    init(_ options: Options = Options()) async throws {
        self.certificates = try ThrowawayCertificates.create()
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        self.vendor = try await StandInVendor.start(group: self.group, serving: self.certificates)
        self.vendor.apis = [self.scale]
        self.files = try await StandInVendor.start(group: self.group, serving: self.certificates)
        self.files.apis = [self.fileServer]
        self.outside = try await StandInVendor.start(group: self.group, serving: self.certificates)
        let directory = self.certificates.directory
        try ThrowawayCertificates.write(Self.policyText, to: directory + "/policy.yaml", mode: 0o644)
        try ThrowawayCertificates.write(
            PseudonymKeys.generateKeyFileContents(),
            to: directory + "/pseudonym.key",
            mode: 0o600
        )
        let upstream = "https://127.0.0.1:\(self.vendor.port)"
        let fileBase = "https://127.0.0.1:\(self.files.port)"
        let addresses = options.addresses.map { "\n  addresses: \($0)" } ?? ""
        let assets =
            options.assets
            ? """

            assets:
              public_url: \(Self.publicURL)
              listen: {address: 127.0.0.1:0, tls: {certificate: airlock.crt, key: airlock.key}}
              internal_hosts: ["*.corp.example.com"]
              ca: ca.crt
              revocations: revoked.txt
              sources:
                - url: \(fileBase)/datasets/
                - url: gs://lab-data/
                  fetch_from: \(fileBase)/gcs/lab-data/\(addresses)
            """ : ""
        let yaml = """
            listen:
              address: 127.0.0.1:0
              tls: {certificate: airlock.crt, key: airlock.key}
            pseudonym_key: pseudonym.key
            limits:
              upstream_timeout_seconds: 5
              shutdown_grace_seconds: 5
            vendors:
              - {name: scale, path_prefix: /scale, upstream: "\(upstream)", ca: ca.crt, policy: policy.yaml,
                 routes: ["POST /v1/task/*"]}
              - {name: labelbox, path_prefix: /labelbox, upstream: "\(upstream)", ca: ca.crt, policy: policy.yaml,
                 routes: ["POST /graphql"]}
              - {name: labelstudio, path_prefix: /labelstudio, upstream: "\(upstream)", ca: ca.crt,
                 policy: policy.yaml, routes: ["POST /api/tasks", "POST /api/projects/*/import"]}\(assets)
            """
        // Written out too, for the `airlock` commands that read it.
        try ThrowawayCertificates.write(yaml, to: directory + "/assets.yaml", mode: 0o644)
        let configuration = try ProxyConfiguration.parse(yaml: yaml, file: "assets.yaml", baseDirectory: directory)
        let keys = try PseudonymKeys(contentsOf: URL(fileURLWithPath: directory + "/pseudonym.key"))
        let policy = try VendorPolicy.load(path: directory + "/policy.yaml", keys: keys)
        let inspector = CountingInspector(
            inner: PolicyInspector(policies: ["scale": policy, "labelbox": policy, "labelstudio": policy]),
            counter: self.inspections
        )
        let log = try await AuditLog.open(
            AuditConfiguration(directory: URL(fileURLWithPath: directory + "/audit"), storeBodies: true)
        )
        self.auditLog = log
        let logger = self.logs.logger
        self.server = try AirlockProxyServer(
            configuration: configuration,
            group: self.group,
            inspector: inspector,
            recorder: AuditRecorder(log: log),
            logger: logger
        )
        try await self.server.start()
    }

    var port: Int { self.server.listenAddress?.port ?? 0 }
    var assetPort: Int { self.server.assetAddress?.port ?? 0 }
    var fileBase: String { "https://127.0.0.1:\(self.files.port)" }

    /// curl against Airlock's lab listener, trusting the throwaway CA.
    func curl(_ arguments: [String]) async throws -> CurlResult {
        try await Curl.run(["--cacert", self.certificates.caCertificatePath] + arguments, timeout: 15)
    }

    /// POSTs `body` to `path` on the lab listener as `contentType`.
    func post(_ path: String, _ body: String, contentType: String = "application/json") async throws -> CurlResult {
        try await self.curl([
            "-H", "Content-Type: \(contentType)", "-H", "Authorization: Basic bGl2ZV90ZXN0Og==", "--data-binary", body,
            "https://127.0.0.1:\(self.port)\(path)",
        ])
    }

    /// The vendor's side of a gateway URL: `<public>/assets/<token>` fetched from the asset listener with curl.
    func fetch(_ publicURL: String) async throws -> Fetched {
        let path = publicURL.hasPrefix(Self.publicURL) ? String(publicURL.dropFirst(Self.publicURL.count)) : publicURL
        let result = try await self.curl(["-D", "-", "https://127.0.0.1:\(self.assetPort)\(path)"])
        return Fetched(result: result)
    }

    /// One answer of the asset listener, split into its head and body.
    struct Fetched {
        var result: CurlResult
        var status: Int { self.result.status }
        /// The header block as received (`-D -`).
        var head: String
        var body: String
        var error: [String: Any]? { AssetGatewayTests.json(self.body)?["error"] as? [String: Any] }

        init(result: CurlResult) {
            self.result = result
            let all = result.body
            if let split = all.range(of: "\r\n\r\n") {
                self.head = String(all[..<split.lowerBound])
                self.body = String(all[split.upperBound...])
            } else {
                self.head = all
                self.body = ""
            }
        }
    }

    /// GETs the stand-in file server received for `/datasets/` and `/gcs/`.
    var sourceFetches: Int {
        self.files.requests.filter { $0.uri.hasPrefix("/datasets/") || $0.uri.hasPrefix("/gcs/") }.count
    }

    /// The gateway URLs (`<public>/assets/<token>`) in `text`.
    static func gatewayURLs(in text: String) -> [String] {
        let pattern = try! NSRegularExpression(
            pattern: #"https://assets\.airlock\.example\.com/assets/[A-Za-z0-9._\-]+"#
        )
        return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            Range($0.range, in: text).map { String(text[$0]) }
        }
    }

    /// Everything the vendor received (request lines, headers, bodies) as text.
    var everythingTheVendorSaw: String {
        self.vendor.requests.map { request in
            ([request.method + " " + request.uri] + request.headers.map { "\($0.name): \($0.value)" }
                + [request.bodyText]).joined(separator: "\n")
        }.joined(separator: "\n\n")
    }

    /// Every audit file (records and stored bodies, decompressed), as text: closes the log first.
    func auditText() async throws -> String {
        await self.server.shutdown(gracePeriod: .seconds(2))
        try? await self.auditLog.close()
        var text = ""
        let enumerator = FileManager.default.enumerator(atPath: self.auditDirectory)
        while let name = enumerator?.nextObject() as? String {
            guard let data = FileManager.default.contents(atPath: self.auditDirectory + "/" + name) else { continue }
            text += String(decoding: data, as: UTF8.self) + "\n"
        }
        return text
    }

    /// The audit log's decisions (closes the log first).
    func decisions() async throws -> [AuditEntry] {
        await self.server.shutdown(gracePeriod: .seconds(2))
        try? await self.auditLog.close()
        return try AuditLogReader(directory: URL(fileURLWithPath: self.auditDirectory)).decisions(
            matching: AuditQuery()
        )
    }

    func close() async {
        await self.server.shutdown(gracePeriod: .seconds(2))
        try? await self.auditLog.close()
        await self.vendor.stop()
        await self.files.stop()
        await self.outside.stop()
        try? await self.group.shutdownGracefully()
        self.certificates.remove()
    }
}

/// Counts the inspections of fetched assets (path `/assets`) an inspector performs.
struct CountingInspector: EgressInspector {
    final class Counter: Sendable {
        let count = Atomic<Int>(0)
    }

    let inner: any EgressInspector
    let counter: Counter

    func inspect(_ request: EgressRequest) throws -> EgressDecision {
        if request.path == "/assets" { self.counter.count.add(1, ordering: .relaxed) }
        return try self.inner.inspect(request)
    }

    func transformResponse(_ response: EgressResponse, for request: EgressRequest) throws -> EgressResponse {
        try self.inner.transformResponse(response, for: request)
    }
}
