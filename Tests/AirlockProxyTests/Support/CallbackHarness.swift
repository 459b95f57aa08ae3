import AirlockAudit
import AirlockProxy
import AirlockRedaction
import AirlockStandIns
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Airlock with a `callbacks:` section on 127.0.0.1: a stand-in vendor upstream for three vendors (scale and
/// labelstudio with callback routes, labelbox without), and a second stand-in as the lab's internal receiver that
/// records the callbacks delivered to it. Call `close()` at the end of every test.
final class CallbackHarness: @unchecked Sendable {
    static let secret = "s3cr3t-callback-auth-0123456789abcdef"
    static let publicURL = "https://airlock.lab.example.com:8443"
    /// Pseudonymises codenames and redacts URLs of hosts that include the public callback host, so a rewritten
    /// callback URL that went through the policy would be mangled.
    static let policyText = """
        version: 1
        name: callback-test
        terms:
          - {id: codenames, label: CODENAME, action: pseudonymize, values: ["Nightingale", "Project Falcon"]}
        detectors:
          - url: {action: redact, hosts: ["*.lab.example.com", "*.corp.example.com", "*.internal"]}
        content:
          unknown: block
        """

    let certificates: ThrowawayCertificates
    let group: MultiThreadedEventLoopGroup
    let vendor: StandInVendor
    let receiver: StandInVendor
    let server: AirlockProxyServer
    let recorder = RecordingRecorder()
    /// The real audit log, when `Options.auditLog` is set (then `recorder` stays empty).
    let auditLog: AuditLog?
    var auditDirectory: String { self.certificates.directory + "/audit" }

    struct Options {
        /// Overrides the receiver's port in the scale route's deliver_to (e.g. a closed port).
        var deliverPort: Int?
        /// Delivers the scale route over plain HTTP to this port instead.
        var plainHTTPPort: Int?
        var policy = true
        /// Record through the real audit log (`AuditRecorder`) instead of the in-memory recorder.
        var auditLog = false
        /// Record through a recorder whose every write fails (a full disk).
        var failingRecorder = false
        var upstreamTimeoutSeconds = 5.0
        /// Gives callbacks their own listener (`callbacks.listen`) on an ephemeral port.
        var callbackListener = false
        /// Requires client certificates on the lab listener (`listen.tls.client_ca: ca.crt`).
        var clientCA = false
        /// The YAML list under `clients:`, indented by two spaces; no `clients:` section when nil.
        var clients: String?
        /// Where Airlock logs; critical-only and discarded when nil.
        var logger: Logger?
    }

    init(_ options: Options = Options()) async throws {
        self.certificates = try ThrowawayCertificates.create()
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        self.vendor = try await StandInVendor.start(group: self.group, serving: self.certificates)
        self.receiver = try await StandInVendor.start(group: self.group, serving: self.certificates)
        let directory = self.certificates.directory
        try ThrowawayCertificates.write(Self.secret + "\n", to: directory + "/scale.secret", mode: 0o600)
        try ThrowawayCertificates.write(Self.policyText, to: directory + "/policy.yaml", mode: 0o644)
        let upstream = "https://127.0.0.1:\(self.vendor.port)"
        let deliverTo =
            options.plainHTTPPort.map { "http://127.0.0.1:\($0)/hooks/scale" }
            ?? "https://127.0.0.1:\(options.deliverPort ?? self.receiver.port)/hooks/scale"
        let clientCA = options.clientCA ? ", client_ca: ca.crt" : ""
        let callbackListen =
            options.callbackListener
            ? "\n  listen: {address: 127.0.0.1:0, tls: {certificate: airlock.crt, key: airlock.key}}" : ""
        let clients = options.clients.map { "\nclients:\n" + $0 } ?? ""
        let yaml = """
            listen:
              address: 127.0.0.1:0
              tls: {certificate: airlock.crt, key: airlock.key\(clientCA)}
            admin:
              address: 127.0.0.1:0
            limits:
              upstream_timeout_seconds: \(options.upstreamTimeoutSeconds)
              shutdown_grace_seconds: 5
            vendors:
              - {name: scale, path_prefix: /scale, upstream: "\(upstream)", ca: ca.crt, policy: policy.yaml,
                 routes: ["POST /v1/task/*", "POST /v1/batches"]}
              - {name: labelbox, path_prefix: /labelbox, upstream: "\(upstream)", ca: ca.crt, policy: policy.yaml,
                 routes: ["POST /graphql"], callbacks: {keys: [callback_url, callback, webhook_url]}}
              - {name: labelstudio, path_prefix: /labelstudio, upstream: "\(upstream)", ca: ca.crt, policy: policy.yaml,
                 routes: ["POST /api/webhooks", "POST /api/tasks"]}
            callbacks:
              public_url: \(Self.publicURL)
              internal_hosts: ["*.corp.example.com", "*.internal"]
              routes:
                - vendor: scale
                  path: /callbacks/scale
                  deliver_to: \(deliverTo)
                  ca: ca.crt
                  auth: {header: scale-callback-auth, secret_file: scale.secret}
                - vendor: scale
                  path: /callbacks/scale-batch
                  deliver_to: https://labeling.corp.example.com/hooks/batch
                  auth: {header: scale-callback-auth, secret_file: scale.secret}
                - vendor: labelstudio
                  path: /callbacks/labelstudio
                  deliver_to: http://ls.internal:8080/webhook
                  auth: {header: x-ls-secret, secret_file: scale.secret}\(callbackListen)\(clients)
            """
        let configuration = try ProxyConfiguration.parse(yaml: yaml, file: "test.yaml", baseDirectory: directory)
        var inspector: any EgressInspector = PassThroughInspector()
        if options.policy {
            let keys = PseudonymKeys(secret: (0..<32).map { _ in UInt8.random(in: 0...255) })
            let policy = try VendorPolicy.load(path: directory + "/policy.yaml", keys: keys)
            inspector = PolicyInspector(policies: ["scale": policy, "labelbox": policy, "labelstudio": policy])
        }
        var logger = Logger(label: "airlock.test")
        logger.logLevel = .critical
        if let captured = options.logger { logger = captured }
        var recorder: any EgressRecorder = self.recorder
        if options.auditLog {
            let log = try await AuditLog.open(AuditConfiguration(directory: URL(fileURLWithPath: directory + "/audit")))
            self.auditLog = log
            recorder = AuditRecorder(log: log)
        } else {
            self.auditLog = nil
            if options.failingRecorder { recorder = FailingRecorder() }
        }
        self.server = try AirlockProxyServer(
            configuration: configuration,
            group: self.group,
            inspector: inspector,
            recorder: recorder,
            logger: logger
        )
        try await self.server.start()
    }

    var port: Int { self.server.listenAddress?.port ?? 0 }
    /// Where vendors call back: the callback listener, or the lab listener without one.
    var callbackPort: Int { self.server.callbackAddress?.port ?? self.port }
    var adminPort: Int { self.server.adminAddress?.port ?? 0 }
    func url(_ path: String) -> String { "https://127.0.0.1:\(self.port)\(path)" }

    /// curl as the lab (or as a vendor posting a callback) against Airlock's listener.
    func curl(_ arguments: [String]) async throws -> CurlResult {
        try await Curl.run(["--cacert", self.certificates.caCertificatePath] + arguments, timeout: 15)
    }

    /// POSTs `body` as JSON to `path` on the lab listener (or on `port`).
    func post(
        _ path: String,
        _ body: String,
        headers: [String] = [],
        port: Int? = nil,
        arguments extra: [String] = []
    ) async throws -> CurlResult {
        var arguments = extra + ["-H", "Content-Type: application/json", "--data-binary", body]
        for header in headers { arguments += ["-H", header] }
        return try await self.curl(arguments + ["https://127.0.0.1:\(port ?? self.port)\(path)"])
    }

    /// The scale route's auth header, with the right secret.
    static let scaleAuth = "scale-callback-auth: \(CallbackHarness.secret)"

    /// POSTs `body` as a JSON callback to the scale route (`query` appended to its path), with the right secret.
    func postCallback(_ body: String, query: String = "", headers: [String] = []) async throws -> CurlResult {
        try await self.post(
            "/callbacks/scale" + query,
            body,
            headers: [Self.scaleAuth] + headers,
            port: self.callbackPort
        )
    }

    /// Stops the proxy and closes the audit log, leaving the files for reading until `close()`.
    func stopProxy() async {
        await self.server.shutdown(gracePeriod: .seconds(2))
        try? await self.auditLog?.close()
    }

    func close() async {
        await self.stopProxy()
        await self.vendor.stop()
        await self.receiver.stop()
        try? await self.group.shutdownGracefully()
        self.certificates.remove()
    }
}

/// Keeps every decision and outcome in memory.
final class RecordingRecorder: EgressRecorder {
    private let state = Mutex<([EgressDecisionRecord], [EgressOutcomeRecord])>(([], []))

    func recordDecision(_ record: EgressDecisionRecord) async throws {
        self.state.withLock { $0.0.append(record) }
    }

    func recordOutcome(_ record: EgressOutcomeRecord) async throws {
        self.state.withLock { $0.1.append(record) }
    }

    var decisions: [EgressDecisionRecord] { self.state.withLock { $0.0 } }
    var outcomes: [EgressOutcomeRecord] { self.state.withLock { $0.1 } }
}

/// A plain-HTTP server on 127.0.0.1 standing in for a lab endpoint: records each request and answers 202.
final class PlainHTTPReceiver: Sendable {
    struct Received: Sendable {
        var uri: String
        var headers: [(String, String)]
        var body: String
    }

    private final class Store: Sendable {
        let requests = Mutex<[Received]>([])
    }

    private let channel: any Channel
    private let received = Store()

    init(group: any EventLoopGroup) async throws {
        let received = self.received
        self.channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(received: received))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    var port: Int { self.channel.localAddress?.port ?? 0 }
    var requests: [Received] { self.received.requests.withLock { $0 } }

    func stop() async {
        try? await self.channel.close()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let received: Store
        var head: HTTPRequestHead?
        var body = ""

        init(received: Store) {
            self.received = received
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch self.unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                self.body = ""
            case .body(let buffer):
                self.body += String(buffer: buffer)
            case .end:
                guard let head = self.head else { return }
                let request = Received(
                    uri: head.uri,
                    headers: head.headers.map { ($0.name, $0.value) },
                    body: self.body
                )
                self.received.requests.withLock { $0.append(request) }
                let response = HTTPResponseHead(
                    version: .http1_1,
                    status: .accepted,
                    headers: ["Content-Length": "0", "Connection": "close"]
                )
                context.write(self.wrapOutboundOut(.head(response)), promise: nil)
                let channel = context.channel
                context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in
                    channel.close(promise: nil)
                }
            }
        }
    }
}
