import AirlockPolicy
import AirlockProxy
import AirlockRedaction
import ArgumentParser
import Foundation

/// `airlock check [--config FILE] [POLICY...]`: validates a configuration and everything it needs, or policy files,
/// without running anything.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a configuration and every file it needs, or policy files, their includes and term files.",
        discussion: """
            With --config, the configuration is read as 'airlock serve --config' reads it, then every policy it \
            names is loaded and compiled, and every file it needs is checked: listener certificates and keys (and \
            that they match), client and vendor CA bundles, the pseudonym key, the audit signing key and the audit \
            directory (writable). Nothing is bound, served or written.

            Each policy is loaded and validated, then compiled into the matching database exactly as \
            'airlock serve' and 'airlock redact' would, so a policy that passes here also loads there. A \
            configuration file given as a policy is recognised (it has listen: or vendors:) and checked as a \
            configuration.

            For a valid configuration or policy, prints to standard output:
              OK PATH (N vendors, N policies, audit log in DIR)
              OK PATH (NAME@sha256:HASH…, N terms, N patterns, N detectors, N fields)
            For each problem, prints to standard error, one per line, as
              FILE:LINE:COLUMN: MESSAGE
            (in the configuration for the files it names, in the policy for a policy's own problems).

            Exit codes: 0 everything is valid; 1 at least one problem; 64 bad command line.
            """
    )

    @Option(name: .long, help: "A configuration file (YAML), checked with every policy and file it names.")
    var config: String?

    @Argument(help: "Policy files (YAML, schema version 1).")
    var policies: [String] = []

    func validate() throws {
        if policies.isEmpty && config == nil {
            throw ValidationError(
                "Give a configuration or at least one policy file, e.g. 'airlock check --config airlock.yaml' or "
                    + "'airlock check Policies/lab.yaml'."
            )
        }
    }

    func run() async throws {
        var allValid = true
        var configurations = self.config.map { [$0] } ?? []
        var policies: [String] = []
        for path in self.policies {
            if ConfigurationReading.looksLikeConfiguration(path: path) {
                Self.write(
                    "note: \(path) is an Airlock configuration (it has listen: or vendors:), not a policy: checking "
                        + "it as one (say 'airlock check --config \(path)')\n",
                    to: 2
                )
                configurations.append(path)
            } else {
                policies.append(path)
            }
        }
        for path in configurations {
            let check = ConfigurationCheck(path: path)
            Self.write(check.passed.map { $0 + "\n" }.joined(), to: 1)
            Self.write(check.problems.map { $0 + "\n" }.joined(), to: 2)
            allValid = allValid && check.problems.isEmpty
        }
        for report in PolicyCheck.run(paths: policies) {
            var lines = report.lines
            var valid = report.isValid
            if case .success(let policy) = report.result, let problem = Self.compileProblem(policy, path: report.path) {
                lines = [problem]
                valid = false
            }
            Self.write(lines.map { $0 + "\n" }.joined(), to: valid ? 1 : 2)
            allValid = allValid && valid
        }
        if !allValid {
            throw ExitCode(1)
        }
    }

    private static func write(_ text: String, to descriptor: Int32) {
        if !text.isEmpty { FileHandle(fileDescriptor: descriptor).write(Data(text.utf8)) }
    }

    /// Compiles `policy` as the redaction engine does; `nil` when it compiles, else a diagnostic line pointing at the
    /// rule that does not (or at the policy file when the engine does not name one).
    static func compileProblem(_ policy: Policy, path: String) -> String? {
        do throws(RedactionError) {
            // The key only shapes tokens, not what compiles; a fixed one keeps `check` independent of key files.
            _ = try Redactor(policy: policy, keys: PseudonymKeys(secret: [UInt8](repeating: 0, count: 32)))
            return nil
        } catch {
            let locations: [(id: String, location: SourceLocation)] =
                policy.terms.map { ($0.id, $0.location) } + policy.patterns.map { ($0.id, $0.location) }
                + policy.detectors.map { ($0.id, $0.location) } + policy.fields.map { ($0.id, $0.location) }
            let location =
                locations.first { $0.id == error.rule }?.location
                ?? SourceLocation(file: path, line: 1, column: 1)
            return "\(location): \(error.message)"
        }
    }
}
