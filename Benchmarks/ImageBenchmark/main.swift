import AirlockImages
import AirlockPolicy
import AirlockRedaction
import Foundation

// Image inspection figures, one core: OCR redaction of screenshots (images per second) and metadata-only removal
// (`images: {ocr: false}`, MB/s). Run by Benchmarks/image-bench.sh, which renders the inputs.
// Usage: airlock-image-bench POLICY SCREENSHOT.png PHOTO.jpg [SECONDS]

let arguments = CommandLine.arguments
guard arguments.count >= 4 else {
    FileHandle.standardError.write(Data("usage: airlock-image-bench POLICY SCREENSHOT.png PHOTO.jpg [SECONDS]\n".utf8))
    exit(2)
}
let seconds = arguments.count > 4 ? Double(arguments[4]) ?? 10 : 10
let screenshot = Array(try Data(contentsOf: URL(fileURLWithPath: arguments[2])))
let photo = Array(try Data(contentsOf: URL(fileURLWithPath: arguments[3])))
let keys = PseudonymKeys(secret: Array(repeating: 7, count: 32))
var policy = try PolicyLoader.load(path: arguments[1])

/// The CPU time this process has used (user and system), in seconds: on a shared machine, wall time counts the
/// other processes too.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    return user + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

/// Runs `body` for at least `seconds` of wall time (after one warm-up run): runs per CPU second (one thread: per
/// core) and per wall second.
func measure(_ body: () -> Void) -> (runs: Int, perCPUSecond: Double, perSecond: Double) {
    body()
    let clock = ContinuousClock()
    var runs = 0
    let start = clock.now
    let cpuStart = cpuSeconds()
    while (clock.now - start) / .seconds(1) < seconds {
        body()
        runs += 1
    }
    return (runs, Double(runs) / (cpuSeconds() - cpuStart), Double(runs) / ((clock.now - start) / .seconds(1)))
}

func run(_ redactor: Redactor, _ image: [UInt8], _ type: String) -> RedactionOutcome {
    redactor.redact(body: image, contentType: type, contentEncoding: nil, vendor: "bench")
}

// One OCR worker: the figure is per core. Read at twice the size (the default below 2000 pixels wide), then as is.
for upscale in [2000, 0] {
    policy.images = ImageRules(ocr: true)
    let inspector = TesseractImageInspector(concurrency: 1, upscaleBelowWidth: upscale)
    let ocr = try Redactor(policy: policy, keys: keys, imageInspector: inspector)
    let ocrOutcome = run(ocr, screenshot, "image/png")
    guard case .forward(_, let findings) = ocrOutcome else {
        print("screenshot not forwarded: \(ocrOutcome)")
        exit(1)
    }
    let boxes = findings.filter { $0.action == "redact" }.reduce(0) { $0 + $1.count }
    let rate = measure { _ = run(ocr, screenshot, "image/png") }
    print(
        String(
            format: "ocr redaction, read at %@: %.2f images per CPU second (one core), %.2f per wall second "
                + "(%d runs; %d-byte PNG, %d boxes painted per image)",
            upscale > 0 ? "2x" : "1x",
            rate.perCPUSecond,
            rate.perSecond,
            rate.runs,
            screenshot.count,
            boxes
        )
    )
}

policy.images = ImageRules(ocr: false)
let strip = try Redactor(policy: policy, keys: keys, imageInspector: TesseractImageInspector(concurrency: 1))
guard case .forward(let stripped, _) = run(strip, photo, "image/jpeg") else {
    print("photo not forwarded")
    exit(1)
}
let stripRate = measure { _ = run(strip, photo, "image/jpeg") }
print(
    String(
        format: "metadata-only removal: %.0f MB per CPU second (one core), %.0f MB/s wall (%d runs; %d-byte JPEG "
            + "with EXIF, %d bytes left)",
        stripRate.perCPUSecond * Double(photo.count) / 1e6,
        stripRate.perSecond * Double(photo.count) / 1e6,
        stripRate.runs,
        photo.count,
        stripped.count
    )
)
