import Foundation

/// One CSV line (RFC 4180) that a spreadsheet opens as text, never as a formula.
///
/// A cell is quoted when it holds a comma, a quote, a line break or leading or trailing space, quotes doubled. A
/// cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return (which spreadsheets read as the start of a
/// formula, OWASP's "CSV injection") is prefixed with `'` so it shows as the text it is: a logged path or client
/// name cannot run a formula on the reviewer's machine.
public enum CSVRow {
    /// Compared as Unicode scalars: `"\r\n"` is one Swift `Character`.
    static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]
    static let quoted: Set<Unicode.Scalar> = [",", "\"", "\n", "\r"]

    /// The cells as one line, without the line break; nil cells are empty.
    public static func line(_ cells: [String?]) -> String {
        cells.map { cell($0 ?? "") }.joined(separator: ",")
    }

    public static func cell(_ text: String) -> String {
        var text = text
        if let first = text.unicodeScalars.first, formulaStarts.contains(first) { text = "'" + text }
        let scalars = text.unicodeScalars
        let needsQuotes =
            scalars.contains(where: quoted.contains) || scalars.first == " " || scalars.last == " "
        guard needsQuotes else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
