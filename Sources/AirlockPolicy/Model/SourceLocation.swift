/// Where something was written in a policy source: the file as the user named it (includes are shown relative to the
/// including file's directory), and a 1-based line and column.
///
/// Kept on every rule so that later errors and findings can point back at the rule that produced them.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, the form editors and terminals make clickable.
    public var description: String { "\(file):\(line):\(column)" }
}
