import AirlockAudit
import AirlockPolicy
import AirlockProxy
import AirlockRedaction
import AirlockSupport
import ArgumentParser
import Foundation

// MARK: - hunt

extension Log {
    struct Hunt: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a policy over what already left: every stored body and recorded path in a range.",
            discussion: """
                Verifies the log first (chain, files, checkpoint signatures), then reads every stored forwarded body
                of the decisions in the range (exactly what each vendor received), checks it against its hash, and
                matches the policy in it and in each decision's recorded texts (the path as forwarded, the reason,
                the findings' paths). Every rule is applied whatever its action or mode. Lists one row per rule per
                place: TIME, SEQ, VENDOR, ID, RULE, LABEL, COUNT, PLACE, PATHS (as they left, each match replaced by
                [REDACTED:LABEL]; never a matched value), then a statement of what the hunt covered and its speed.

                --report FILE writes the report as JSON (the policy named by its content hash, the rules, the
                range, the decisions, bodies and checkpoints covered, the matches); with --sign-key the audit
                signing key signs it into FILE.sig, which `airlock log hunt-verify` checks.

                Exit codes: 0 nothing matched; 1 something matched; 2 the hunt could not answer (the policy is
                invalid, the log does not verify, a stored body was altered or is missing: named by seq and id).
                """
        )

        @OptionGroup var location: Location
        @Option(help: "The policy to hunt with (its includes and term files are read too).")
        var policy: String
        @Option(help: "Only decisions at or after this RFC 3339 time or date.")
        var since: String?
        @Option(help: "Only decisions at or before this RFC 3339 time or date.")
        var until: String?
        @Option(help: "Only this vendor.")
        var vendor: String?
        @Option(name: .customLong("public-key"), help: "Ed25519 public key (PEM) that signed the checkpoints.")
        var publicKeys: [String] = []
        @Option(help: "Write the report as JSON to this file.")
        var report: String?
        @Option(
            name: .customLong("sign-key"),
            help: "Sign the report with this Ed25519 private key (PEM) into REPORT.sig."
        )
        var signKey: String?
        @Option(help: "Threads reading bodies (default: one per core).")
        var workers: Int = ProcessInfo.processInfo.activeProcessorCount
        @Flag(help: "Print the report as JSON instead of a table.")
        var json = false

        func validate() throws {
            for (name, value) in [("--since", since), ("--until", until)] {
                if let value, RFC3339.parse(value) == nil {
                    throw ValidationError("\(name) '\(value)' is not an RFC 3339 time; use e.g. 2026-11-26T09:00:00Z.")
                }
            }
            if signKey != nil, report == nil { throw ValidationError("--sign-key signs the --report file: pass both.") }
            if workers < 1 { throw ValidationError("--workers must be at least 1.") }
        }

        func run() async throws {
            let hunting: HuntPolicy
            do {
                hunting = try HuntPolicy(try PolicyLoader.load(path: policy))
            } catch let error as PolicyLoadError {
                Log.fail(error.diagnostics.map(\.description).joined(separator: "\n"))
            } catch {
                Log.fail("\(policy): \(error)")
            }
            var keys = (publicKeys + (signKey.map { [$0] } ?? [])).map { URL(fileURLWithPath: $0) }
            if keys.isEmpty, FileManager.default.fileExists(atPath: "Certs/audit-signing.pub") {
                keys = [URL(fileURLWithPath: "Certs/audit-signing.pub")]
            }
            // One log per hunt: its chain and checkpoints are what the signed report covers.
            guard location.urls.count == 1, let directory = location.urls.first else {
                Log.fail("log hunt reads one audit directory (--dir once); hunt each replica's log on its own")
            }
            let options = RetroHunt.Options(
                directory: directory,
                query: AuditQuery(
                    since: since.flatMap(RFC3339.parse),
                    until: until.flatMap(RFC3339.parse),
                    vendor: vendor
                ),
                publicKeys: keys,
                workers: workers
            )
            let outcome: RetroHunt.Outcome
            do {
                outcome = try RetroHunt.run(hunting, options: options)
            } catch {
                Log.fail(error.message)
            }
            let result = outcome.report
            if let report { try write(result, to: report) }
            if json {
                Log.print(String(decoding: try Log.jsonEncoder().encode(result), as: UTF8.self))
            } else {
                printTable(result)
                Log.print(result.statement)
                let megabytes = Double(result.coverage.bodyBytes) / 1e6
                let rate = outcome.scanSeconds > 0 ? megabytes / outcome.scanSeconds : 0
                let perCPU = outcome.scanCPUSeconds > 0 ? megabytes / outcome.scanCPUSeconds : 0
                Log.print(
                    String(
                        format: "Scanned %d bodies, %.1f MB in %.3f s: %.0f MB/s (%d workers; %.3f CPU s: %.0f MB "
                            + "per CPU second).",
                        result.coverage.bodies,
                        megabytes,
                        outcome.scanSeconds,
                        rate,
                        workers,
                        outcome.scanCPUSeconds,
                        perCPU
                    )
                )
            }
            if !result.matches.isEmpty { throw ExitCode(1) }
        }

        private func printTable(_ report: HuntReport) {
            var table = [["TIME", "SEQ", "VENDOR", "ID", "RULE", "LABEL", "COUNT", "PLACE", "PATHS"]]
            for match in report.matches {
                table.append([
                    match.time, "\(match.seq)", match.vendor, match.id, match.rule, match.label, "\(match.count)",
                    match.place, match.paths.joined(separator: " "),
                ])
            }
            if table.count > 1 { Log.printTable(table) }
        }

        /// The report file (pretty JSON, sorted keys) and, with --sign-key, its signature file.
        private func write(_ report: HuntReport, to path: String) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            let bytes = Array(try encoder.encode(report)) + [UInt8(ascii: "\n")]
            do {
                try Data(bytes).write(to: URL(fileURLWithPath: path))
            } catch {
                Log.fail("cannot write the report \(path): \(error.localizedDescription)")
            }
            guard let signKey else { return }
            let signed: (keyID: String, signature: String)
            do {
                signed = try ReportSignature.sign(bytes, keyPath: URL(fileURLWithPath: signKey))
            } catch {
                Log.fail(error.message)
            }
            let signature = HuntSignature(keyID: signed.keyID, signature: signed.signature, sha256: SHA256.hex(bytes))
            try Data(try Log.jsonEncoder().encode(signature) + Data("\n".utf8)).write(
                to: URL(fileURLWithPath: path + ".sig")
            )
        }
    }

    /// A report's signature file (`REPORT.sig`).
    struct HuntSignature: Codable {
        var format = "airlock-hunt-report-signature/v1"
        var keyID: String
        var signature: String
        /// SHA-256 of the report file, for finding the right file; the signature is what proves it.
        var sha256: String

        enum CodingKeys: String, CodingKey {
            case format, signature, sha256
            case keyID = "key_id"
        }
    }

    /// Writes `message` to standard error and exits with code 2 (the hunt gave no answer).
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("airlock log hunt: \(message)\n".utf8))
        Foundation.exit(2)
    }
}

// MARK: - hunt-verify

extension Log {
    struct HuntVerify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hunt-verify",
            abstract: "Check a signed hunt report: its signature and, with --dir, the checkpoints it names.",
            discussion: """
                Checks the Ed25519 signature in REPORT.sig over REPORT against the audit public key, then prints the
                report's statement. With --dir, also verifies that log and that each checkpoint the report names is
                in it with the same head, so the report speaks for exactly those records.

                Exit codes: 0 the report verifies; 1 it does not.
                """
        )

        @Argument(help: "The report file written by `airlock log hunt --report`.")
        var report: String
        @Option(help: "The signature file (default: REPORT.sig).")
        var signature: String?
        @Option(name: .customLong("public-key"), help: "The audit Ed25519 public key (PEM).")
        var publicKeys: [String] = []
        @Option(help: "The audit directory the report was made from, to check the checkpoints it names.")
        var dir: String?

        func run() async throws {
            do {
                let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: report)))
                let signed = try JSONDecoder().decode(
                    HuntSignature.self,
                    from: Data(contentsOf: URL(fileURLWithPath: signature ?? report + ".sig"))
                )
                var keys = publicKeys.map { URL(fileURLWithPath: $0) }
                if keys.isEmpty, FileManager.default.fileExists(atPath: "Certs/audit-signing.pub") {
                    keys = [URL(fileURLWithPath: "Certs/audit-signing.pub")]
                }
                let keyID = try ReportSignature.verify(
                    bytes,
                    signature: signed.signature,
                    keyID: signed.keyID,
                    publicKeys: keys
                )
                let decoded = try JSONDecoder().decode(HuntReport.self, from: Data(bytes))
                if let dir { try Self.checkCheckpoints(decoded, directory: dir, keys: keys) }
                Log.print("OK: report signed by key_id \(keyID)\(dir == nil ? "" : ", checkpoints found in \(dir)")")
                Log.print(decoded.statement)
            } catch {
                FileHandle.standardError.write(Data("FAILED: \(Self.message(error))\n".utf8))
                throw ExitCode(1)
            }
        }

        struct Mismatch: Error, CustomStringConvertible {
            var description: String
        }

        static func message(_ error: any Error) -> String {
            if let error = error as? AuditError { return error.message }
            if let error = error as? AuditVerificationFailure { return error.description }
            return "\(error)"
        }

        /// The log verifies, and holds each checkpoint the report names at its seq with its head.
        static func checkCheckpoints(_ report: HuntReport, directory: String, keys: [URL]) throws {
            let url = URL(fileURLWithPath: directory)
            _ = try AuditVerifier.verify(directory: url, publicKeys: keys)
            let checkpoints = try AuditLogReader(directory: url).entries().filter { $0.event == .checkpoint }
            for named in report.coverage.checkpoints {
                guard checkpoints.contains(where: { $0.seq == named.seq && $0.head == named.head }) else {
                    throw Mismatch(
                        description:
                            "checkpoint seq \(named.seq) (head \(named.head)) named by the report is not in \(directory)"
                    )
                }
            }
        }
    }
}
