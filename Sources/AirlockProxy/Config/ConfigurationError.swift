/// A configuration file that cannot be used, with where and why.
///
/// `description` is one line: `file:line:col: message` when the YAML position is known, so editors can jump to it.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The configuration file, when the configuration came from one.
    public var file: String?
    /// 1-based line and column of the offending YAML node, when known.
    public var line: Int?
    public var column: Int?
    /// What is wrong and, where it helps, what to do instead.
    public var message: String

    public init(file: String?, line: Int? = nil, column: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        var location = self.file ?? "<config>"
        if let line = self.line {
            location += ":\(line)"
            if let column = self.column {
                location += ":\(column)"
            }
        }
        return "\(location): \(self.message)"
    }
}
