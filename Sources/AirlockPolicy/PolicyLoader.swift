import Foundation

/// Reads a policy file, its includes and term files, and validates all of it.
public enum PolicyLoader {
    /// Loads and validates the policy at `path`.
    ///
    /// - Throws: `PolicyLoadError` with every problem found, each as `file:line:column: message`.
    public static func load(path: String) throws(PolicyLoadError) -> Policy {
        throw PolicyLoadError(diagnostics: [
            PolicyDiagnostic(location: SourceLocation(file: path, line: 1, column: 1), message: "policy loading is not implemented yet")
        ])
    }
}
