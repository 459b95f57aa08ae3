import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Whether the proxy is ready to serve: listeners bound and configuration loaded, not shutting down, and nothing
/// that must work for a request to be served (the audit log's disk) says otherwise.
final class Readiness: Sendable {
    private let ready = Atomic<Bool>(false)
    /// `policy <vendor> <name@sha256:…>` lines: which policy versions this process enforces.
    private let lines: Mutex<String>
    var policyLines: String { self.lines.withLock { $0 } }
    /// Why requests would be refused now although the listeners are up (nil: nothing).
    private let blocker: @Sendable () -> String?

    init(policyVersions: [String: String] = [:], blocker: @escaping @Sendable () -> String? = { nil }) {
        self.lines = Mutex(Self.render(policyVersions))
        self.blocker = blocker
    }

    /// Why the proxy is not ready although it is listening, if so.
    var problem: String? { self.blocker() }

    func setPolicyVersions(_ versions: [String: String]) {
        self.lines.withLock { $0 = Self.render(versions) }
    }

    private static func render(_ versions: [String: String]) -> String {
        versions.sorted { $0.key < $1.key }.map { "policy \($0.key) \($0.value)\n" }.joined()
    }

    var isReady: Bool { self.ready.load(ordering: .relaxed) && self.blocker() == nil }
    func set(_ value: Bool) { self.ready.store(value, ordering: .relaxed) }
}

/// The plain-HTTP admin endpoints: `GET /healthz`, `GET /readyz`, `GET /metrics` (Prometheus text).
///
/// Meant for a loopback or otherwise private address; it reveals no secret (metrics carry vendor names and status
/// codes only) but is not authenticated.
final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: PrometheusRegistry
    private let readiness: Readiness
    private var pending: HTTPRequestHead?

    init(registry: PrometheusRegistry, readiness: Readiness) {
        self.registry = registry
        self.readiness = readiness
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.pending = head
        case .body:
            break
        case .end:
            guard let head = self.pending else { return }
            self.pending = nil
            self.answer(head, context: context)
        }
    }

    private func answer(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let status: HTTPResponseStatus
        let contentType: String
        let text: String
        switch (head.method, path) {
        case (.GET, "/healthz"), (.HEAD, "/healthz"):
            (status, contentType, text) = (.ok, "text/plain; charset=utf-8", "ok\n")
        case (.GET, "/readyz"), (.HEAD, "/readyz"):
            let problem = self.readiness.problem
            let ready = problem == nil && self.readiness.isReady
            (status, contentType, text) = (
                ready ? .ok : .serviceUnavailable, "text/plain; charset=utf-8",
                (ready ? "ready\n" : "not ready\n") + (problem.map { "reason \($0)\n" } ?? "")
                    + self.readiness.policyLines
            )
        case (.GET, "/metrics"), (.HEAD, "/metrics"):
            (status, contentType, text) = (.ok, "text/plain; version=0.0.4; charset=utf-8", self.registry.render())
        case (_, "/healthz"), (_, "/readyz"), (_, "/metrics"):
            (status, contentType, text) = (
                .methodNotAllowed, "application/json",
                "{\"error\": {\"code\": \"method_not_allowed\", \"message\": \"use GET\"}}\n"
            )
        default:
            (status, contentType, text) = (
                .notFound, "application/json",
                "{\"error\": {\"code\": \"not_found\", \"message\": \"try /healthz, /readyz or /metrics\"}}\n"
            )
        }
        let body = context.channel.allocator.buffer(string: text)
        var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", String(body.readableBytes))])
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        context.write(
            self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
            promise: nil
        )
        if head.method != .HEAD {
            context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
        if !head.isKeepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension AdminHandler: Sendable {}
