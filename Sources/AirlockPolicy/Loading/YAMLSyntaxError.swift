/// YAML that cannot be parsed, at the 1-based line and column the parser stopped (line 1, column 1 when it does not
/// say). The caller adds the file: `file:line:column: message`.
public struct YAMLSyntaxError: Error, Sendable, Hashable {
    public var line: Int
    public var column: Int
    public var message: String

    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }
}
