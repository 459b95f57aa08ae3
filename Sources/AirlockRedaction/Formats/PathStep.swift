/// One step of the path inside a walk. A plain value (no references), so pushing and popping it costs no reference
/// counting: a key's bytes are in the walked buffer, or, for escaped keys and the prefix, in the walker's key arena.
struct PathStep {
    var index: Int
    var keyStart: Int
    var keyCount: Int
    var inArena: Bool

    static func element(_ index: Int) -> PathStep { PathStep(index: index, keyStart: 0, keyCount: 0, inArena: false) }
    var isKey: Bool { index < 0 }
}
