import AirlockPolicy
import AirlockRedaction
import ArgumentParser
import Foundation

/// `airlock check POLICY...`: validates policy files without running anything.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate policy files, their includes and term files.",
        discussion: """
            Each policy is loaded and validated, then compiled into the matching database exactly as \
            'airlock serve' and 'airlock redact' would, so a policy that passes here also loads there.

            For each valid policy, prints to standard output:
              OK PATH (NAME@sha256:HASH…, N terms, N patterns, N detectors, N fields)
            For each invalid policy, prints every problem to standard error, one per line, as
              FILE:LINE:COLUMN: MESSAGE

            Exit codes: 0 every policy is valid; 1 at least one is not; 64 bad command line.
            """
    )

    @Argument(help: "Policy files (YAML, schema version 1).")
    var policies: [String]

    func validate() throws {
        if policies.isEmpty {
            throw ValidationError("Give at least one policy file, e.g. 'airlock check Policies/lab.yaml'.")
        }
    }

    func run() async throws {
        var allValid = true
        for report in PolicyCheck.run(paths: policies) {
            var lines = report.lines
            var valid = report.isValid
            if case .success(let policy) = report.result, let problem = Self.compileProblem(policy, path: report.path) {
                lines = [problem]
                valid = false
            }
            let text = lines.map { $0 + "\n" }.joined()
            FileHandle(fileDescriptor: valid ? 1 : 2).write(Data(text.utf8))
            allValid = allValid && valid
        }
        if !allValid {
            throw ExitCode(1)
        }
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
