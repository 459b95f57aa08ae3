/// The core of `airlock check`: loads each policy and says, per policy, either that it is valid with a summary or
/// every problem found.
public enum PolicyCheck {
    /// The outcome for one policy path.
    public struct Report: Sendable {
        public var path: String
        public var result: Result<Policy, PolicyLoadError>

        public var isValid: Bool {
            if case .success = result { return true }
            return false
        }

        /// `OK path (name@sha256:0123456789ab…, N terms, N patterns, N detectors, N fields)` for a valid policy, else
        /// one `file:line:column: message` line per problem.
        public var lines: [String] {
            switch result {
            case .success(let policy): [PolicyCheck.summary(path: path, policy: policy)]
            case .failure(let error): error.diagnostics.map(\.description)
            }
        }
    }

    /// Loads every path (each independently: a bad one does not stop the others).
    public static func run(paths: [String]) -> [Report] {
        paths.map { path in
            do throws(PolicyLoadError) {
                return Report(path: path, result: .success(try PolicyLoader.load(path: path)))
            } catch {
                return Report(path: path, result: .failure(error))
            }
        }
    }

    /// `OK path (name@sha256:<first 12 hex>…, N terms, N patterns, N detectors, N fields)`; terms counts the terms of
    /// all term rules.
    public static func summary(path: String, policy: Policy) -> String {
        let hash = policy.contentHash.prefix(12)
        return
            "OK \(path) (\(policy.name)@sha256:\(hash)…, \(policy.termCount) terms, \(policy.patterns.count) patterns, "
            + "\(policy.detectors.count) detectors, \(policy.fields.count + policy.encodedFields.count) fields)"
    }
}
