import Foundation
import Testing

@testable import AirlockPolicy

/// A temporary directory of policy files, removed when the fixture goes away.
final class PolicyFixture {
    let directory: URL

    init(_ files: [String: String]) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("airlock-policy-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, content) in files {
            try write(name, content)
        }
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func write(_ name: String, _ content: String) throws {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(content.utf8).write(to: url)
    }

    func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    /// Loads `name`; the policy, or the diagnostics with the fixture directory stripped from file names
    /// (`policy.yaml:3:5: message`).
    func load(_ name: String = "policy.yaml") -> (policy: Policy?, diagnostics: [String]) {
        do throws(PolicyLoadError) {
            return (try PolicyLoader.load(path: path(name)), [])
        } catch {
            let prefix = directory.path + "/"
            return (
                nil,
                error.diagnostics.map { diagnostic in
                    var text = diagnostic.description
                    while let range = text.range(of: prefix) { text.replaceSubrange(range, with: "") }
                    return text
                }
            )
        }
    }

    /// The diagnostics of loading `name`; records an issue when it loads fine.
    func diagnostics(
        _ name: String = "policy.yaml",
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    )
        -> [String]
    {
        let (policy, diagnostics) = load(name)
        if policy != nil {
            Issue.record("expected \(name) to be invalid, but it loaded", sourceLocation: sourceLocation)
        }
        return diagnostics
    }

    /// The loaded policy; records an issue with the diagnostics when it does not load.
    func policy(_ name: String = "policy.yaml", sourceLocation: Testing.SourceLocation = #_sourceLocation) -> Policy? {
        let (policy, diagnostics) = load(name)
        if policy == nil {
            Issue.record(
                "expected \(name) to load, got:\n\(diagnostics.joined(separator: "\n"))",
                sourceLocation: sourceLocation
            )
        }
        return policy
    }
}

/// A policy of the given body lines under `version: 1` and `name: test`.
func policyYAML(_ body: String) -> String {
    "version: 1\nname: test\n" + body
}
