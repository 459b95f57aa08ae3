/// One step of the path handed to a walker as its prefix (a multipart field name, the path of the string that holds
/// a nested document): keys own their bytes.
struct PathEntry {
    var index: Int
    var keyStart: Int
    var keyCount: Int
    var owned: [UInt8]?

    static func element(_ index: Int) -> PathEntry { PathEntry(index: index, keyStart: 0, keyCount: 0, owned: nil) }
    var isKey: Bool { index < 0 }
}
