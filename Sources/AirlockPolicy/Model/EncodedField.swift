/// A `fields` rule that declares how a field's value is encoded (`encoding: base64`) instead of acting on it: the
/// value is decoded and what it holds is inspected by its type (text through every rule; anything else as
/// `content.unknown` says). A value that does not decode is refused.
public struct EncodedField: Sendable, Hashable {
    public enum Encoding: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// RFC 4648 base64, standard or URL-safe alphabet, padded or not, line breaks allowed; or a `data:` URL.
        case base64

        public var description: String { rawValue }
    }

    /// Defaults to the path as written (`$..screenshot`).
    public var id: String
    public var path: JSONPath
    public var encoding: Encoding
    public var location: SourceLocation

    public init(
        id: String? = nil,
        path: JSONPath,
        encoding: Encoding,
        location: SourceLocation = SourceLocation(file: "<memory>", line: 0, column: 0)
    ) {
        self.id = id ?? path.description
        self.path = path
        self.encoding = encoding
        self.location = location
    }
}
