import Foundation
import Testing

/// SIGHUP to a real `airlock serve` reloads route policies with the rest: a route given `exempt_rules` lets the
/// lab's JWT through after the reload, and taking the exemption away blocks it again.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct RoutePolicyReloadTests {
    static let policy = """
        version: 1
        name: strict
        detectors:
          - secret: {action: block}
        """
    static let plain = #"routes: ["POST /v1/task/*"], policy: policy.yaml}"#
    static let exempt =
        #"routes: [{route: "POST /v1/task/*", policy: inherit, exempt_rules: [secret]}], policy: policy.yaml}"#

    @Test func sighupReloadsRoutePolicies() async throws {
        try await ServedAirlock.with(
            policy: Self.policy,
            audit: "{enabled: false}",
            arguments: ["--watch-interval", "0"]
        ) { airlock in
            let adminPort = airlock.adminPort
            #expect(
                await eventually(timeout: 30) {
                    (try? Curl.runBlocking(["http://127.0.0.1:\(adminPort)/readyz"]))?.status == 200
                }
            )
            let body = #"{"refresh": "\#(RoutePolicyTests.jwt)"}"#
            #expect(try await airlock.send(body).status == 403)

            let configPath = airlock.directory + "/airlock.yaml"
            func rewrite(_ from: String, _ to: String) throws {
                let text = try String(contentsOfFile: configPath, encoding: .utf8)
                try #require(text.contains(from))
                try text.replacingOccurrences(of: from, with: to).write(
                    toFile: configPath,
                    atomically: true,
                    encoding: .utf8
                )
            }
            try rewrite(Self.plain, Self.exempt)
            airlock.signal(SIGHUP)
            #expect(await eventually(timeout: 15) { ReloadTests.reloads("applied", adminPort: adminPort) == 1 })
            let exempted = try await airlock.send(body)
            #expect(exempted.status == 200, "\(exempted.body)")
            #expect(airlock.vendor.requests.last?.bodyText.contains(RoutePolicyTests.jwt) == true)

            try rewrite(Self.exempt, Self.plain)
            airlock.signal(SIGHUP)
            #expect(await eventually(timeout: 15) { ReloadTests.reloads("applied", adminPort: adminPort) == 2 })
            #expect(try await airlock.send(body).status == 403)
        }
    }
}
