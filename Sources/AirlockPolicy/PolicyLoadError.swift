/// Every problem found while loading a policy; the policy is not used when there is any.
public struct PolicyLoadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// In the order found: files in load order, positions in file order. Never empty.
    public var diagnostics: [PolicyDiagnostic]

    public init(diagnostics: [PolicyDiagnostic]) {
        self.diagnostics = diagnostics
    }

    /// One diagnostic per line.
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }

    /// One diagnostic per line with every quoted value withheld (see ``PolicyDiagnostic/descriptionWithholdingValues``):
    /// for a long-lived log, where the policy's own terms, patterns and domains must not appear.
    public var descriptionWithholdingValues: String {
        diagnostics.map(\.descriptionWithholdingValues).joined(separator: "\n")
    }
}
