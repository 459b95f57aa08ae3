import AirlockPolicy
import ArgumentParser
import Foundation

/// `airlock check POLICY...`: validates policy files without running anything.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate policy files, their includes and term files.",
        discussion: """
            For each valid policy, prints to standard output:
              OK PATH (NAME@sha256:HASH…, N terms, N patterns, N detectors, N fields)
            For each invalid policy, prints every problem to standard error, one per line, as
              FILE:LINE:COLUMN: MESSAGE

            Exit codes: 0 every policy is valid; 1 at least one is not.
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
        let reports = PolicyCheck.run(paths: policies)
        for report in reports {
            let text = report.lines.map { $0 + "\n" }.joined()
            if report.isValid {
                FileHandle.standardOutput.write(Data(text.utf8))
            } else {
                FileHandle.standardError.write(Data(text.utf8))
            }
        }
        if !reports.allSatisfy(\.isValid) {
            throw ExitCode(1)
        }
    }
}
