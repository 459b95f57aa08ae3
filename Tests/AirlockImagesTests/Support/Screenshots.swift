import AirlockImages
import AirlockPolicy
import AirlockRedaction
import Foundation
import Testing

/// Test screenshots rendered by Pillow (`Tests/Images/render_screenshot.py`, fonts from Debian) and read back by the
/// `tesseract` command, independently of the code under test.
enum Screenshots {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The tests' Python (Pillow): `$AIRLOCK_PYTHON_CLIENTS`, else `.build/python-clients`.
    static var python: String {
        if let configured = ProcessInfo.processInfo.environment["AIRLOCK_PYTHON_CLIENTS"], !configured.isEmpty {
            return configured.hasSuffix("python3") ? configured : configured + "/bin/python3"
        }
        return packageRoot.appendingPathComponent(".build/python-clients/bin/python3").path
    }

    /// One line of text in a screenshot.
    struct Line {
        var text: String
        var font = "DejaVuSans.ttf"
        var size = 22
        var color = [20, 20, 20]
        var rotate = 0
    }

    /// Renders `lines` one under the other (or at `positions`) on `background`, as PNG or JPEG.
    static func render(
        _ lines: [Line],
        format: String = "PNG",
        size: (Int, Int) = (1100, 0),
        background: [Int] = [255, 255, 255],
        positions: [[Int]]? = nil,
        extra: [String: Any] = [:]
    ) throws -> [UInt8] {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-shot-\(UUID()).img")
        defer { try? FileManager.default.removeItem(at: out) }
        var y = 24
        var specLines: [[String: Any]] = []
        for (k, line) in lines.enumerated() {
            let at = positions?[k] ?? [28, y]
            specLines.append([
                "text": line.text, "font": line.font, "size": line.size, "at": at, "color": line.color,
                "rotate": line.rotate,
            ])
            y += line.size * 2 + 12
        }
        var spec: [String: Any] = [
            "out": out.path, "format": format, "size": [size.0, size.1 > 0 ? size.1 : y + 20],
            "background": background, "lines": specLines,
        ]
        spec.merge(extra) { $1 }
        let result = try run(
            python,
            [packageRoot.appendingPathComponent("Tests/Images/render_screenshot.py").path],
            input: try JSONSerialization.data(withJSONObject: spec)
        )
        try #require(result.status == 0, "render_screenshot.py: \(result.stderr)")
        return Array(try Data(contentsOf: out))
    }

    /// What the `tesseract` command reads in `image` (the vendor's OCR, not the code under test).
    static func ocr(_ image: [UInt8]) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-ocr-\(UUID()).img")
        try Data(image).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try run("/usr/bin/tesseract", [file.path, "stdout", "--psm", "11"], input: Data())
        try #require(result.status == 0, "tesseract: \(result.stderr)")
        return result.stdout
    }

    /// The bytes a Python snippet writes to stdout as base64 (`out(bytes)` and `chunk(type, data)` for PNG chunks
    /// are defined for it; Pillow is there).
    static func pythonBytes(_ snippet: String) throws -> [UInt8] {
        let prelude = """
            import base64, io, struct, sys, zlib
            def out(b):
                sys.stdout.write(base64.b64encode(b).decode())
            def chunk(kind, data):
                return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))

            """
        let result = try run(python, ["-c", prelude + snippet], input: Data())
        try #require(result.status == 0, "python: \(result.stderr)")
        return Array(try #require(Data(base64Encoded: result.stdout)))
    }

    static func run(
        _ executable: String,
        _ arguments: [String],
        input: Data
    ) throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        // The `tesseract` command, like the library, uses one thread per image (OpenMP would spin on every core).
        process.environment = ProcessInfo.processInfo.environment.merging(["OMP_THREAD_LIMIT": "1"]) { $1 }
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    /// The demo policy (`Policies/demo.yaml`: codenames, roadmap quarters near launch words, lab e-mails, corp URLs)
    /// with an `images:` section.
    static func demoPolicy(_ images: ImageRules? = ImageRules()) throws -> Policy {
        var policy = try PolicyLoader.load(path: packageRoot.appendingPathComponent("Policies/demo.yaml").path)
        policy.images = images
        return policy
    }

    static let inspector = TesseractImageInspector(concurrency: 2)

    static func redactor(_ policy: Policy, inspector: (any ImageInspector)? = Screenshots.inspector) throws -> Redactor
    {
        try Redactor(
            policy: policy,
            keys: PseudonymKeys(secret: Array(repeating: 7, count: 32)),
            imageInspector: inspector
        )
    }

    /// Case-insensitive search of OCR output, spaces ignored (OCR splits `https: //`).
    static func reads(_ text: String, _ word: String) -> Bool {
        let squeeze = { (s: String) in s.lowercased().filter { !$0.isWhitespace } }
        return squeeze(text).contains(squeeze(word))
    }
}
