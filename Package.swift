// swift-tools-version:6.0
import PackageDescription

// Airlock: a redacting TLS proxy between an AI lab and its data-labeling vendors.
// Modules stack one way: C bindings -> TLS / policy / redaction / audit -> proxy -> the `airlock` CLI.
let package = Package(
    name: "Airlock",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "airlock", targets: ["airlock"]),
        // For the libFuzzer package under Fuzz/ only (it depends on this package by path).
        .library(name: "AirlockPolicy", targets: ["AirlockPolicy"]),
        .library(name: "AirlockRedaction", targets: ["AirlockRedaction"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        // The review console (AirlockReview): a maintained NIO-based HTTP server and logic-less templates that
        // escape by default (README, "Review console").
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", exact: "2.1.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // MARK: C libraries from the system
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(
            name: "COpenSSLShims",
            dependencies: ["COpenSSL"]
        ),
        // Byte-scanning kernels for the redaction engine (SSE2 / NEON / scalar, chosen at compile time).
        .target(name: "CAirlockSIMD"),
        .systemLibrary(
            name: "CVectorscan",
            pkgConfig: "libhs",
            // Intel's Hyperscan 5.4.0 from Debian 12, the same API and pkg-config name as Vectorscan: Debian 12's
            // Vectorscan 5.4.9 silently misses matches depending on buffer alignment (a fail-open redaction), see
            // AirlockRedactionTests/MatchingLibraryTests.
            providers: [.apt(["libhyperscan-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Image decoding and encoding (PNG, JPEG, GIF, WebP, TIFF) and OCR, for `AirlockImages` only.
        .systemLibrary(
            name: "CLeptonica",
            pkgConfig: "lept",
            providers: [.apt(["libleptonica-dev"])]
        ),
        .systemLibrary(
            name: "CTesseract",
            pkgConfig: "tesseract",
            providers: [.apt(["libtesseract-dev", "tesseract-ocr-eng"])]
        ),

        // MARK: Airlock modules
        // Hashing, hex, base64, JSON string escaping and RFC 3339 times, shared by every module (no NIO).
        .target(name: "AirlockSupport", dependencies: ["COpenSSL"]),
        .target(
            name: "AirlockTLS",
            dependencies: [
                "AirlockSupport",
                "COpenSSL",
                "COpenSSLShims",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "AirlockPolicy",
            dependencies: [
                "AirlockSupport",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "AirlockRedaction",
            dependencies: [
                "AirlockSupport",
                "AirlockPolicy",
                "CAirlockSIMD",
                "CVectorscan",
                "CZlib",
                "COpenSSL",
                "COpenSSLShims",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // OCR redaction of images and metadata stripping, behind AirlockRedaction's `ImageInspector` (no NIO): the
        // engine stays free of the Tesseract link; the proxy and the CLI hand it an inspector.
        .target(
            name: "AirlockImages",
            dependencies: [
                "AirlockPolicy",
                "AirlockRedaction",
                "CLeptonica",
                "CTesseract",
            ]
        ),
        .target(
            name: "AirlockAudit",
            dependencies: [
                "AirlockSupport",
                "CZlib",
                "COpenSSL",
                "COpenSSLShims",
            ]
        ),
        .target(
            name: "AirlockProxy",
            dependencies: [
                "AirlockSupport",
                "AirlockTLS",
                "AirlockPolicy",
                "AirlockRedaction",
                "AirlockImages",
                "AirlockAudit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The read-only review console over one or more audit directories: an index of the decisions, HTML pages
        // from Mustache templates, CSV and JSON exports, bearer-token and session-cookie authentication.
        .target(
            name: "AirlockReview",
            dependencies: [
                "AirlockSupport",
                "AirlockAudit",
                "AirlockPolicy",
                "AirlockTLS",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Stand-in vendors (HTTPS servers answering as the vendors' APIs do) and the built-in demo: for the demo and
        // the tests, never between the lab and a real vendor.
        .target(
            name: "AirlockStandIns",
            dependencies: [
                "AirlockTLS",
                "AirlockRedaction",
                "AirlockAudit",
                "AirlockProxy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "airlock",
            dependencies: [
                "AirlockSupport",
                "AirlockTLS",
                "AirlockPolicy",
                "AirlockRedaction",
                "AirlockImages",
                "AirlockAudit",
                "AirlockProxy",
                "AirlockStandIns",
                "AirlockReview",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            plugins: ["BuildCommitPlugin"]
        ),
        // Writes the git commit `airlock --version` and `airlock_build_info` report (see the plugin's comment).
        .plugin(name: "BuildCommitPlugin", capability: .buildTool(), path: "Plugins/BuildCommitPlugin"),

        // MARK: Benchmarks (executables that print figures; never run as tests)
        .executableTarget(
            name: "airlock-redaction-bench",
            dependencies: ["AirlockPolicy", "AirlockRedaction", "CVectorscan"],
            path: "Benchmarks/RedactionBenchmark"
        ),
        .executableTarget(
            name: "airlock-image-bench",
            dependencies: ["AirlockPolicy", "AirlockRedaction", "AirlockImages"],
            path: "Benchmarks/ImageBenchmark"
        ),
        .executableTarget(
            name: "airlock-review-bench",
            dependencies: [
                "AirlockReview", "AirlockAudit", "AirlockSupport", .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/ReviewBenchmark"
        ),
        .executableTarget(
            name: "airlock-audit-bench",
            dependencies: ["AirlockAudit"],
            path: "Benchmarks/AuditBenchmark"
        ),

        // MARK: Tests
        .testTarget(
            name: "AirlockTLSTests",
            dependencies: [
                "AirlockTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "AirlockSupportTests", dependencies: ["AirlockSupport"]),
        .testTarget(
            name: "AirlockReviewTests",
            dependencies: [
                "AirlockReview",
                "AirlockAudit",
                "AirlockSupport",
                "AirlockTLS",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "AirlockPolicyTests", dependencies: ["AirlockPolicy"]),
        .testTarget(name: "AirlockRedactionTests", dependencies: ["AirlockRedaction", "AirlockPolicy"]),
        .testTarget(
            name: "AirlockImagesTests",
            dependencies: ["AirlockImages", "AirlockRedaction", "AirlockPolicy"]
        ),
        .testTarget(name: "AirlockAuditTests", dependencies: ["AirlockAudit", "AirlockSupport"]),
        .testTarget(
            name: "AirlockProxyTests",
            dependencies: [
                "AirlockProxy",
                "AirlockSupport",
                "AirlockStandIns",
                "AirlockTLS",
                "AirlockRedaction",
                "AirlockAudit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ]
)
