// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for Airlock's parsers, kept out of the main package so `swift build` and `swift test` never build
// them. Built and run by scripts/fuzz.sh with `--sanitize fuzzer --sanitize address` in their own scratch path. In a
// directory of its own: SwiftPM names a path package after its directory, and `Fuzz` would clash with a checkout of
// the main package that is itself named `fuzz`.
// Each target's entry is `LLVMFuzzerTestOneInput` (`-parse-as-library`: libFuzzer provides `main`).
let fuzzTarget: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "AirlockFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Airlock", path: "../..")
    ],
    targets: [
        .target(
            name: "FuzzSupport",
            dependencies: [
                .product(name: "AirlockRedaction", package: "Airlock"),
                .product(name: "AirlockPolicy", package: "Airlock"),
            ]
        ),
        .executableTarget(name: "fuzz-json", dependencies: ["FuzzSupport"], swiftSettings: fuzzTarget),
        .executableTarget(name: "fuzz-multipart", dependencies: ["FuzzSupport"], swiftSettings: fuzzTarget),
        .executableTarget(name: "fuzz-form", dependencies: ["FuzzSupport"], swiftSettings: fuzzTarget),
        .executableTarget(name: "fuzz-compression", dependencies: ["FuzzSupport"], swiftSettings: fuzzTarget),
        .executableTarget(name: "fuzz-policy", dependencies: ["FuzzSupport"], swiftSettings: fuzzTarget),
    ]
)
