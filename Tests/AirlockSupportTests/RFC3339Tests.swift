import AirlockSupport
import Foundation
import Testing

@Suite struct RFC3339Tests {
    @Test func formatsUTCWithMillisecondsAndParsesOffsetsAndDates() {
        #expect(RFC3339.format(seconds: 0, milliseconds: 7) == "1970-01-01T00:00:00.007Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
        #expect(RFC3339.parse("2026-11-26T23:04:05.123Z") != nil)
        #expect(RFC3339.parse("2026-11-26T23:04:05Z") != nil)
        #expect(RFC3339.parse("2026-11-26T23:04:05+01:00") == RFC3339.parse("2026-11-26T22:04:05Z"))
        #expect(RFC3339.parse("2026-11-26") == RFC3339.parse("2026-11-26T00:00:00Z"))
        #expect(RFC3339.parse("yesterday") == nil)
        #expect(RFC3339.format(RFC3339.parse("2026-11-26T23:04:05.123+01:00")!) == "2026-11-26T22:04:05.123Z")
        let now = RFC3339.now()
        #expect(now.utf8.count == 24 && now.hasSuffix("Z") && RFC3339.parse(now) != nil)
    }
}
