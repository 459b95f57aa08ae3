import AirlockRedaction
import ArgumentParser
import Foundation

/// `airlock test DIR`: runs policy test cases (YAML) against their policies.
struct Test: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run policy test cases written as YAML.",
        discussion: """
            Runs every *.yaml / *.yml file under DIR (or the one file given). Each file names a policy and lists \
            cases: name, input, optional vendor / content_type / policy, and expectations: output (exact), \
            contains, not_contains, blocked (true: refused by a rule or as uninspectable), uninspectable, rule \
            (the blocking rule id). See Policies/tests/ for examples.

            Prints each failure with its reason, then exactly one line: N passed, N failed. Tokens use a fixed \
            test key unless --key-file names one, so expected outputs stay stable.

            Exit codes: 0 every case passed; 1 a case failed, or there were no test files.
            """
    )

    @Argument(help: ArgumentHelp("Directory (or file) of test cases.", valueName: "dir"))
    var directory: String

    @Option(name: .long, help: ArgumentHelp("Pseudonym key file instead of the fixed test key.", valueName: "file"))
    var keyFile: String?

    func run() async throws {
        var suite = PolicyTestSuite()
        if let keyFile {
            do {
                suite.keys = try PseudonymKeys(contentsOf: URL(fileURLWithPath: keyFile))
            } catch {
                CLIOutput.error(error.description)
                throw ExitCode(1)
            }
        }
        let files = PolicyTestSuite.testFiles(in: directory)
        if files.isEmpty {
            CLIOutput.error("no test files (*.yaml, *.yml) found in \(directory)")
            print("0 passed, 0 failed")
            throw ExitCode(1)
        }
        var passed = 0
        var failed = 0
        for file in files {
            for result in suite.run(file: file) {
                if let failure = result.failure {
                    failed += 1
                    print("FAIL \(result.file): \(result.name): \(failure)")
                } else {
                    passed += 1
                }
            }
        }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}
