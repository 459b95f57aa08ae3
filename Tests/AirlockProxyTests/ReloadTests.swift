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

            // A request in flight while the policy changes: it reached the vendor under the old policy (Tidewater
            // not a term yet) and its answer is restored by the policy that redacted it.
            vendor.behavior = .delay(.seconds(2))
            let inFlight = Task { try await send("slow Tidewater Nightingale") }
            #expect(await eventually(timeout: 15) { vendor.requests.count == 2 }, "the slow request never arrived")
            let slowReceived = vendor.requests[1].bodyText
            #expect(slowReceived.contains("slow Tidewater CODENAME_") && !slowReceived.contains("Nightingale"))
            try Self.policy(["Nightingale", "Tidewater"]).write(toFile: policyPath, atomically: true, encoding: .utf8)
            airlock.signal(SIGHUP)
            #expect(await eventually(timeout: 15) { Self.reloads("applied", adminPort: adminPort) == 1 })
            let slow = try await inFlight.value
            #expect(slow.status == 200)
            #expect(
                echoed(slow.body)?["body"] as? String == #"{"notes": "slow Tidewater Nightingale"}"#,
                "\(slow.body)"
            )
            vendor.behavior = .echo
            #expect(try await readyz() != before)

            // The next request gets the new policy.
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

    /// Editing only a file the policy includes reloads it (no signal: the watcher sees the include too), and the
    /// included rules apply to the next request.
    @Test func anEditedIncludeFileReloads() async throws {
        try await ServedAirlock.with(
            policy: "version: 1\nname: include-test\ninclude: [base.yaml]\n",
            audit: "{enabled: false}",
            files: ["base.yaml": Self.policyBody(["Nightingale"])],
            arguments: ["--watch-interval", "0.2"]
        ) { airlock in
            let adminPort = airlock.adminPort
            #expect(
                await eventually(timeout: 30) {
                    Self.reloads("applied", adminPort: adminPort) == 0 && Self.ready(adminPort)
                }
            )
            #expect(try await Self.leaves(airlock, "Tidewater and Nightingale") == ("Tidewater", "Nightingale"))
            try Self.policyBody(["Nightingale", "Tidewater"])
                .write(toFile: airlock.directory + "/base.yaml", atomically: false, encoding: .utf8)
            #expect(await eventually(timeout: 15) { Self.reloads("applied", adminPort: adminPort) == 1 })
            let (kept, hidden) = try await Self.leaves(airlock, "Tidewater and Nightingale")
            #expect(kept == nil && hidden == "Tidewater")
        }
    }

    /// A reload driven by the configuration file alone: the two vendors' policies swap, and each vendor's next
    /// request is redacted by the other's former policy.
    @Test func aConfigurationOnlyEditSwapsTwoVendorsPolicies() async throws {
        try await ServedAirlock.with(
            policy: Self.policy(["Nightingale"]),
            audit: "{enabled: false}",
            files: ["other.yaml": Self.policy(["Kestrel"])],
            arguments: ["--watch-interval", "0"],
            labelboxPolicy: "other.yaml"
        ) { airlock in
            let adminPort = airlock.adminPort
            #expect(await eventually(timeout: 30) { Self.ready(adminPort) })
            func vendorSaw(_ prefix: String) async throws -> String {
                let result = try await airlock.send(#"{"notes": "Nightingale Kestrel"}"#, path: "/\(prefix)/v1/task/1")
                #expect(result.status == 200, "\(result.body)")
                return airlock.vendor.requests.last?.bodyText ?? ""
            }
            var scale = try await vendorSaw("scale")
            var labelbox = try await vendorSaw("labelbox")
            #expect(!scale.contains("Nightingale") && scale.contains("Kestrel"), "\(scale)")
            #expect(labelbox.contains("Nightingale") && !labelbox.contains("Kestrel"), "\(labelbox)")

            let configPath = airlock.directory + "/airlock.yaml"
            let swapped = try String(contentsOfFile: configPath, encoding: .utf8)
                .replacingOccurrences(of: "policy: policy.yaml", with: "policy: SWAP")
                .replacingOccurrences(of: "policy: other.yaml", with: "policy: policy.yaml")
                .replacingOccurrences(of: "policy: SWAP", with: "policy: other.yaml")
            try swapped.write(toFile: configPath, atomically: true, encoding: .utf8)
            airlock.signal(SIGHUP)
            #expect(await eventually(timeout: 15) { Self.reloads("applied", adminPort: adminPort) == 1 })
            scale = try await vendorSaw("scale")
            labelbox = try await vendorSaw("labelbox")
            #expect(scale.contains("Nightingale") && !scale.contains("Kestrel"), "\(scale)")
            #expect(!labelbox.contains("Nightingale") && labelbox.contains("Kestrel"), "\(labelbox)")
        }
    }

    /// The `terms:` part of `policy(_:)`, for a file that is included (no version or name).
    static func policyBody(_ terms: [String]) -> String {
        let values = terms.map { "\"\($0)\"" }.joined(separator: ", ")
        return "terms:\n  - {id: codenames, label: CODENAME, action: pseudonymize, values: [\(values)]}\n"
    }

    static func ready(_ adminPort: Int) -> Bool {
        (try? Curl.runBlocking(["http://127.0.0.1:\(adminPort)/readyz"]))?.status == 200
    }

    /// Sends `text` through scale; which of Tidewater and Nightingale the vendor saw (kept) and which it did not.
    static func leaves(_ airlock: ServedAirlock, _ text: String) async throws -> (kept: String?, hidden: String?) {
        let result = try await airlock.send(#"{"notes": "\#(text)"}"#)
        #expect(result.status == 200, "\(result.body)")
        let received = airlock.vendor.requests.last?.bodyText ?? ""
        let names = ["Tidewater", "Nightingale"]
        return (names.first { received.contains($0) }, names.first { !received.contains($0) })
    }
}
