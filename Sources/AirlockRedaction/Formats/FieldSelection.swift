import AirlockPolicy

extension CompiledFieldRule {
    /// A policy path as the walkers match it: keys as bytes.
    static func segments(of path: JSONPath) -> [Segment] {
        path.segments.map { segment in
            switch segment {
            case .key(let name): .key(Array(name.utf8))
            case .index(let index): .index(index)
            case .wildcard: .wildcard
            case .descendant(let name): .descendant(Array(name.utf8))
            }
        }
    }

    /// Whether a path selects the form field (or multipart part) `name`: a field is the path `$.name`.
    static func selects(_ segments: [Segment], field name: [UInt8]) -> Bool {
        guard segments.count == 1 else { return false }
        switch segments[0] {
        case .key(let key), .descendant(let key): return key == name
        case .wildcard: return true
        case .index: return false
        }
    }
}

extension CompiledRules {
    /// Whether a `fields` rule declares the form field (or multipart part) `name` base64.
    func declaresBase64(field name: [UInt8]) -> Bool {
        base64Fields.contains { CompiledFieldRule.selects($0, field: name) }
    }
}
