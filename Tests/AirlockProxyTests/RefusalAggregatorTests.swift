import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

@testable import AirlockProxy

/// What an attacker controls when provoking refusals (addresses, methods, how long the log is down) cannot grow the
/// aggregator without bound or make refusals vanish from the log.
struct RefusalAggregatorTests {
    /// Records decisions; `unavailable` plays a full audit disk.
    final class Recorder: EgressRecorder {
        let decisions = Mutex<[EgressDecisionRecord]>([])
        let unavailable = Atomic<Bool>(false)
        func recordDecision(_ record: EgressDecisionRecord) async throws {
            self.decisions.withLock { $0.append(record) }
        }
        func recordOutcome(_ record: EgressOutcomeRecord) async throws {}
        var unavailableReason: String? { self.unavailable.load(ordering: .relaxed) ? "full" : nil }
        var total: Int { self.decisions.withLock { $0.reduce(0) { $0 + ($1.aggregated?.count ?? 1) } } }
    }

    static let loop = MultiThreadedEventLoopGroup.singleton.next()

    /// 10,000 refusals from 10,000 addresses, with made-up methods: the keys stop at the cap (later clients share
    /// one overflow key), every refusal is still counted, and each record says how many it stands for.
    @Test func manyAddressesAndMadeUpMethodsStayBoundedAndAreAllCounted() async throws {
        let recorder = Recorder()
        let aggregator = RefusalAggregator(recorder: recorder, logger: .init(label: "test"))
        for index in 0..<10_000 {
            aggregator.count(
                EgressRefusal(.routeNotAllowed(vendor: "scale")),
                vendor: "scale",
                method: HTTPMethod(rawValue: "X-\(index)"),
                path: EgressDecisionRecord.withheldPath,
                client: EgressClient(address: "10.\(index / 65536).\(index / 256 % 256).\(index % 256)"),
                direction: .egress
            )
        }
        try await aggregator.flush(on: Self.loop).get()
        let records = recorder.decisions.withLock { $0 }
        #expect(records.count == RefusalAggregator.maxKeys + 1)
        #expect(recorder.total == 10_000)
        let overflow = records.filter { $0.client.address == RefusalAggregator.overflowAddress }
        #expect(overflow.count == 1 && overflow.first?.aggregated?.count == 10_000 - RefusalAggregator.maxKeys)
        #expect(records.allSatisfy { $0.method.rawValue == "(other)" && $0.reason == "route_not_allowed" })
        // Counted once: a second flush writes nothing more.
        try await aggregator.flush(on: Self.loop).get()
        #expect(recorder.decisions.withLock { $0.count } == RefusalAggregator.maxKeys + 1)
    }

    /// While the recorder cannot take decisions (audit disk nearly full) the counts wait; once it can, one record
    /// per key carries them all.
    @Test func countsWaitWhileTheRecorderIsUnavailable() async throws {
        let recorder = Recorder()
        let aggregator = RefusalAggregator(recorder: recorder, logger: .init(label: "test"))
        recorder.unavailable.store(true, ordering: .relaxed)
        for _ in 0..<3 {
            for _ in 0..<100 {
                aggregator.count(
                    EgressRefusal(.unknownVendor),
                    vendor: nil,
                    method: .GET,
                    path: EgressDecisionRecord.withheldPath,
                    client: EgressClient(address: "192.0.2.7"),
                    direction: .egress
                )
            }
            try await aggregator.flush(on: Self.loop).get()
        }
        #expect(recorder.decisions.withLock { $0.isEmpty })
        recorder.unavailable.store(false, ordering: .relaxed)
        try await aggregator.flush(on: Self.loop).get()
        let records = recorder.decisions.withLock { $0 }
        #expect(records.count == 1 && records.first?.aggregated?.count == 300)
        #expect(records.first?.vendor == RefusalAggregator.noVendor && records.first?.status == 404)
    }
}
