/// Why a `Redactor` could not be built, a key could not be read, or a response could not be restored.
///
/// Messages name the rule or file involved and what to do; they never contain matched content.
public struct RedactionError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The pseudonym key file is missing, unreadable or malformed.
        case key
        /// A rule of the policy does not compile into the matching database.
        case compile
        /// A body could not be decoded or parsed (restore only; redaction reports this as an outcome).
        case uninspectable
    }

    public var kind: Kind
    public var message: String
    /// The id of the policy rule the error is about, when it is about one (a `.compile` error of one rule).
    public var rule: String?

    public init(_ kind: Kind, _ message: String, rule: String? = nil) {
        self.kind = kind
        self.message = message
        self.rule = rule
    }

    public var description: String { message }
}
