import AirlockAudit
import AirlockProxy
import AirlockRedaction
import Foundation
import Testing

/// Screenshots through the real proxy: a pipeline renders them with Pillow (the demo policy's codename, roadmap
/// quarter, lab e-mail and corp URL beside ordinary words) and curl sends them inline three ways (a data URL in JSON,
/// a multipart image part, a raw image/png body). The vendor's copies are read by the `tesseract` command: none of
/// the secrets, every ordinary word. A JPEG's EXIF GPS position never arrives; a decompression bomb and bytes that do
/// not decode are refused 422 naming the cause, with nothing at the vendor.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ImageProxyTests {
    static let root = PythonClients.packageRoot
    static let markers = ["Nightingale", "jane.doe@lab.example.com", "Q3 2026", "wiki.corp.example.com"]
    static let controls = ["checkout", "forecast"]

    /// The demo policy (and the file it includes) with `images:` (`{ocr: true, on_match: redact}` by default),
    /// compiled for vendor "scale".
    static func inspector(images: String = "{ocr: true, on_match: redact}") throws -> PolicyInspector {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-image-policy-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let policies = Self.root.appendingPathComponent("Policies")
        let demo = try String(contentsOf: policies.appendingPathComponent("demo.yaml"), encoding: .utf8)
        try (demo + "\nimages: \(images)\n").write(
            to: directory.appendingPathComponent("policy.yaml"),
            atomically: true,
            encoding: .utf8
        )
        try FileManager.default.copyItem(
            at: policies.appendingPathComponent("secrets.yaml"),
            to: directory.appendingPathComponent("secrets.yaml")
        )
        let keys = PseudonymKeys(secret: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let path = directory.appendingPathComponent("policy.yaml").path
        return PolicyInspector(policies: ["scale": try VendorPolicy.load(path: path, keys: keys)])
    }

    /// Runs a Python snippet in the tests' environment (Pillow), in `directory`.
    static func python(_ script: String, in directory: URL) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: PythonClients.interpreter)
        process.arguments = ["-c", script]
        process.currentDirectoryURL = directory
        let result = try await Curl.execute(process, timeout: 30)
        try #require(result.exitCode == 0, "python: \(result.stderr)")
    }

    /// What the `tesseract` command reads in `image`.
    static func ocr(_ image: [UInt8]) async throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-vendor-\(UUID()).img")
        try Data(image).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tesseract")
        process.arguments = [file.path, "stdout", "--psm", "11"]
        process.environment = ["OMP_THREAD_LIMIT": "1"]
        let result = try await Curl.execute(process, timeout: 30)
        try #require(result.exitCode == 0, "tesseract: \(result.stderr)")
        return result.stdout
    }

    static func reads(_ text: String, _ word: String) -> Bool {
        let squeeze = { (s: String) in s.lowercased().filter { !$0.isWhitespace } }
        return squeeze(text).contains(squeeze(word))
    }

    /// The first image file in `body` (a PNG up to IEND, or a JPEG up to EOI).
    static func image(in body: [UInt8]) -> [UInt8]? {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47]
        let iend = Array("IEND".utf8)
        guard let start = (0..<max(0, body.count - 4)).first(where: { body[$0..<($0 + 4)].elementsEqual(png) }),
            let end = (start..<max(start, body.count - 4)).first(where: { body[$0..<($0 + 4)].elementsEqual(iend) })
        else { return nil }
        return Array(body[start..<min(body.count, end + 8)])
    }

    @Test func screenshotsSentInlineThreeWaysReachTheVendorWithTheSecretsPaintedOver() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-images-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let renderer = Self.root.appendingPathComponent("Tests/Images/render_screenshot.py").path
        try await Self.python(
            """
            import base64, json, subprocess, sys
            lines = ["Roadmap: Nightingale launch in Q3 2026", "Label the checkout buttons please",
                     "Ask jane.doe@lab.example.com", "See https://wiki.corp.example.com/board", "Weather forecast: sunny"]
            spec = {"out": "shot.png", "size": [900, 330], "background": [250, 250, 250],
                    "lines": [{"text": t, "font": f, "size": 22, "at": [24, 20 + 60 * k]}
                              for k, (t, f) in enumerate(zip(lines, ["DejaVuSans.ttf", "LiberationSans-Regular.ttf",
                              "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "LiberationSerif-Regular.ttf"]))]}
            subprocess.run([sys.executable, "\(renderer)"], input=json.dumps(spec).encode(), check=True)
            jpeg = dict(spec, out="gps.jpg", format="JPEG", exif_gps=True)
            subprocess.run([sys.executable, "\(renderer)"], input=json.dumps(jpeg).encode(), check=True)
            png = open("shot.png", "rb").read()
            json.dump({"project": "ui-review", "attachment": "data:image/png;base64," + base64.b64encode(png).decode()},
                      open("task.json", "w"))
            """,
            in: directory
        )
        let harness = try await ProxyHarness(options())
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        let json = try await harness.curl([
            "-H", "Content-Type: application/json", "--data-binary", "@" + path("task.json"),
            harness.url("/scale/v1/task/json"),
        ])
        let multipart = try await harness.curl([
            "-F", "project=ui-review", "-F", "file=@\(path("shot.png"));type=image/png",
            harness.url("/scale/v1/task/form"),
        ])
        let raw = try await harness.curl([
            "-H", "Content-Type: image/png", "--data-binary", "@" + path("shot.png"), harness.url("/scale/v1/task/raw"),
        ])
        let gps = try await harness.curl([
            "-H", "Content-Type: image/jpeg", "--data-binary", "@" + path("gps.jpg"), harness.url("/scale/v1/task/gps"),
        ])
        let received = harness.vendor.requests
        await harness.close()

        for result in [json, multipart, raw, gps] { #expect(result.status == 200, "\(result.body)") }
        try #require(received.count == 4)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(received[0].body)) as? [String: String])
        let url = try #require(object["attachment"])
        #expect(url.hasPrefix("data:image/png;base64,"))
        let copies = [
            Array(try #require(Data(base64Encoded: String(url.dropFirst(22))))),
            try #require(Self.image(in: received[1].body)),
            received[2].body,
        ]
        #expect(received[1].bodyText.contains("ui-review"))
        for copy in copies {
            let read = try await Self.ocr(copy)
            for marker in Self.markers { #expect(!Self.reads(read, marker), "\(marker) read in \(read)") }
            for control in Self.controls { #expect(Self.reads(read, control), "\(control) not in \(read)") }
        }
        let jpeg = received[3].body
        #expect(Array(jpeg.prefix(2)) == [0xFF, 0xD8])
        let leaked = ["Exif", "LabCam"].filter { String(decoding: jpeg, as: UTF8.self).contains($0) }
        #expect(leaked.isEmpty, "\(leaked) reached the vendor")
    }

    @Test func aDecompressionBombAndBytesThatDoNotDecodeAreRefusedWithNothingAtTheVendor() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-images-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await Self.python(
            """
            import base64, json, struct, zlib
            def chunk(kind, data):
                return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
            def png(w, h, idat):
                return (b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0))
                        + chunk(b'IDAT', idat) + chunk(b'IEND', b''))
            open("bomb.png", "wb").write(png(100000, 100000, zlib.compress(b'\\x00' * 64)))
            open("broken.png", "wb").write(png(64, 64, b'not zlib'))
            json.dump({"attachment": "data:image/png;base64," + base64.b64encode(png(100000, 100000, b'')).decode()},
                      open("bomb.json", "w"))
            """,
            in: directory
        )
        let harness = try await ProxyHarness(options())
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        let bomb = try await harness.curl([
            "-H", "Content-Type: image/png", "--data-binary", "@" + path("bomb.png"), harness.url("/scale/v1/task/a"),
        ])
        let broken = try await harness.curl([
            "-H", "Content-Type: image/png", "--data-binary", "@" + path("broken.png"), harness.url("/scale/v1/task/b"),
        ])
        let embedded = try await harness.curl([
            "-H", "Content-Type: application/json", "--data-binary", "@" + path("bomb.json"),
            harness.url("/scale/v1/task/c"),
        ])
        let connections = harness.vendor.connectionCount
        await harness.close()
        for (result, cause) in [
            (bomb, "images.max_pixels"), (broken, "cannot be decoded"), (embedded, "images.max_pixels"),
        ] {
            #expect(result.status == 422, "\(result.body)")
            #expect(errorCode(result.body) == "uninspectable_body")
            #expect(result.body.contains(cause), "\(result.body)")
        }
        #expect(connections == 0)
    }

    /// A language whose data is not installed stops the policy from loading (so the proxy from starting, a reload
    /// from applying), naming it; no request is needed to find out.
    @Test func aPolicyNamingALanguageThatIsNotInstalledDoesNotLoad() throws {
        #expect {
            _ = try Self.inspector(images: "{languages: [eng, zzz]}")
        } throws: { error in
            "\(error)".contains("images.languages (eng+zzz) is not installed")
        }
        _ = try Self.inspector(images: "{languages: [eng]}")
    }

    func options() throws -> ProxyHarness.Options {
        var options = ProxyHarness.Options()
        options.inspector = try Self.inspector()
        return options
    }
}
