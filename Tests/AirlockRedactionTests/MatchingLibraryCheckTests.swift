import Testing

@testable import AirlockRedaction

/// The known-answer test that decides whether Airlock may run on this machine's pattern library. A library that
/// misses matches cannot be installed in a test, so the decision is tested over scanners that miss on purpose.
@Suite struct MatchingLibraryCheckTests {
    @Test func theInstalledLibraryPasses() {
        #expect(MatchingLibraryCheck.failure == nil)
    }

    @Test func aScannerThatFindsEverythingPasses() {
        #expect(MatchingLibraryCheck.verdict(version: "test") { _ in true } == nil)
    }

    /// Vectorscan 5.4.9's failure mode: matches missed at some buffer alignments only.
    @Test func aScannerThatMissesAtSomeAlignmentsIsRefusedWithWhatToInstall() throws {
        let failure = try #require(MatchingLibraryCheck.verdict(version: "5.4.9") { $0.count % 16 != 3 })
        #expect(failure.contains("libhs 5.4.9") && failure.contains("misses matches"), "\(failure)")
        #expect(failure.contains("failed at 8 of 130 offsets"), "\(failure)")
        #expect(failure.contains("libhyperscan-dev"), "\(failure)")
    }

    @Test func aScannerThatMissesOnceIsRefused() {
        #expect(MatchingLibraryCheck.verdict(version: "x") { $0.count != 100 } != nil)
    }

    @Test func aScannerThatFindsNothingIsRefused() throws {
        let failure = try #require(MatchingLibraryCheck.verdict(version: "x") { _ in false })
        #expect(failure.contains("failed at 130 of 130 offsets"))
    }
}
