import AirlockProxy
import AirlockRedaction
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// A reload between a request and its response: the response is restored by the policy that redacted the request.
struct ReloadableInspectorTests {
    static func policy(terms: [String], keys: PseudonymKeys) throws -> PolicyInspector {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-reloadable-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("policy.yaml").path
        let values = terms.map { "\"\($0)\"" }.joined(separator: ", ")
        let text = """
            version: 1
            name: reload-\(terms.count)
            terms:
              - {id: codenames, label: CODENAME, action: pseudonymize, values: [\(values)]}
            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return PolicyInspector(policies: ["scale": try VendorPolicy.load(path: path, keys: keys)])
    }

    static func request(_ body: String) -> EgressRequest {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return EgressRequest(
            id: "req-1",
            vendor: "scale",
            method: .POST,
            path: "/v1/task",
            query: nil,
            headers: headers,
            body: ByteBuffer(string: body),
            client: EgressClient(address: "127.0.0.1")
        )
    }

    static func echo(_ request: EgressRequest) -> EgressResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return EgressResponse(status: .ok, headers: headers, body: request.body)
    }

    @Test func aResponseIsRestoredByThePolicyThatRedactedItsRequest() throws {
        let keys = PseudonymKeys(secret: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let inspector = ReloadableInspector(try Self.policy(terms: ["Nightingale"], keys: keys))
        guard case .forward(let sent) = inspector.inspect(Self.request(#"{"project":"Nightingale"}"#))
        else {
            Issue.record("the request was not forwarded")
            return
        }
        let leaving = String(buffer: sent.body)
        #expect(!leaving.contains("Nightingale") && leaving.contains("CODENAME_"), "\(leaving)")

        // The reload lands while the vendor works on the request; the new policy no longer lists the term.
        inspector.replace(try Self.policy(terms: ["Falcon", "Kestrel"], keys: keys))
        let restored = try inspector.transformResponse(Self.echo(sent), for: sent)
        #expect(String(buffer: restored.body) == #"{"project":"Nightingale"}"#)

        // Requests inspected after the reload use the new policy, and so do their responses.
        guard case .forward(let next) = inspector.inspect(Self.request(#"{"project":"Kestrel"}"#))
        else {
            Issue.record("the second request was not forwarded")
            return
        }
        #expect(!String(buffer: next.body).contains("Kestrel"))
        let second = try inspector.transformResponse(Self.echo(next), for: next)
        #expect(String(buffer: second.body) == #"{"project":"Kestrel"}"#)
    }
}
