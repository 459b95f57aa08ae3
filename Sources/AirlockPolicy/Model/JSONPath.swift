/// The JSONPath subset `fields` rules use:
///
/// - `$.a.b` and `$['a b']` (`["a b"]`): a member of an object
/// - `$.a[0]`: an element of an array
/// - `$.a[*].b` and `$.a.*`: every member of an object or element of an array
/// - `$..key` (`$..['key']`): the member `key` of an object at any depth
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    public enum Segment: Sendable, Hashable {
        /// `.name` or `['name']`.
        case key(String)
        /// `[n]`, n >= 0.
        case index(Int)
        /// `[*]` or `.*`: any member or element.
        case wildcard
        /// `..name`: the member `name` at this level or any level below.
        case descendant(String)
    }

    /// One step of the path of a value inside a JSON document, as a redaction engine walking it would keep.
    public enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    /// Never empty in a parsed path.
    public var segments: [Segment]
    /// The text the path was parsed from.
    public var description: String

    public init(segments: [Segment], description: String) {
        self.segments = segments
        self.description = description
    }

    /// Parses `text`; throws with the character offset and the reason when it is not in the subset.
    public init(parsing text: String) throws(JSONPathError) {
        var parser = JSONPathParser(text: text)
        self.segments = try parser.parse()
        self.description = text
    }

    /// Whether the value at `path` (from the document root) is selected by this JSONPath.
    public func matches(_ path: some RandomAccessCollection<Component>) -> Bool {
        let components = Array(path)
        return Self.matches(segments[...], components[...])
    }

    private static func matches(_ segments: ArraySlice<Segment>, _ components: ArraySlice<Component>) -> Bool {
        guard let segment = segments.first else { return components.isEmpty }
        let rest = segments.dropFirst()
        switch segment {
        case .key(let name):
            guard case .key(name)? = components.first else { return false }
            return matches(rest, components.dropFirst())
        case .index(let index):
            guard case .index(index)? = components.first else { return false }
            return matches(rest, components.dropFirst())
        case .wildcard:
            guard !components.isEmpty else { return false }
            return matches(rest, components.dropFirst())
        case .descendant(let name):
            var remaining = components
            while let first = remaining.first {
                remaining = remaining.dropFirst()
                if case .key(name) = first, matches(rest, remaining) { return true }
            }
            return false
        }
    }
}
