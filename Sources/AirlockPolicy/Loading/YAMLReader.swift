import Yams

/// The one way Airlock reads YAML (policies and the proxy configuration): composes the text into Yams nodes, which
/// keep their line and column, and turns every parser failure into a ``YAMLSyntaxError`` that says where.
public enum YAMLReader {
    /// The document's root node; nil for an empty document.
    public static func compose(_ text: String) throws(YAMLSyntaxError) -> Node? {
        do {
            return try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Self.syntaxError(error)
        } catch {
            throw YAMLSyntaxError(line: 1, column: 1, message: "cannot parse YAML: \(error)")
        }
    }

    static func syntaxError(_ error: YamlError) -> YAMLSyntaxError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let contextNote = context.map { " (\($0.text) at \($0.mark))" } ?? ""
            return YAMLSyntaxError(
                line: mark.line,
                column: mark.column,
                message: "YAML syntax error: \(problem)\(contextNote)"
            )
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams points at the mapping; point at the repeated key instead where it can be found.
            let key = duplicates.sorted().first ?? ""
            let position = Self.secondOccurrence(ofKey: key, in: context.text)
            return YAMLSyntaxError(
                line: position?.line ?? context.mark.line,
                column: position?.column ?? context.mark.column,
                message: "duplicate key '\(key)' in a mapping: each key may appear once"
            )
        case .reader(let problem, _, _, _):
            return YAMLSyntaxError(line: 1, column: 1, message: "cannot read YAML: \(problem)")
        default:
            return YAMLSyntaxError(line: 1, column: 1, message: "cannot parse YAML: \(error)")
        }
    }

    /// Line and column of the second line that starts with `key:` at the same indentation as the first, or nil.
    static func secondOccurrence(ofKey key: String, in text: String) -> (line: Int, column: Int)? {
        var seen: [Int: Int] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var rest = Substring(line)
            var column = 1
            while let first = rest.first, first == " " || first == "-" {
                rest = rest.dropFirst()
                column += 1
            }
            for quote in ["", "'", "\""] where rest.hasPrefix(quote + key + quote) {
                let after = rest.dropFirst(quote.count * 2 + key.count).drop { $0 == " " }
                guard after.hasPrefix(":") else { continue }
                seen[column, default: 0] += 1
                if seen[column] == 2 { return (index + 1, column) }
            }
        }
        return nil
    }
}
