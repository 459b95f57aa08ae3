import AirlockAudit
import AirlockSupport
import Foundation

/// One page of a filtered list, newest first.
public struct ReviewSelection: Sendable {
    /// Record positions on this page.
    public var positions: [Int]
    /// Records matching the filter.
    public var total: Int
    /// 1-based, clamped to the pages there are.
    public var page: Int
    public var pageCount: Int
}

extension ReviewIndex {
    /// The positions the filter's time range covers.
    func timeRange(_ query: AuditQuery) -> Range<Int> {
        let since = query.since.map(RFC3339.format)
        let until = query.until.map(RFC3339.format)
        let lower = since.map { bound in firstPosition { records[$0].entry.time >= bound } } ?? 0
        let upper = until.map { bound in firstPosition { records[$0].entry.time > bound } } ?? records.count
        return lower..<max(lower, upper)
    }

    /// The first position where `isAfter` holds (it holds from there on), or the count.
    private func firstPosition(where isAfter: (Int) -> Bool) -> Int {
        var low = 0
        var high = records.count
        while low < high {
            let middle = (low + high) / 2
            if isAfter(middle) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// The posting lists a record must be in to match `filter` (the time range apart): one per facet it sets.
    /// A client matches by IP or configured name exactly, or by a part of its mTLS subject, as ``AuditQuery`` does.
    private func lists(for filter: ReviewFilter) -> [[Int32]] {
        var lists: [[Int32]] = [
            (Facet.vendor, filter.vendor), (.decision, filter.decision?.rawValue), (.reason, filter.reason),
            (.rule, filter.rule), (.label, filter.label),
        ].compactMap { facet, value in value.map { postings[facet.rawValue][$0] ?? [] } }
        if let client = filter.client {
            var matching = postings[Facet.client.rawValue][client].map { [$0] } ?? []
            for (subject, list) in postings[Facet.subject.rawValue] where subject.contains(client) {
                matching.append(list)
            }
            lists.append(Self.union(matching))
        }
        return lists
    }

    /// The positions in any of `lists` (each ascending), ascending and once each.
    static func union(_ lists: [[Int32]]) -> [Int32] {
        guard lists.count > 1 else { return lists.first ?? [] }
        var all = lists.flatMap { $0 }
        all.sort()
        var unique: [Int32] = []
        unique.reserveCapacity(all.count)
        for position in all where unique.last != position { unique.append(position) }
        return unique
    }

    /// The candidates for `filter`: the smallest posting list among the facets it sets, clipped to its time range,
    /// or the whole range; and the other lists a candidate must also be in.
    private func candidates(_ filter: ReviewFilter) -> (positions: Candidates, others: [[Int32]]) {
        let range = timeRange(filter.auditQuery)
        if filter.unknownDecision || filter.timeError != nil { return (.list([]), []) }
        var lists = lists(for: filter)
        guard let smallest = lists.indices.min(by: { lists[$0].count < lists[$1].count }) else {
            return (.range(range), [])
        }
        let list = lists.remove(at: smallest)
        let lower = Self.firstIndex(in: list) { Int($0) >= range.lowerBound }
        let upper = Self.firstIndex(in: list) { Int($0) >= range.upperBound }
        return (.list(list[lower..<upper]), lists)
    }

    /// Walks the candidates newest first, keeping those that every other list holds too: each list is followed by a
    /// cursor moving down with the candidates, so the walk costs the lists' lengths, not a search per candidate.
    private func forEachMatch(_ candidates: Candidates, _ others: [[Int32]], _ body: (Int) -> Bool) {
        var cursors = others.map { $0.count - 1 }
        candidateLoop: for offset in 0..<candidates.count {
            let position = Int32(candidates.newest(offset))
            for (index, list) in others.enumerated() {
                var cursor = cursors[index]
                while cursor >= 0, list[cursor] > position { cursor -= 1 }
                cursors[index] = cursor
                if cursor < 0 { return }
                if list[cursor] != position { continue candidateLoop }
            }
            if !body(Int(position)) { return }
        }
    }

    private static func firstIndex(in list: [Int32], where isAfter: (Int32) -> Bool) -> Int {
        var low = 0
        var high = list.count
        while low < high {
            let middle = (low + high) / 2
            if isAfter(list[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    private enum Candidates {
        case range(Range<Int>)
        case list(ArraySlice<Int32>)

        var count: Int {
            switch self {
            case .range(let range): range.count
            case .list(let list): list.count
            }
        }

        /// The candidate `offset` places from the newest.
        func newest(_ offset: Int) -> Int {
            switch self {
            case .range(let range): range.upperBound - 1 - offset
            case .list(let list): Int(list[list.endIndex - 1 - offset])
            }
        }
    }

    /// Page `page` (1-based; clamped) of `perPage` records matching `filter`, newest first.
    public func select(_ filter: ReviewFilter, page: Int, perPage: Int) -> ReviewSelection {
        let (candidates, others) = self.candidates(filter)
        guard !others.isEmpty else {
            let total = candidates.count
            let pageCount = max(1, (total + perPage - 1) / perPage)
            let page = min(max(1, page), pageCount)
            let first = (page - 1) * perPage
            let positions = (first..<min(total, first + perPage)).map(candidates.newest)
            return ReviewSelection(positions: positions, total: total, page: page, pageCount: pageCount)
        }
        // Every candidate is checked once, newest first; the requested page is kept while counting.
        var matching: [Int] = []
        var total = 0
        let wantedFirst = (max(1, page) - 1) * perPage
        forEachMatch(candidates, others) { position in
            if total >= wantedFirst && total < wantedFirst + perPage { matching.append(position) }
            total += 1
            return true
        }
        let pageCount = max(1, (total + perPage - 1) / perPage)
        guard max(1, page) <= pageCount else { return select(filter, page: pageCount, perPage: perPage) }
        return ReviewSelection(positions: matching, total: total, page: max(1, page), pageCount: pageCount)
    }

    /// Every record matching `filter`, newest first (for the exports).
    public func all(_ filter: ReviewFilter) -> [Int] {
        let (candidates, others) = self.candidates(filter)
        var positions: [Int] = []
        forEachMatch(candidates, others) { position in
            positions.append(position)
            return true
        }
        return positions
    }
}
