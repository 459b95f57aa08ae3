import AirlockRedaction
import Dispatch
import Foundation
import Logging

/// Reloads on SIGHUP or a changed file: re-reads the configuration file and recompiles every policy off the
/// cooperative pool, then swaps them in at once. An invalid new set is refused and logged, and the previous policies
/// keep serving. Listeners, vendors, limits and the audit log are not reloaded: a change there is logged as needing a
/// restart.
final class PolicyReloader: Sendable {
    let configuration: ProxyConfiguration
    let egress: EgressSetup
    let server: AirlockProxyServer
    let keys: PseudonymKeys?
    let logger: Logger

    init(
        configuration: ProxyConfiguration,
        egress: EgressSetup,
        server: AirlockProxyServer,
        keys: PseudonymKeys?,
        logger: Logger
    ) {
        self.configuration = configuration
        self.egress = egress
        self.server = server
        self.keys = keys
        self.logger = logger
    }

    /// - Returns: the files the new policies were read from when they were swapped in; nil when refused.
    func reload(because reason: String) async -> [String]? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.reloadNow(because: reason)) }
        }
    }

    private func reloadNow(because reason: String) -> [String]? {
        let files = self.attemptReload(because: reason)
        self.server.metrics.recordReload(applied: files != nil)
        return files
    }

    private func attemptReload(because reason: String) -> [String]? {
        guard let path = self.configuration.sourcePath, FileManager.default.fileExists(atPath: path) else {
            self.logger.warning(
                "reload ignored: the configuration file is gone or was not read from a file",
                metadata: ["airlock.reload.trigger": "\(reason)"]
            )
            return nil
        }
        do {
            let fresh = try ProxyConfiguration.load(path: path)
            // Vendors are not reloaded: one served now but gone from the file (removed, renamed) would keep taking
            // requests with no policy at all, its paths and queries leaving unredacted. Refuse the whole set.
            let missing = self.configuration.vendors.map(\.name).filter { name in
                !fresh.vendors.contains { $0.name == name }
            }
            guard missing.isEmpty else {
                self.logger.error(
                    "reload refused: the new configuration drops vendors still being served; restart to remove them",
                    metadata: ["airlock.reload.trigger": "\(reason)", "airlock.vendors": "\(missing)"]
                )
                return nil
            }
            // The key file is one of the settings that need a restart (see `restartOnly`): policies are compiled
            // with the running one, so pseudonyms already handed out still restore.
            var policiesOnly = fresh
            policiesOnly.pseudonymKeyPath = self.configuration.pseudonymKeyPath
            // Limits need a restart too: the decompressed-size cap stays the running `max_body_bytes`.
            policiesOnly.limits = self.configuration.limits
            let compiled = try EgressSetup.compile(policiesOnly, keys: self.keys)
            self.egress.inspector.replace(compiled.inspector)
            for problem in compiled.candidateProblems {
                self.logger.warning(
                    "candidate policy ignored (enforcement unchanged)",
                    metadata: ["airlock.candidate": "\(problem)"]
                )
            }
            self.server.updatePolicyVersions(compiled.versions)
            self.logger.notice(
                "policies reloaded",
                metadata: [
                    "airlock.reload.trigger": "\(reason)",
                    "airlock.policies":
                        "\(compiled.versions.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })",
                ]
            )
            if Self.restartOnly(fresh) != Self.restartOnly(self.configuration) {
                self.logger.warning(
                    """
                    the configuration changed beyond policies (listeners, vendors, limits, audit, callbacks, \
                    assets, forward or clients): restart to apply
                    """
                )
            }
            return compiled.sourceFiles
        } catch {
            self.logger.error(
                "reload refused; the previous policies keep serving",
                metadata: ["airlock.reload.trigger": "\(reason)", "airlock.error": "\(error)"]
            )
            return nil
        }
    }

    /// The parts of a configuration a reload does not apply, in a comparable form.
    static func restartOnly(_ configuration: ProxyConfiguration) -> String {
        var parts: [String] = [
            "\(configuration.listen)", "\(String(describing: configuration.admin))", "\(configuration.limits)",
            "\(String(describing: configuration.audit))", "\(String(describing: configuration.pseudonymKeyPath))",
            "\(String(describing: configuration.callbacks))", "\(String(describing: configuration.assets))",
            "\(String(describing: configuration.forward))",
            // Compared only, never printed (it holds the clients' token hashes).
            "\(String(describing: configuration.clients))",
        ]
        for vendor in configuration.vendors {
            var copy = vendor
            copy.policy = nil
            copy.routePolicies = [:]
            copy.forwardedHeaders = []
            parts.append("\(copy) \(vendor.forwardedHeaders.sorted())")
        }
        return parts.joined(separator: "\n")
    }
}
