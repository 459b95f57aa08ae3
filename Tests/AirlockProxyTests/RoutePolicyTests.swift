import AirlockAudit
import AirlockRedaction
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import AirlockProxy

/// Per-route policies (Label Studio's token refresh carries the lab's JWT to the vendor that issued it), trailing
/// slashes in route patterns, and what a route refusal records.
@Suite(.timeLimit(.minutes(2)))
struct RoutePolicyTests {
    static let jwt =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkxhYiJ9."
        + "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    static let strictPolicy = """
        version: 1
        name: strict
        terms:
          - {id: codenames, label: CODENAME, action: pseudonymize, values: ["Nightingale"]}
        detectors:
          - secret: {action: block}
        """

    /// A directory with `strict.yaml` and `airlock.yaml` whose `scale` vendor has `routes` (YAML flow list items).
    static func configuration(
        routes: String,
        in directory: URL,
        policy: String = "strict.yaml"
    ) throws
        -> ProxyConfiguration
    {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Self.strictPolicy.write(
            to: directory.appendingPathComponent("strict.yaml"),
            atomically: true,
            encoding: .utf8
        )
        let yaml = """
            listen: {address: "127.0.0.1:0", tls: {certificate: airlock.crt, key: airlock.key}}
            vendors:
              - name: scale
                path_prefix: /scale
                upstream: https://127.0.0.1:9
                routes: [\(routes)]
                policy: \(policy)
              - name: labelbox
                path_prefix: /labelbox
                upstream: https://127.0.0.1:9
                routes: ["POST /api/token/refresh/"]
                policy: strict.yaml
            """
        let path = directory.appendingPathComponent("airlock.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return try ProxyConfiguration.load(path: path)
    }

    static let refreshRoutes = """
        {route: "POST /api/token/refresh/", policy: inherit, exempt_rules: [secret]},
            "POST /api/projects/*/import", {route: "POST /api/projects/*/refresh/", policy: inherit, exempt_rules: [secret]},
            "POST /api/**"
        """

    static func inspector(routes: String = Self.refreshRoutes) throws -> PolicyInspector {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-routes-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = try Self.configuration(routes: routes, in: directory)
        let keys = PseudonymKeys(secret: (0..<32).map { _ in UInt8.random(in: 0...255) })
        return try EgressSetup.compile(configuration, keys: keys).inspector
    }

    static func request(_ body: String, vendor: String = "scale", path: String) -> EgressRequest {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return EgressRequest(
            id: "req-1",
            vendor: vendor,
            method: .POST,
            path: path,
            query: nil,
            headers: headers,
            body: ByteBuffer(string: body),
            client: EgressClient(address: "127.0.0.1")
        )
    }

    static func forwarded(_ decision: EgressDecision) -> EgressRequest? {
        if case .forward(let request) = decision { return request }
        return nil
    }

    /// The refresh route lets the lab's JWT through (everything else of the policy still applies there); every
    /// other route, every other vendor, and a path that only looks like the route keep the strict policy.
    @Test func onlyTheNamedRouteIsExempt() throws {
        let inspector = try Self.inspector()
        let body = #"{"refresh": "\#(Self.jwt)", "project": "Nightingale"}"#
        let refresh = try #require(Self.forwarded(inspector.inspect(Self.request(body, path: "/api/token/refresh/"))))
        let sent = String(buffer: refresh.body)
        #expect(sent.contains(Self.jwt) && !sent.contains("Nightingale") && sent.contains("CODENAME_"), "\(sent)")
        #expect(refresh.inspection?.policy.hasSuffix("+exempt:secret") == true)
        // Without its trailing slash (the SDK's own spelling varies) it is the same route.
        #expect(Self.forwarded(inspector.inspect(Self.request(body, path: "/api/token/refresh"))) != nil)
        // The response is restored by the policy that redacted the request.
        let echoed = EgressResponse(status: .ok, headers: refresh.headers, body: refresh.body)
        #expect(String(buffer: try inspector.transformResponse(echoed, for: refresh).body).contains("Nightingale"))

        for path in [
            "/api/projects/1/import", "/api/token/refresh/x", "/api/token/refresh//", "/api/token/refresh/;x",
            "/api/projects/%31/refresh/", "/api/projects/1;v=2/refresh/", "/api/token/%72efresh/",
        ] {
            #expect(Self.forwarded(inspector.inspect(Self.request(body, path: path))) == nil, "\(path)")
        }
        // A plainly written path under the wildcard refresh route is exempt too.
        #expect(Self.forwarded(inspector.inspect(Self.request(body, path: "/api/projects/1/refresh/"))) != nil)
        // Another vendor with the same route but no route policy blocks it.
        #expect(
            Self.forwarded(inspector.inspect(Self.request(body, vendor: "labelbox", path: "/api/token/refresh/")))
                == nil
        )
    }

    /// The first route that matches decides: an exempt route listed after a broader plain one is never chosen.
    @Test func theFirstMatchingRouteDecides() throws {
        let inspector = try Self.inspector(
            routes:
                #""POST /api/*/refresh/", {route: "POST /api/token/refresh/", policy: inherit, exempt_rules: [secret]}"#
        )
        let body = #"{"refresh": "\#(Self.jwt)"}"#
        #expect(Self.forwarded(inspector.inspect(Self.request(body, path: "/api/token/refresh/"))) == nil)
    }

    @Test(
        arguments: [
            (#"{route: "POST /api/**", policy: inherit, exempt_rules: [secret]}"#, "strict.yaml", "may not use **"),
            (#"{route: "POST /a/", policy: inherit}"#, "strict.yaml", "exempts no rule"),
            (#"{route: "POST /a/", policy: inherit, exempt_rules: [secret]}"#, "none", "the vendor has none"),
            (#"{route: "POST /a/", policy: inherit, exempt: [secret]}"#, "strict.yaml", "unknown key \"exempt\""),
            (#""POST /a/", {route: "POST /a/", policy: inherit, exempt_rules: [secret]}"#, "strict.yaml", "twice"),
        ]
    )
    func badRouteEntriesAreRefusedWithTheirPosition(routes: String, policy: String, message: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-routes-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let error = #expect(throws: ConfigurationError.self) {
            try Self.configuration(routes: routes, in: directory, policy: policy)
        }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
        #expect(error?.line == 6 && error?.column != nil, "\(String(describing: error))")
    }

    @Test func anExemptionOfARuleThePolicyLacksNamesTheRouteEntry() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-routes-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = try Self.configuration(
            routes: #""POST /v1/*", {route: "POST /a/", policy: inherit, exempt_rules: [secret-detector]}"#,
            in: directory
        )
        let keys = PseudonymKeys(secret: Array(repeating: 7, count: 32))
        let error = #expect(throws: EgressSetupError.self) { try EgressSetup.compile(configuration, keys: keys) }
        let text = error?.description ?? ""
        #expect(
            text.contains("airlock.yaml:6:") && text.contains("secret-detector")
                && text.contains("its rules: codenames, secret"),
            "\(text)"
        )
    }

    @Test(
        arguments: [
            ("GET /api/projects/", "/api/projects/", true),
            ("GET /api/projects/", "/api/projects", true),
            ("GET /api/projects", "/api/projects/", true),
            ("GET /api/projects/", "/api/projects//", false),
            ("GET /api/projects", "/api/projects//", false),
            ("GET /api/projects/*/", "/api/projects/3", true),
            ("GET /api/projects/*/", "/api/projects/3/", true),
            ("GET /api/projects/*/", "/api/projects/3/tasks/", false),
            ("GET /", "/", true),
            ("GET /", "//", false),
        ] as [(String, String, Bool)]
    )
    func oneTrailingSlashIsNotSignificant(pattern: String, path: String, expected: Bool) throws {
        let route = try RoutePattern.parse(pattern).get()
        #expect(route.matches(method: "GET", path: path[...]) == expected)
    }

    @Test func aRouteRefusalRecordsTheNearestRouteNeverThePath() throws {
        let routes = try ["GET /api/projects/*/", "POST /api/projects/*/import", "POST /api/tasks/"].map {
            try RoutePattern.parse($0).get()
        }
        let wrongMethod = RouteRefusalPath.record(routes: routes, rest: "/api/projects/Nightingale/")
        #expect(wrongMethod == #"(withheld; route "GET /api/projects/*/" matches the path, not the method)"#)
        let near = RouteRefusalPath.record(routes: routes, rest: "/api/projects/Nightingale/imports")
        #expect(near == #"(withheld; nearest route "POST /api/projects/*/import")"#, "\(near)")
        let nowhere = RouteRefusalPath.record(routes: routes, rest: "/v2/Nightingale")
        #expect(nowhere == "(withheld; no route pattern is near the path)")
    }

    /// Through curl and a real audit log: the route refusal's record names the route, and the refresh route
    /// reaches the vendor with the JWT while a task import with the same body is blocked.
    @Test func throughTheProxyWithAnAuditLog() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-audit-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = try await AuditLog.open(AuditConfiguration(directory: directory))
        var options = ProxyHarness.Options()
        options.routes = ["POST /api/token/refresh/", "POST /api/projects/*/import", "GET /api/projects/*/"]
        options.inspector = try Self.inspector()
        options.recorder = AuditRecorder(log: log)
        let harness = try await ProxyHarness(options)
        let json = ["-H", "Content-Type: application/json", "-d", #"{"refresh": "\#(Self.jwt)"}"#]
        let refresh = try await harness.curl(json + [harness.url("/scale/api/token/refresh")])
        let imported = try await harness.curl(json + [harness.url("/scale/api/projects/1/import")])
        let refused = try await harness.curl(json + [harness.url("/scale/api/projects/Nightingale/")])
        await harness.close()
        try await log.close()
        #expect(refresh.status == 200 && imported.status == 403 && refused.status == 403)
        #expect(harness.vendor.requests.count == 1)
        let decisions = try AuditLogReader(directory: directory).entries().filter { $0.event == .decision }
        let paths = decisions.map { $0.path ?? "" }
        #expect(
            paths.contains(#"(withheld; route "GET /api/projects/*/" matches the path, not the method)"#),
            "\(paths)"
        )
        #expect(!paths.joined().contains("Nightingale"))
        #expect(decisions.contains { $0.policy?.hasSuffix("+exempt:secret") == true })
    }
}
