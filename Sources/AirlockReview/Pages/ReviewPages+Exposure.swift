import AirlockAudit
import Foundation

extension ReviewPages {
    func exposure(vendor wanted: String?) -> String {
        struct Day {
            var day: String
            var requests: Int
            var labels: [Tag]
        }
        struct Count {
            var label: String
            var distinct: Int
            var occurrences: Int
        }
        struct Model {
            var title = "Exposure"
            var chrome: Chrome
            var vendors: [Option]
            var vendor: String?
            var days: [Day]
            var pseudonyms: [Count]
            var scanned: String
        }
        let index = console.index
        let vendors = index.vendors
        let vendor = wanted.flatMap { vendors.contains($0) ? $0 : nil } ?? vendors.first
        var days: [Day] = []
        var counts: [Count] = []
        var scanned = ""
        if let vendor {
            days = index.overview.filter { $0.vendor == vendor }.map {
                Day(day: $0.day, requests: $0.stats.total.requests, labels: Self.tags($0.labels))
            }
            let census = console.census.census(of: vendor, in: index, directories: console.directories)
            counts = census.counts.map { Count(label: $0.label, distinct: $0.distinct, occurrences: $0.occurrences) }
            scanned =
                census.bodies == census.stored
                ? "Read from all \(census.stored) stored bodies."
                : "Read from the newest \(census.bodies) of \(census.stored) stored bodies."
        }
        let model = Model(
            chrome: chrome,
            vendors: vendors.map { Option(value: $0, selected: $0 == vendor) },
            vendor: vendor,
            days: days,
            pseudonyms: counts,
            scanned: scanned
        )
        return ReviewTemplates.render(model, "exposure")
    }
}
