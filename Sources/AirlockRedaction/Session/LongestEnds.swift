/// The longest end seen for each key. A segment has a handful of regex matches: a list searched in place costs less
/// than a dictionary's allocation and hashing; the order of `entries` does not matter (overlaps are resolved by a
/// total order).
struct LongestEnds {
    private(set) var entries: [(key: UInt64, end: Int)] = []
    private var index: [UInt64: Int] = [:]

    mutating func keep(_ key: UInt64, _ end: Int) {
        if entries.count < 16 {
            for k in entries.indices where entries[k].key == key {
                if entries[k].end < end { entries[k].end = end }
                return
            }
            entries.append((key, end))
            if entries.count == 16 {
                for (k, entry) in entries.enumerated() { index[entry.key] = k }
            }
            return
        }
        if let k = index[key] {
            if entries[k].end < end { entries[k].end = end }
            return
        }
        index[key] = entries.count
        entries.append((key, end))
    }
}
