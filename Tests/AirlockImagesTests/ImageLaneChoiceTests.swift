import AirlockPolicy
import AirlockRedaction
import Foundation
import Testing

/// Which bodies a caller must inspect where OCR may take its time (`Redactor.mayReadImages`): every body that may
/// hold an image, including one whose payload only escapes reveal; plain text tasks stay on the fast path.
@Suite struct ImageLaneChoiceTests {
    static func reads(_ body: String, _ type: String, images: ImageRules? = ImageRules()) throws -> Bool {
        let redactor = try Screenshots.redactor(try Screenshots.demoPolicy(images), inspector: nil)
        return Array(body.utf8).withUnsafeBytes {
            redactor.mayReadImages($0, contentType: type, contentEncoding: nil)
        }
    }

    /// 600 base64 characters of a PNG (its magic number first), with every `/` a JSON or form writer may escape.
    static let png: String = {
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        bytes += (0..<442).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        return Data(bytes).base64EncodedString()
    }()

    @Test func payloadsOnlyEscapesRevealCountAsImages() throws {
        #expect(Self.png.contains("/"))
        let php = Self.png.replacingOccurrences(of: "/", with: "\\/")
        #expect(try Self.reads(#"{"image": "\#(php)"}"#, "application/json"))
        #expect(try Self.reads(#"{"image": "\u0069VBORw0KGgo"}"#, "application/json"))
        let form = Self.png.replacingOccurrences(of: "/", with: "%2F").replacingOccurrences(of: "+", with: "%2B")
        #expect(try Self.reads("image=" + form, "application/x-www-form-urlencoded"))
        #expect(try Self.reads(#"{"image": "\#(Self.png)"}"#, "application/json"))
        #expect(try Self.reads("anything", "image/png") && Self.reads("--b--", "multipart/form-data; boundary=b"))
    }

    @Test func plainTextTasksAndPoliciesWithoutImagesStayOnTheTextPath() throws {
        #expect(try !Self.reads(#"{"text": "Caf\u00e9 \"menu\" review", "n": 3}"#, "application/json"))
        #expect(try !Self.reads("q=caf%C3%A9&page=2", "application/x-www-form-urlencoded"))
        #expect(try !Self.reads("plain notes", "text/plain"))
        #expect(try !Self.reads("anything", "image/png", images: nil))
    }
}
