import AirlockProxy
import AirlockStandIns
import ArgumentParser
import Foundation
import Logging

/// `airlock serve [--config FILE] [--demo-once]`
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Airlock reverse proxy (HTTPS in front of the configured vendors).",
        discussion: """
            With --config, serves that configuration until SIGTERM or SIGINT, then stops accepting, lets in-flight
            requests finish (limits.shutdown_grace_seconds) and exits. SIGHUP, or a change to the configuration file
            or any policy, include or term file behind it, reloads the policies: the new set is validated and compiled
            first, then swapped in at once; an invalid set is refused and logged, and the last good one keeps serving.
            Without --config, runs the built-in demo (from any directory): throwaway certificates in a temporary
            directory, a stand-in vendor on 127.0.0.1, Airlock with Policies/demo.yaml in front of it, one demo
            request through it; then keeps serving and prints a curl command to try (or exits with --demo-once).
            The demo's audit log is kept in the directory it prints.
            Exit codes: 0 clean shutdown; 1 runtime failure (cannot bind, bad certificate); 64 bad usage or an
            invalid configuration (reported as file:line:col).
            """
    )

    @Option(name: .long, help: "The configuration file (YAML). Without it, the built-in demo runs.")
    var config: String?

    @Flag(name: .long, help: "Built-in demo only: exit after the demo request instead of serving on.")
    var demoOnce = false

    @Option(
        name: .long,
        help: """
            How often to check the configuration and policy files for changes, in seconds; a settled change reloads \
            the policies like SIGHUP does. 0 turns watching off.
            """
    )
    var watchInterval: Double = 1

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(
        name: .long,
        help: """
            Log format: text, or json (one object per line: time, level, label, message, fields). At info, each \
            request is logged once (message 'access': request id, client, vendor, route pattern, decision, status, \
            bytes in and out, duration; never a path, header or body value).
            """
    )
    var logFormat: LogFormat = .text

    func validate() throws {
        if self.demoOnce && self.config != nil {
            throw ValidationError("--demo-once applies to the built-in demo only; drop it or drop --config.")
        }
        if !(self.watchInterval >= 0 && self.watchInterval <= 3600) {
            throw ValidationError("--watch-interval must be between 0 (off) and 3600 seconds.")
        }
        if Logger.Level(rawValue: self.logLevel) == nil {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical.")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: self.logLevel) ?? .info
        self.logFormat.bootstrap(level: level)
        let logger = Logger(label: "airlock")
        guard let path = self.config else {
            try await AirlockDemo.run(once: self.demoOnce, logger: logger)
            return
        }
        let configuration: ProxyConfiguration
        do {
            configuration = try ProxyConfiguration.load(path: path)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(64)
        }
        let interval: Duration? = self.watchInterval > 0 ? .milliseconds(Int64(self.watchInterval * 1000)) : nil
        do {
            let service = try await AirlockService(
                configuration: configuration,
                options: AirlockService.Options(
                    watchInterval: interval,
                    build: BuildInfo(version: AirlockVersion.version, commit: AirlockVersion.commit)
                ),
                logger: logger
            )
            try await service.start()
            await service.run()
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
