import AirlockRedaction
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import AirlockProxy

/// In memory, without a server: the callback check wrapped around a policy that drops a callback field, for the tests
/// that a policy removing a callback field gets the request refused (JSON bodies and multipart parts alike).
extension CallbackHarness {
    /// The callback check (scale route delivering to `labeling.corp.example.com/hooks/scale`, internal hosts
    /// `*.corp.example.com`) around a scale policy that drops the field at `droppedPath` (`content.unknown: block`).
    static func inspector(droppingField droppedPath: String) throws -> CallbackRewritingInspector {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-cb-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let policyPath = directory.appendingPathComponent("policy.yaml").path
        try """
        version: 1
        name: drops-callbacks
        fields:
          - {path: "\(droppedPath)", action: drop}
        content:
          unknown: block
        """.write(toFile: policyPath, atomically: true, encoding: .utf8)
        let keys = PseudonymKeys(secret: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let policy = PolicyInspector(policies: ["scale": try VendorPolicy.load(path: policyPath, keys: keys)])
        let route = ProxyConfiguration.CallbackRoute(
            vendor: "scale",
            path: "/callbacks/scale",
            deliverTo: try CallbackTarget.parse("https://labeling.corp.example.com/hooks/scale").get(),
            auth: ProxyConfiguration.CallbackAuth(header: "x-auth", secret: CallbackSecret(Self.secret))
        )
        let callbacks = OutgoingCallbacks(
            configuration: ProxyConfiguration.Callbacks(
                publicURL: try UpstreamURL.parse(Self.publicURL).get(),
                internalHosts: ["*.corp.example.com"],
                routes: [route]
            )
        )
        return CallbackRewritingInspector(wrapping: policy, callbacks: callbacks)
    }

    /// A POST to scale's `/v1/task/text` with `body` of `contentType`.
    static func taskRequest(contentType: String, body: String) -> EgressRequest {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        return EgressRequest(
            id: "r-1",
            vendor: "scale",
            method: .POST,
            path: "/v1/task/text",
            query: nil,
            headers: headers,
            body: ByteBuffer(string: body),
            client: EgressClient(address: "127.0.0.1")
        )
    }

    /// Expects `inspector` to refuse `request` 403 `callback-url` for a removed callback field.
    static func expectRefusedForARemovedCallbackField(
        _ request: EgressRequest,
        by inspector: CallbackRewritingInspector,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        guard case .refuse(let refusal) = try inspector.inspect(request) else {
            Issue.record("forwarded although the policy removed the callback field", sourceLocation: sourceLocation)
            return
        }
        #expect(
            refusal.status == .forbidden && refusal.rule == "callback-url",
            "\(refusal)",
            sourceLocation: sourceLocation
        )
        #expect(
            refusal.message.contains("removed a callback field"),
            "\(refusal.message)",
            sourceLocation: sourceLocation
        )
    }
}
