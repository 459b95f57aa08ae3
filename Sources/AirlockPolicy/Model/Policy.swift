/// A loaded, validated policy (schema v1) with its includes and term files merged in.
///
/// Rules from included files come first, in `include:` order, then the including file's own rules. `allow` is the
/// union of all files' lists; `content.unknown` is taken from the including file, else from the last include that
/// sets it, else `.block`.
public struct Policy: Sendable, Hashable {
    /// Always 1 for now.
    public var version: Int
    public var name: String
    public var terms: [TermRule]
    public var patterns: [PatternRule]
    public var detectors: [DetectorRule]
    public var fields: [FieldRule]
    /// `fields` rules with `encoding:`: values decoded and inspected by what they hold.
    public var encodedFields: [EncodedField]
    /// Strings that are never redacted, even where a rule matches inside them.
    public var allow: [String]
    public var content: ContentRules
    /// The `images:` section; `nil`: images are content the policy cannot inspect (`content.unknown`). Taken from the
    /// including file, else from the last include that sets it.
    public var images: ImageRules?
    /// The shape of the pseudonyms handed out (the `pseudonyms:` section).
    public var pseudonyms: PseudonymOptions
    /// Every file the policy was read from, in load order: the policy, its includes, the term files.
    public var sourceFiles: [String]
    /// Lowercase hex SHA-256 over the canonical content of every source file (see `PolicyLoader`). Changes whenever
    /// any file that shapes the policy changes; identical policies on different machines hash the same.
    public var contentHash: String

    public init(
        version: Int = 1,
        name: String,
        terms: [TermRule] = [],
        patterns: [PatternRule] = [],
        detectors: [DetectorRule] = [],
        fields: [FieldRule] = [],
        encodedFields: [EncodedField] = [],
        allow: [String] = [],
        content: ContentRules = ContentRules(),
        images: ImageRules? = nil,
        sourceFiles: [String] = [],
        contentHash: String = "",
        pseudonyms: PseudonymOptions = PseudonymOptions()
    ) {
        self.pseudonyms = pseudonyms
        self.version = version
        self.name = name
        self.terms = terms
        self.patterns = patterns
        self.detectors = detectors
        self.fields = fields
        self.encodedFields = encodedFields
        self.allow = allow
        self.content = content
        self.images = images
        self.sourceFiles = sourceFiles
        self.contentHash = contentHash
    }

    /// Shorthand for `content.unknown`.
    public var unknownContent: UnknownContent { content.unknown }

    /// How the proxy and logs name this exact policy: `name@sha256:<contentHash>`.
    public var identity: String { "\(name)@sha256:\(contentHash)" }

    /// The number of terms over all term rules.
    public var termCount: Int { terms.reduce(0) { $0 + $1.values.count } }
}
