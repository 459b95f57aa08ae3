import AirlockPolicy
import AirlockRedaction

/// A vendor's candidate policy (`policy_candidate:`): evaluated beside the enforced one on every request, never
/// deciding anything. Where it would have decided differently the difference is recorded (`CandidateComparison`).
public struct CandidatePolicy: Sendable {
    public var redactor: Redactor
    /// `name@sha256:…` of the candidate's files.
    public var identity: String
    public var sourceFiles: [String]

    public init(redactor: Redactor, identity: String, sourceFiles: [String] = []) {
        self.redactor = redactor
        self.identity = identity
        self.sourceFiles = sourceFiles
    }

    /// The candidate as a policy the inspector can run (its decision is only compared, never acted on).
    var asVendorPolicy: VendorPolicy {
        VendorPolicy(redactor: redactor, identity: identity, sourceFiles: sourceFiles)
    }
}
