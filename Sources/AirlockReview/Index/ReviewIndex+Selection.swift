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

    /// The candidates for `filter`: the smallest posting list among the facets it sets, clipped to its time range,
    /// or the whole range; and whether every candidate still has to be checked against the whole filter.
    private func candidates(_ filter: ReviewFilter, query: AuditQuery) -> (positions: Candidates, check: Bool) {
        let range = timeRange(query)
        if filter.unknownDecision || filter.timeError != nil { return (.list([]), false) }
        let set: [(Facet, String)] = [
            (.vendor, filter.vendor), (.decision, filter.decision?.rawValue), (.reason, filter.reason),
            (.rule, filter.rule), (.label, filter.label),
        ].compactMap { facet, value in value.map { (facet, $0) } }
        let lists = set.map { postings[$0.0.rawValue][$0.1] ?? [] }
        let needsCheck = set.count > 1 || filter.client != nil
        guard let smallest = lists.min(by: { $0.count < $1.count }) else { return (.range(range), needsCheck) }
        let lower = Self.firstIndex(in: smallest) { Int($0) >= range.lowerBound }
        let upper = Self.firstIndex(in: smallest) { Int($0) >= range.upperBound }
        return (.list(smallest[lower..<upper]), needsCheck)
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

    /// Whether the record at `position` passes every part of `filter`.
    func matches(_ position: Int, _ filter: ReviewFilter, query: AuditQuery) -> Bool {
        let entry = records[position].entry
        guard query.matches(entry) else { return false }
        if let reason = filter.reason, reasons[position].rawValue != reason { return false }
        if let label = filter.label, !Self.labels(of: entry).contains(label) { return false }
        return true
    }

    /// Page `page` (1-based; clamped) of `perPage` records matching `filter`, newest first.
    public func select(_ filter: ReviewFilter, page: Int, perPage: Int) -> ReviewSelection {
        let query = filter.auditQuery
        let (candidates, check) = self.candidates(filter, query: query)
        guard check else {
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
        for offset in 0..<candidates.count {
            let position = candidates.newest(offset)
            guard matches(position, filter, query: query) else { continue }
            if total >= wantedFirst && total < wantedFirst + perPage { matching.append(position) }
            total += 1
        }
        let pageCount = max(1, (total + perPage - 1) / perPage)
        guard max(1, page) <= pageCount else { return select(filter, page: pageCount, perPage: perPage) }
        return ReviewSelection(positions: matching, total: total, page: max(1, page), pageCount: pageCount)
    }

    /// Every record matching `filter`, newest first (for the exports).
    public func all(_ filter: ReviewFilter) -> [Int] {
        let query = filter.auditQuery
        let (candidates, check) = self.candidates(filter, query: query)
        return (0..<candidates.count).lazy.map(candidates.newest).filter {
            !check || self.matches($0, filter, query: query)
        }
    }
}
