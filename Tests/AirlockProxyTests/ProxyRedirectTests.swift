import AirlockAudit
import AirlockStandIns
import Foundation
import Testing

@testable import AirlockProxy

/// A vendor's redirects through Airlock: a client that follows one (python `requests`, trusting the CA that signed
/// both Airlock's and the vendor's certificates, so it could reach the vendor directly) comes back through Airlock,
/// and the vendor never receives the lab's body unredacted.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ProxyRedirectTests {
    /// POSTs `body` as JSON to `url` with requests (redirects followed) and reports the final status, URL and body.
    static let followScript = """
        import json, os, requests
        given = json.loads(os.environ["AIRLOCK_TEST_INPUT"])
        result = {"ok": False}
        try:
            answer = requests.post(given["url"], json=given["body"], verify=given["ca"], timeout=15)
            result = {"ok": True, "status": answer.status_code, "url": answer.url, "text": answer.text,
                      "history": [r.status_code for r in answer.history]}
        except Exception as error:
            result["error"] = type(error).__name__ + ": " + str(error)
        print("@@RESULT@@ " + json.dumps(result))
        """

    static let body = ["project": "Project Falcon", "notes": "nightingale eval"]

    func harness() async throws -> ProxyHarness {
        var options = ProxyHarness.Options()
        options.inspector = try PolicyEnforcementTests.inspector()
        options.routes += ["POST /v1/moved/*"]
        return try await ProxyHarness(options)
    }

    func follow(_ harness: ProxyHarness, path: String = "/scale/v1/task/x") async throws -> PythonClients.Outcome? {
        if let missing = PythonClients.missing {
            Issue.record(Comment(rawValue: missing))
            return nil
        }
        return try await PythonClients.run(
            Self.followScript,
            input: ["url": harness.url(path), "body": Self.body, "ca": harness.certificates.caCertificatePath]
        )
    }

    /// Every request the vendor received carries the pseudonym, never the name.
    func expectRedacted(_ requests: [StandInVendor.ReceivedRequest], sourceLocation: SourceLocation = #_sourceLocation)
    {
        for request in requests {
            let text = request.bodyText.lowercased()
            #expect(
                !text.contains("falcon") && !text.contains("nightingale"),
                "\(text)",
                sourceLocation: sourceLocation
            )
            #expect(text.contains("codename_"), "\(text)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [307, 308])
    func aRedirectOnTheVendorsOriginComesBackThroughAirlock(status: Int) async throws {
        let harness = try await self.harness()
        let direct = "https://127.0.0.1:\(harness.vendor.port)/v1/moved/y?page=2"
        harness.vendor.behavior = .redirect(path: "/v1/task/x", status: status, location: direct)
        let outcome = try await self.follow(harness)
        let followed = harness.url("/scale/v1/moved/y?page=2")
        await harness.close()
        guard let outcome else { return }
        #expect(outcome.ok && outcome.status == 200, "\(outcome.summary)")
        #expect(outcome.result?["history"] as? [Int] == [status])
        // The follow-up went to Airlock, by the address the client used, under the vendor's prefix.
        #expect(outcome.result?["url"] as? String == followed, "\(outcome.summary)")
        #expect(harness.vendor.requests.map(\.uri) == ["/v1/task/x", "/v1/moved/y?page=2"])
        self.expectRedacted(harness.vendor.requests)
        // And the client got its names back from the echo, restored by Airlock.
        #expect((outcome.result?["text"] as? String)?.contains("Project Falcon") == true)
    }

    @Test(arguments: ["/v1/moved/y", "../moved/y"])
    func aRelativeRedirectMapsUnderThePrefix(location: String) async throws {
        let harness = try await self.harness()
        harness.vendor.behavior = .redirect(path: "/v1/task/x", status: 307, location: location)
        let outcome = try await self.follow(harness)
        let raw = try await harness.curl([
            "-s", "-o", "/dev/null", "-D", "-", "-d", "{}", harness.url("/scale/v1/task/x"),
        ])
        await harness.close()
        guard let outcome else { return }
        #expect(outcome.ok && outcome.status == 200, "\(outcome.summary)")
        #expect(harness.vendor.requests.prefix(2).map(\.uri) == ["/v1/task/x", "/v1/moved/y"])
        self.expectRedacted(Array(harness.vendor.requests.prefix(2)))
        let location = raw.stdout.split(separator: "\r\n").first { $0.lowercased().hasPrefix("location:") }
        #expect(location?.dropFirst("location:".count).trimmingCharacters(in: .whitespaces) == "/scale/v1/moved/y")
    }

    @Test(arguments: [
        "https://elsewhere.example/v1/moved/y", "http://127.0.0.1:VENDOR/v1/moved/y", "//elsewhere.example/x",
    ])
    func aRedirectOffTheVendorsOriginIsRefused(location: String) async throws {
        let harness = try await self.harness()
        let location = location.replacingOccurrences(of: "VENDOR", with: "\(harness.vendor.port)")
        harness.vendor.behavior = .redirect(path: "/v1/task/x", status: 302, location: location)
        let outcome = try await self.follow(harness)
        let raw = try await harness.curl(["-s", "-D", "-", "-d", "{}", harness.url("/scale/v1/task/x")])
        await harness.close()
        guard let outcome else { return }
        #expect(outcome.status == 502, "\(outcome.summary)")
        #expect(errorCode(outcome.result?["text"] as? String ?? "") == "vendor_redirect_refused")
        #expect(raw.stdout.hasPrefix("HTTP/1.1 502"), "\(raw.stdout)")
        // The lab never learns where the vendor pointed.
        #expect(!raw.stdout.contains("elsewhere") && !raw.stdout.lowercased().contains("location:"), "\(raw.stdout)")
        #expect(harness.vendor.requests.map(\.uri) == ["/v1/task/x", "/v1/task/x"])
        self.expectRedacted(Array(harness.vendor.requests.prefix(1)))
    }

    @Test func aRefusedRedirectIsLoggedAndRecordedWithoutWhereItPointed() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-redirect-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let captured = CapturedLog()
        var options = ProxyHarness.Options()
        options.logger = captured.logger
        let (harness, log) = try await PolicyEnforcementTests.auditedHarness(logIn: directory, options: options)
        harness.vendor.behavior = .redirect(path: "/v1/task/x", status: 302, location: "https://elsewhere.example/x")
        let result = try await harness.curl(["-d", "{}", harness.url("/scale/v1/task/x")])
        await harness.close()
        try await log.close()
        #expect(result.status == 502 && errorCode(result.body) == "vendor_redirect_refused")
        let entries = try AuditLogReader(directory: directory).entries().filter { $0.event != .checkpoint }
        #expect(entries.map(\.event) == [.decision, .outcome])
        #expect(entries.last?.status == 302 && entries.last?.error == "vendor_redirect_refused")
        #expect(captured.text.contains("redirected off its origin"))
        #expect(!captured.text.contains("elsewhere"))
        for (name, text) in try await PolicyEnforcementTests.everyFileAsText(under: directory) {
            #expect(!text.contains("elsewhere"), "\(name)")
        }
    }

    /// A vendor that puts a pseudonym it was sent into a `Location` gets no oracle: Airlock does not restore
    /// response headers, so the client is pointed at the token, follows it through Airlock, and the vendor receives
    /// the token again, never the name behind it (which a URL might not re-redact, e.g. one a JSON field rule hid).
    @Test func aPseudonymInALocationIsNotRestored() async throws {
        let harness = try await self.harness()
        let learn = try await harness.curl([
            "-H", "Content-Type: application/json", "-d", #"{"project": "Project Falcon"}"#,
            harness.url("/scale/v1/task/learn"),
        ])
        let sent = try #require(harness.vendor.requests.first?.bodyText)
        let token = try #require(sent.firstRange(of: /CODENAME_[A-Za-z0-9_]+/).map { String(sent[$0]) }, "\(sent)")
        let direct = "https://127.0.0.1:\(harness.vendor.port)/v1/moved/\(token)"
        harness.vendor.behavior = .redirect(path: "/v1/task/x", status: 307, location: direct)
        let raw = try await harness.curl([
            "-s", "-o", "/dev/null", "-D", "-", "-d", "{}", harness.url("/scale/v1/task/x"),
        ])
        let expected = harness.url("/scale/v1/moved/\(token)")
        let outcome = try await self.follow(harness)
        await harness.close()
        #expect(learn.status == 200)
        let location = raw.stdout.split(separator: "\r\n").first { $0.lowercased().hasPrefix("location:") }
        #expect(location?.dropFirst("location:".count).trimmingCharacters(in: .whitespaces) == expected)
        guard let outcome else { return }
        #expect(outcome.status == 200, "\(outcome.summary)")
        #expect(harness.vendor.requests.last?.uri == "/v1/moved/\(token)")
        for request in harness.vendor.requests {
            #expect(!request.uri.contains("Falcon") && !request.bodyText.contains("Falcon"), "\(request.uri)")
        }
    }

    @Test func vendorLocationsMapLikeProxyRedirect() {
        let upstream = UpstreamURL(host: "api.vendor.example", port: 443, basePath: "/api")
        func map(_ location: String, authority: String? = "airlock.lab:8443") -> VendorLocation.Mapping {
            VendorLocation.map(
                location,
                upstream: upstream,
                pathPrefix: "/scale",
                vendorPath: "/api/v1/task/x",
                labAuthority: authority
            )
        }
        #expect(
            map("https://api.vendor.example/api/v1/y?q=1#f") == .mapped("https://airlock.lab:8443/scale/v1/y?q=1#f")
        )
        #expect(map("HTTPS://API.vendor.example:443/api") == .mapped("https://airlock.lab:8443/scale"))
        #expect(map("//api.vendor.example/api/v1/y") == .mapped("https://airlock.lab:8443/scale/v1/y"))
        #expect(map("https://api.vendor.example/api/v1/y", authority: nil) == .mapped("/scale/v1/y"))
        #expect(map("https://api.vendor.example/api/v1/y", authority: "evil\r\nx") == .mapped("/scale/v1/y"))
        #expect(map("/api/v1/y") == .mapped("/scale/v1/y"))
        #expect(map("y") == .mapped("/scale/v1/task/y"))
        #expect(map("?page=2") == .mapped("/scale/v1/task/x?page=2"))
        #expect(map("./../z/./w") == .mapped("/scale/v1/z/w"))
        for foreign in [
            "https://api.vendor.example/other", "https://api.vendor.example/apix", "/other", "../../../x",
            "/api/../other", "http://api.vendor.example/api/v1", "https://api.vendor.example:444/api/v1",
            "https://user@api.vendor.example/api/v1", "https://api.vendor.example.evil/api/v1", "ftp://x/api",
            "javascript:alert(1)", "https://evil.example/api/v1", "", "/api/v1/a b",
        ] {
            #expect(map(foreign) == .foreign, "\(foreign)")
        }
    }
}
