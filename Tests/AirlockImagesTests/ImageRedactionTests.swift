import AirlockImages
import AirlockPolicy
import AirlockRedaction
import Foundation
import Testing

/// Screenshots with the demo policy's secrets drawn in them, beside ordinary words: the image that leaves is read
/// again by the `tesseract` command, and none of the secrets may be read there while the ordinary words still are.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ImageRedactionTests {
    /// Secrets of `Policies/demo.yaml` and the words a reader still finds in the vendor's copy.
    static let markers = ["Nightingale", "Tidewater", "jane.doe@lab.example.com", "Q3 2026", "wiki.corp.example.com"]
    static let controls = ["checkout", "button", "forecast", "afternoon"]

    static func screenshot(font: String, mono: String, size: Int) -> [Screenshots.Line] {
        [
            .init(text: "Roadmap review: Nightingale launch in Q3 2026", font: font, size: size),
            .init(text: "Please label every button on the checkout page", font: font, size: size),
            .init(text: "Contact jane.doe@lab.example.com for access", font: font, size: size),
            .init(text: "Dashboard https://wiki.corp.example.com/metrics", font: mono, size: size - 2),
            .init(text: "Weather forecast: sunny afternoon", font: font, size: size),
            .init(text: "Tidewater training run finished", font: font, size: size),
        ]
    }

    static let styles: [(font: String, mono: String, size: Int, background: [Int], color: [Int])] = [
        ("DejaVuSans.ttf", "DejaVuSansMono.ttf", 22, [255, 255, 255], [20, 20, 20]),
        ("LiberationSans-Regular.ttf", "LiberationMono-Regular.ttf", 18, [240, 242, 245], [40, 40, 60]),
        ("LiberationSerif-Regular.ttf", "DejaVuSansMono.ttf", 26, [30, 34, 40], [230, 230, 230]),
        ("DejaVuSans-Bold.ttf", "LiberationMono-Regular.ttf", 16, [250, 250, 220], [0, 0, 128]),
    ]

    @Test(arguments: 0..<styles.count)
    func secretsDrawnInAScreenshotAreUnreadableInTheVendorsCopyAndOrdinaryWordsStayReadable(style: Int) throws {
        let s = Self.styles[style]
        var lines = Self.screenshot(font: s.font, mono: s.mono, size: s.size)
        for k in lines.indices { lines[k].color = s.color }
        let image = try Screenshots.render(lines, background: s.background)
        // The renderer and the reader agree: the secrets are there to be read before Airlock.
        let before = try Screenshots.ocr(image)
        for marker in Self.markers { #expect(Screenshots.reads(before, marker), "\(marker) not in \(before)") }

        let redactor = try Screenshots.redactor(try Screenshots.demoPolicy())
        let outcome = redactor.redact(body: image, contentType: "image/png", contentEncoding: nil, vendor: "scale")
        guard case .forward(let sent, let findings) = outcome else {
            Issue.record("expected forward, got \(outcome)")
            return
        }
        #expect(Array(sent.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let after = try Screenshots.ocr(sent)
        for marker in Self.markers { #expect(!Screenshots.reads(after, marker), "\(marker) read in \(after)") }
        for control in Self.controls { #expect(Screenshots.reads(after, control), "\(control) not in \(after)") }
        let rules = Set(findings.map(\.rule))
        #expect(rules.isSuperset(of: ["codenames", "email", "roadmap-quarter"]), "\(findings)")
        // Findings name rules and count boxes; never the text.
        let recorded = String(decoding: try JSONEncoder().encode(findings), as: UTF8.self)
        for marker in Self.markers { #expect(!recorded.contains(marker)) }
    }
}
