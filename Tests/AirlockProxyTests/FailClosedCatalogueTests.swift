import AirlockProxy
import Foundation
import Testing

/// Everything Airlock cannot inspect, or must not let out, is refused with a status and a JSON error naming the cause,
/// and the vendor receives zero bytes. One harness, one request per case, through real curl.
@Suite(.timeLimit(.minutes(3)))
struct FailClosedCatalogueTests {
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var path = "/scale/v1/task/x"
        var contentType: String? = "application/json"
        var encoding: String?
        var body: Body?
        var extraHeaders: [String] = []
        var status: Int
        var code: String

        enum Body: Sendable {
            case text(String)
            case bytes([UInt8])
            case shell(String)  // a command that writes the body to stdout
        }
    }

    static let cases: [Case] = [
        Case(
            description: "malformed JSON",
            body: .text(#"{"project": "Nightingale" "x": 1}"#),
            status: 422,
            code: "uninspectable_body"
        ),
        Case(
            description: "truncated JSON",
            body: .text(#"{"project": "Night"#),
            status: 422,
            code: "uninspectable_body"
        ),
        Case(
            description: "JSON with trailing garbage",
            body: .text(#"{"a": 1} {"b": 2}"#),
            status: 422,
            code: "uninspectable_body"
        ),
        Case(
            description: "JSON nested 600 deep",
            body: .text(String(repeating: "[", count: 600) + String(repeating: "]", count: 600)),
            status: 422,
            code: "uninspectable_body"
        ),
        Case(
            description: "JSON with a lone surrogate",
            body: .text(#"{"a": "\ud800"}"#),
            status: 422,
            code: "uninspectable_body"
        ),
        Case(
            description: "JSON with a raw control character",
            body: .bytes(Array(#"{"a": "x"#.utf8) + [0x01] + Array(#""}"#.utf8)),
            status: 422,
            code: "uninspectable_body"
        ),
        Case(
            description: "JSON that is not UTF-8",
            body: .bytes(Array(#"{"a": ""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)),
            status: 422,
            code: "uninspectable_body"
        ),
        Case(
            description: "a gzip bomb",
            encoding: "gzip",
            body: .shell("head -c 200000000 /dev/zero | gzip -c"),
            status: 422,
            code: "uninspectable_body"
        ),
        Case(
            description: "a corrupt gzip stream",
            encoding: "gzip",
            body: .bytes([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03, 0xde, 0xad, 0xbe, 0xef]),
            status: 422,
            code: "uninspectable_body"
        ),
        Case(
            description: "gzip with trailing garbage",
            encoding: "gzip",
            body: .shell("printf '{\"a\": 1}' | gzip -c; printf 'junk'"),
            status: 422,
            code: "uninspectable_body"
        ),
        Case(
            description: "a corrupt deflate stream",
            encoding: "deflate",
            body: .bytes([0x78, 0x9c, 0xff, 0xff, 0x00, 0x01]),
            status: 422,
            code: "uninspectable_body"
        ),
        Case(
            description: "an encoding Airlock cannot decode",
            encoding: "br",
            body: .text(#"{"a": 1}"#),
            status: 422,
            code: "uninspectable_body"
        ),
        Case(
            description: "multipart without its closing boundary",
            contentType: "multipart/form-data; boundary=XyZ",
            body: .text("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nNightingale\r\n"),
            status: 422,
            code: "uninspectable_body"
        ),
        Case(
            description: "multipart without a boundary parameter",
            contentType: "multipart/form-data",
            body: .text("--XyZ\r\n\r\nx\r\n--XyZ--\r\n"),
            status: 422,
            code: "uninspectable_body"
        ),
        Case(
            description: "text that is not UTF-8",
            contentType: "text/plain",
            body: .bytes([0x4e, 0x69, 0xff, 0xfe, 0x67]),
            status: 422,
            code: "uninspectable_body"
        ),
        Case(
            description: "text in a charset other than UTF-8",
            contentType: "text/plain; charset=iso-8859-1",
            body: .text("Nightingale"),
            status: 422,
            code: "uninspectable_body"
        ),
        Case(
            description: "a form with a broken percent-escape",
            contentType: "application/x-www-form-urlencoded",
            body: .text("project=Night%zzingale"),
            status: 422,
            code: "uninspectable_body"
        ),
        Case(
            description: "a content type the policy cannot inspect",
            contentType: "application/octet-stream",
            body: .bytes([0, 1, 2, 3]),
            status: 403,
            code: "blocked_by_policy"
        ),
        Case(
            description: "an AWS key in the body",
            body: .text(#"{"key": "AKIAIOSFODNN7EXAMPLE"}"#),
            status: 403,
            code: "blocked_by_policy"
        ),
        Case(
            description: "a PEM private key in the body",
            contentType: "text/plain",
            body: .text("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"),
            status: 403,
            code: "blocked_by_policy"
        ),
        Case(
            description: "a GitHub token in the body",
            body: .text(#"{"t": "ghp_0123456789abcdefghijklmnopqrstuvwxyz"}"#),
            status: 403,
            code: "blocked_by_policy"
        ),
        Case(
            description: "a key hidden by JSON escapes",
            body: .text(#"{"key": "\u0041KIAIOSFODNN7EXAMPLE"}"#),
            status: 403,
            code: "blocked_by_policy"
        ),
        Case(
            description: "a key inside gzip",
            encoding: "gzip",
            body: .shell(#"printf '{"key": "AKIAIOSFODNN7EXAMPLE"}' | gzip -c"#),
            status: 403,
            code: "blocked_by_policy"
        ),
        Case(
            description: "a key in a multipart part",
            contentType: "multipart/form-data; boundary=XyZ",
            body: .text(
                "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nAKIAIOSFODNN7EXAMPLE\r\n--XyZ--\r\n"
            ),
            status: 403,
            code: "blocked_by_policy"
        ),
        Case(
            description: "a blocked marker in the query string",
            path: "/scale/v1/task/x?key=AKIAIOSFODNN7EXAMPLE",
            status: 403,
            code: "blocked_by_policy"
        ),
        Case(
            description: "a blocked marker in a path segment",
            path: "/scale/v1/task/AKIAIOSFODNN7EXAMPLE",
            status: 403,
            code: "blocked_by_policy"
        ),
        Case(
            description: "a query with a broken percent-escape",
            path: "/scale/v1/task/x?q=%zz",
            status: 422,
            code: "uninspectable_request"
        ),
        Case(
            description: "a body over the limit",
            body: .shell("head -c 1200000 /dev/zero | tr '\\\\0' 'a'"),
            status: 413,
            code: "body_too_large"
        ),
        // Content-Length with Transfer-Encoding (400) needs a raw socket: ProxyFramingTests and ProxyRefusalTests.
        Case(
            description: "a JWT in the body",
            body: .text(#"{"t": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsYWIifQ.c2lnbmF0dXJlLXZhbHVl"}"#),
            status: 403,
            code: "blocked_by_policy"
        ),
        Case(
            description: "a route outside the allowlist",
            path: "/scale/v2/secret-admin",
            status: 403,
            code: "route_not_allowed"
        ),
        Case(description: "an unknown vendor prefix", path: "/nowhere/v1/task/x", status: 404, code: "unknown_vendor"),
    ]

    @Test(arguments: Self.cases)
    func isRefusedAndNothingLeaves(_ item: Case) async throws {
        var options = ProxyHarness.Options()
        options.inspector = try PolicyEnforcementTests.inspector()
        let harness = try await ProxyHarness(options)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-case-\(UUID())")
        defer { try? FileManager.default.removeItem(at: file) }
        var arguments: [String] = []
        if let body = item.body {
            switch body {
            case .text(let text): try Data(text.utf8).write(to: file)
            case .bytes(let bytes): try Data(bytes).write(to: file)
            case .shell(let command):
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/sh")
                process.arguments = ["-c", "(\(command)) > '\(file.path)'"]
                // Bounded, and waited for off the concurrency pool the proxy's seams run on (see Curl.execute).
                let made = try await Curl.execute(process, timeout: 60)
                #expect(made.exitCode == 0, "\(command): \(made.stderr)")
            }
            arguments += ["--data-binary", "@\(file.path)"]
        }
        if let contentType = item.contentType { arguments += ["-H", "Content-Type: \(contentType)"] }
        if let encoding = item.encoding { arguments += ["-H", "Content-Encoding: \(encoding)"] }
        for header in item.extraHeaders { arguments += ["-H", header] }
        let result = try await harness.curl(arguments + [harness.url(item.path)])
        await harness.close()
        #expect(result.status == item.status, "\(item): \(result.body)")
        #expect(errorCode(result.body) == item.code, "\(item): \(result.body)")
        #expect(harness.vendor.connectionCount == 0, "\(item): the vendor was contacted")
        #expect(harness.vendor.requests.isEmpty)
        #expect(!result.body.contains("AKIAIOSFODNN7EXAMPLE") && !result.body.contains("Nightingale"))
    }
}
