import Foundation
import Testing

@testable import AirlockPolicy

/// The `images:` section: loaded with its defaults, taken from the including file over its includes, and every
/// misuse pointed at by line:column.
@Suite("Image rules")
struct ImageRulesTests {
    @Test("Without images: there is no section; with it, the given settings over the defaults")
    func loads() throws {
        let without = try PolicyFixture(["policy.yaml": policyYAML("content: {unknown: block}\n")])
        #expect(try #require(without.policy()).images == nil)
        let fixture = try PolicyFixture([
            "policy.yaml": policyYAML(
                """
                images:
                  ocr: true
                  on_match: block
                  min_confidence: 40
                  max_pixels: 4000000
                  timeout_seconds: 2.5
                  languages: [eng, deu]

                """
            ),
            "defaults.yaml": policyYAML("images: {}\n"),
        ])
        let policy = try #require(fixture.policy())
        #expect(
            policy.images
                == ImageRules(
                    ocr: true,
                    onMatch: .block,
                    minConfidence: 40,
                    maxPixels: 4_000_000,
                    timeoutSeconds: 2.5,
                    languages: ["eng", "deu"]
                )
        )
        #expect(try #require(fixture.policy("defaults.yaml")).images == ImageRules())
    }

    @Test("The including file's section wins over an include's; an include's applies when the file has none")
    func includes() throws {
        let fixture = try PolicyFixture([
            "base.yaml": "images: {on_match: block}\n",
            "root.yaml": policyYAML("include: [base.yaml]\nimages: {ocr: false}\n"),
            "plain.yaml": policyYAML("include: [base.yaml]\n"),
        ])
        #expect(try #require(fixture.policy("root.yaml")).images == ImageRules(ocr: false))
        #expect(try #require(fixture.policy("plain.yaml")).images == ImageRules(onMatch: .block))
    }

    @Test("Each bad setting at its line:column")
    func diagnostics() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": """
            version: 1
            name: test
            images:
              ocr: yes please
              on_match: paint
              min_confidence: 101
              max_pixels: 0
              timeout_seconds: forever
              languages: [eng, ../../etc/passwd]
              colour: true
            """
        ])
        #expect(
            fixture.diagnostics() == [
                "policy.yaml:4:8: 'ocr' must be true or false, found a string",
                "policy.yaml:5:13: unknown value 'paint' for 'images.on_match'; expected redact or block",
                "policy.yaml:6:19: 'images.min_confidence' must be a whole number from 0 to 100",
                "policy.yaml:7:15: 'images.max_pixels' must be a whole number above 0",
                "policy.yaml:8:20: 'images.timeout_seconds' must be a number above 0 and at most 600",
                "policy.yaml:9:20: 'images.languages' entries are Tesseract language codes like 'eng'",
                "policy.yaml:10:3: unknown key 'colour' in 'images'",
            ]
        )
        let notMapping = try PolicyFixture(["policy.yaml": policyYAML("images: true\n")])
        #expect(
            notMapping.diagnostics() == [
                "policy.yaml:3:9: 'images' must be a mapping (like 'images: {ocr: true, on_match: redact}'), found a boolean"
            ]
        )
    }
}
