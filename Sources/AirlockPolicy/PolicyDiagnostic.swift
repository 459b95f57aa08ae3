/// One problem found while loading a policy, at the place it was written.
public struct PolicyDiagnostic: Sendable, Hashable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    public init(location: SourceLocation, message: String) {
        self.location = location
        self.message = message
    }

    /// `file:line:column: message`.
    public var description: String { "\(location): \(message)" }
}

/// Every problem found while loading a policy; the policy is not used when there is any.
public struct PolicyLoadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// In the order found: files in load order, positions in file order. Never empty.
    public var diagnostics: [PolicyDiagnostic]

    public init(diagnostics: [PolicyDiagnostic]) {
        self.diagnostics = diagnostics
    }

    /// One diagnostic per line.
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
