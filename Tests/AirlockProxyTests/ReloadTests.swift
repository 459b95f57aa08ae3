import AirlockProxy
import Foundation
import NIOCore
import NIOPosix
import Testing

/// SIGHUP to a real `airlock serve`: a valid policy change takes effect without dropping the request in flight; an
/// invalid one is refused and the last good policy keeps redacting.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ReloadTests {
    static func policy(_ terms: [String]) -> String {
        """
        version: 1
        name: reload-test
        terms:
          - {id: codenames, label: CODENAME, action: pseudonymize, values: [\(terms.map { "\"\($0)\"" }.joined(separator: ", "))]}
        """
    }

    @Test func sighupSwapsPoliciesAndRefusesABrokenOne() async throws {
        // Watching is off here so that only the signal can cause the reload.
        try await ServedAirlock.with(
            policy: Self.policy(["Nightingale"]),
            audit: "{enabled: false}",
            arguments: ["--watch-interval", "0"]
        ) { airlock in
            let vendor = airlock.vendor
            let adminPort = airlock.adminPort
            let policyPath = airlock.policyPath
            func send(_ text: String) async throws -> CurlResult {
                try await airlock.send(#"{"notes": "\#(text)"}"#)
            }
            func readyz() async throws -> String {
                try await Curl.run(["http://127.0.0.1:\(adminPort)/readyz"], timeout: 5).body
            }
            #expect(
                await eventually(timeout: 30) {
                    (try? Curl.runBlocking(["http://127.0.0.1:\(adminPort)/readyz"]))?.status == 200
                }
            )
            let before = try await readyz()

            _ = try await send("Tidewater and Nightingale")
            #expect(vendor.requests.last?.bodyText.contains("Tidewater") == true, "not yet a term")

            // A request in flight while the policy changes still completes.
            vendor.behavior = .delay(.milliseconds(800))
            let inFlight = Task { try await send("slow Nightingale") }
            try await Task.sleep(nanoseconds: 200_000_000)
            try Self.policy(["Nightingale", "Tidewater"]).write(toFile: policyPath, atomically: true, encoding: .utf8)
            airlock.signal(SIGHUP)
            let swapped = await eventually(timeout: 15) {
                let now = (try? Curl.runBlocking(["http://127.0.0.1:\(adminPort)/readyz"]))?.body ?? before
                return now != before && now.contains("reload-test@sha256:")
            }
            #expect(swapped, "/readyz never reported the new policy")
            #expect(try await inFlight.value.status == 200)
            vendor.behavior = .echo

            _ = try await send("Tidewater again")
            let redacted = vendor.requests.last?.bodyText ?? ""
            #expect(!redacted.contains("Tidewater") && redacted.contains("CODENAME_"), "\(redacted)")

            // A broken policy is refused; the last good one keeps redacting.
            let good = try await readyz()
            try "version: 1\nname: reload-test\nterms: [{id: codenames}]\n".write(
                toFile: policyPath,
                atomically: true,
                encoding: .utf8
            )
            airlock.signal(SIGHUP)
            #expect(await eventually(timeout: 15) { Self.reloads("refused", adminPort: adminPort) == 1 })
            #expect(Self.reloads("applied", adminPort: adminPort) == 1)
            #expect(try await readyz() == good)
            let still = try await send("Tidewater once more")
            #expect(still.status == 200)
            #expect(vendor.requests.last?.bodyText.contains("Tidewater") == false)
            #expect(airlock.process.isRunning)

            airlock.signal(SIGTERM)
            airlock.process.waitUntilExit()
            #expect(airlock.process.terminationStatus == 0)
        }
    }

    /// `airlock_policy_reloads_total{result=…}` (0 when absent or unreachable).
    static func reloads(_ result: String, adminPort: Int) -> Int {
        metricSample(#"airlock_policy_reloads_total{result="\#(result)"}"#, adminPort: adminPort) ?? 0
    }

    /// Vendors are not reloaded, policies are: a reload whose configuration no longer names a vendor still being
    /// served is refused, so that vendor keeps its policy instead of running with none (it used to: its requests
    /// then left with paths and bodies unredacted).
    @Test func aReloadThatDropsAServedVendorIsRefused() async throws {
        try await ServedAirlock.with(
            policy: Self.policy(["Nightingale"]),
            audit: "{enabled: false}",
            arguments: ["--watch-interval", "0"]
        ) { airlock in
            let adminPort = airlock.adminPort
            func readyz() -> String {
                (try? Curl.runBlocking(["http://127.0.0.1:\(adminPort)/readyz"]))?.body ?? ""
            }
            #expect(await eventually(timeout: 30) { readyz().contains("reload-test@sha256:") })
            let before = readyz()
            let configPath = airlock.directory + "/airlock.yaml"
            let renamed = try String(contentsOfFile: configPath, encoding: .utf8)
                .replacingOccurrences(of: "{name: scale,", with: "{name: scale-renamed,")
            try renamed.write(toFile: configPath, atomically: true, encoding: .utf8)
            airlock.signal(SIGHUP)
            #expect(await eventually(timeout: 15) { Self.reloads("refused", adminPort: adminPort) == 1 })
            #expect(readyz() == before)
            let result = try await airlock.send(#"{"notes": "Nightingale"}"#, path: "/scale/v1/task/Nightingale")
            #expect(result.status == 200, "\(result.body)")
            let received = try #require(airlock.vendor.requests.last)
            #expect(!received.uri.contains("Nightingale") && !received.bodyText.contains("Nightingale"))
            #expect(airlock.process.isRunning)
        }
    }

    /// Without any signal: editing the policy file, or only a term file it reads, reloads; a broken edit is refused
    /// and the last good policy keeps redacting; fixing it again is picked up.
    @Test func editedPolicyAndTermFilesReloadWithoutASignal() async throws {
        try await ServedAirlock.with(
            policy: """
                version: 1
                name: watch-test
                terms:
                  - {id: codenames, label: CODENAME, action: pseudonymize, values: ["Nightingale"], files: [terms.txt]}
                """,
            audit: "{enabled: false}",
            files: ["terms.txt": "# codenames\nKestrel\n"],
            arguments: ["--watch-interval", "0.2"]
        ) { airlock in
            let termsPath = airlock.directory + "/terms.txt"
            let vendor = airlock.vendor
            let adminPort = airlock.adminPort
            func readyz() -> String {
                (try? Curl.runBlocking(["http://127.0.0.1:\(adminPort)/readyz"]))?.body ?? ""
            }
            func leaves(_ text: String) async throws -> String {
                let result = try await airlock.send(#"{"notes": "\#(text)"}"#)
                #expect(result.status == 200)
                return vendor.requests.last?.bodyText ?? ""
            }
            #expect(await eventually(timeout: 30) { readyz().contains("watch-test@sha256:") })
            let first = readyz()
            #expect(try await leaves("Tidewater").contains("Tidewater"), "not yet a term")

            // Only the term file changes (written in place, not renamed).
            try "# codenames\nKestrel\nTidewater\n".write(toFile: termsPath, atomically: false, encoding: .utf8)
            #expect(await eventually(timeout: 15) { readyz() != first }, "a term file edit was not picked up")
            #expect(try await leaves("Tidewater").contains("Tidewater") == false)

            // A broken policy edit is refused: same version, still redacting, still running.
            let good = readyz()
            try "version: 1\nname: watch-test\nterms: [{id: codenames}]\n".write(
                toFile: airlock.policyPath,
                atomically: true,
                encoding: .utf8
            )
            #expect(await eventually(timeout: 15) { Self.reloads("refused", adminPort: adminPort) >= 1 })
            #expect(readyz() == good)
            #expect(try await leaves("Tidewater and Nightingale").contains("Tidewater") == false)
            #expect(airlock.process.isRunning)

            // Fixed again (now without the term file): picked up.
            try Self.policy(["Nightingale"]).write(toFile: airlock.policyPath, atomically: true, encoding: .utf8)
            #expect(await eventually(timeout: 15) { readyz() != good && readyz().contains("reload-test@sha256:") })
            #expect(try await leaves("Tidewater").contains("Tidewater"), "Tidewater is no longer a term")
        }
    }
}
