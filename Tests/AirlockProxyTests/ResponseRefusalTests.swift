import AirlockProxy
import Foundation
import NIOCore
import Testing

/// What the lab gets when the vendor's answer cannot be passed on: too large for `limits.max_response_bytes` (502
/// `vendor_response_too_large`), or not restorable (502 `response_inspection_failed`). Never any of the vendor's bytes.
@Suite(.timeLimit(.minutes(2)))
struct ResponseRefusalTests {
    /// The stand-in echoes the request, so the answer is a little larger than what was sent.
    static func task(padding: Int) -> String {
        #"{"marker": "VENDOR-ECHO-MARKER", "pad": ""# + String(repeating: "p", count: padding) + #""}"#
    }

    @Test func anOversizedVendorResponseIs502AndNoneOfItReachesTheLab() async throws {
        var options = ProxyHarness.Options()
        options.maxResponseBytes = 2048
        let recorder = CollectingRecorder()
        options.recorder = recorder
        let harness = try await ProxyHarness(options)
        let url = harness.url("/scale/v1/task/1")
        let fits = try await harness.curl(["-H", "Content-Type: application/json", "-d", Self.task(padding: 100), url])
        let tooLarge = try await harness.curl([
            "-H", "Content-Type: application/json", "-d", Self.task(padding: 4000), url,
        ])
        await harness.close()
        #expect(fits.status == 200 && fits.body.contains("VENDOR-ECHO-MARKER"))
        #expect(tooLarge.status == 502, "\(tooLarge.body)")
        #expect(errorCode(tooLarge.body) == "vendor_response_too_large", "\(tooLarge.body)")
        #expect(!tooLarge.body.contains("VENDOR-ECHO-MARKER") && !tooLarge.body.contains("ppppp"))
        // The vendor did answer (the request left); the outcome says why the lab did not get it.
        #expect(harness.vendor.requests.count == 2)
        #expect(recorder.outcomes.last?.error == "response_too_large", "\(recorder.outcomes.map(\.error))")
    }

    @Test func aResponseThatCannotBeRestoredIs502AndNoneOfItReachesTheLab() async throws {
        var options = ProxyHarness.Options()
        options.inspector = UnrestorableResponses()
        let harness = try await ProxyHarness(options)
        let result = try await harness.curl([
            "-H", "Content-Type: application/json", "-d", Self.task(padding: 10), harness.url("/scale/v1/task/1"),
        ])
        await harness.close()
        #expect(harness.vendor.requests.count == 1)
        #expect(result.status == 502, "\(result.body)")
        #expect(errorCode(result.body) == "response_inspection_failed", "\(result.body)")
        #expect(!result.body.contains("VENDOR-ECHO-MARKER"), "\(result.body)")
    }

    /// The real restore, not a stand-in for it: a vendor (Python's TLS server) answers with a Content-Encoding its
    /// body is not in, so the policy's restore cannot decode it. The lab gets 502, not the vendor's bytes.
    @Test(arguments: ["gzip", "br"])
    func aVendorResponseThePolicyCannotDecodeIs502(encoding: String) async throws {
        // Airlock first (its certificates sign the vendor's), pointed at a port the vendor then listens on. The port
        // was free when picked; a test running in parallel can take it before Python binds it: then try another.
        var attempt = 0
        while true {
            attempt += 1
            let port = try closedPort()
            var options = ProxyHarness.Options()
            options.inspector = try PolicyEnforcementTests.inspector()
            options.upstreamPort = port
            let harness = try await ProxyHarness(options)
            let server = Process()
            server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            server.arguments = [
                "-c",
                """
                import http.server, ssl, sys
                class H(http.server.BaseHTTPRequestHandler):
                    def do_POST(self):
                        self.rfile.read(int(self.headers.get("Content-Length", 0)))
                        body = b'{"answer": "VENDOR-BYTES CODENAME_ABCDE"}'
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Encoding", sys.argv[3])
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                    def log_message(self, *args): pass
                httpd = http.server.HTTPServer(("127.0.0.1", int(sys.argv[4])), H)
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(sys.argv[1], sys.argv[2])
                httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
                print("listening", flush=True)
                httpd.serve_forever()
                """,
                harness.certificates.vendorCertificatePath, harness.certificates.vendorKeyPath, encoding, String(port),
            ]
            let output = Pipe()
            server.standardOutput = output
            try server.run()
            let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
            guard line.hasPrefix("listening") else {
                kill(server.processIdentifier, SIGKILL)
                server.waitUntilExit()
                await harness.close()
                try #require(attempt < 5, "the vendor did not start: \(line)")
                continue
            }
            defer {
                // SIGKILL: a child of the test runner may inherit SIGTERM ignored.
                kill(server.processIdentifier, SIGKILL)
                server.waitUntilExit()
            }
            try await Self.expectTheLabGets502(from: harness)
            return
        }
    }

    private static func expectTheLabGets502(from harness: ProxyHarness) async throws {
        let result = try await harness.curl([
            "-H", "Content-Type: application/json", "-d", #"{"task": "Nightingale"}"#, harness.url("/scale/v1/task/1"),
        ])
        await harness.close()
        #expect(result.status == 502, "\(result.body)")
        #expect(errorCode(result.body) == "response_inspection_failed", "\(result.body)")
        #expect(!result.body.contains("VENDOR-BYTES"), "\(result.body)")
    }
}

/// Forwards every request as it is; restoring any response fails, as a body in an encoding the restore cannot
/// decode does.
struct UnrestorableResponses: EgressInspector {
    struct Failure: Error {}

    func inspect(_ request: EgressRequest) throws -> EgressDecision { .forward(request) }

    func transformResponse(_ response: EgressResponse, for request: EgressRequest) throws -> EgressResponse {
        throw Failure()
    }
}
