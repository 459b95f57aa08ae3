import AirlockAudit
import AirlockPolicy
import AirlockRedaction
import Foundation
import Logging

/// Everything a configuration needs at the proxy's seams: each vendor's compiled policy, and the audit log.
///
/// Preparing is slow (YAML, Vectorscan compilation, opening and recovering the log): do it before starting the
/// listeners, off any event loop. Close it after the proxy has stopped, so the log ends with a signed checkpoint.
public struct EgressSetup: Sendable {
    public let inspector: ReloadableInspector
    public let recorder: any EgressRecorder
    public let auditLog: AuditLog?
    /// Watches the audit directory's disk while the log is open (nil when the log is off).
    public let auditSpace: AuditSpaceGuard?
    /// Vendor name -> `name@sha256:…` of its policy (`none` for `policy: none`).
    public let policyVersions: [String: String]
    /// The configuration file and every policy file behind it, as loaded.
    public let sourceFiles: [String]

    /// Loads and compiles every vendor's policy and opens the audit log.
    ///
    /// - Parameter keys: the pseudonym keys; when nil they are read from the configuration's `pseudonym_key`.
    /// - Throws: ``EgressSetupError`` naming the file and the problem; nothing has been started then.
    public static func prepare(
        _ configuration: ProxyConfiguration,
        keys: PseudonymKeys? = nil,
        logger: Logger
    ) async throws(EgressSetupError) -> EgressSetup {
        let compiled = try Self.compile(configuration, keys: keys)
        for problem in compiled.candidateProblems {
            logger.warning(
                "candidate policy ignored (enforcement unchanged)",
                metadata: ["airlock.candidate": "\(problem)"]
            )
        }
        var auditLog: AuditLog?
        var auditSpace: AuditSpaceGuard?
        var recorder: any EgressRecorder = NoOpRecorder()
        if let audit = configuration.audit, audit.enabled {
            do {
                var settings = audit.log
                settings.replica = configuration.replicaID
                let log = try await AuditLog.open(settings)
                auditLog = log
                let space = AuditSpaceGuard(
                    directory: audit.log.directory,
                    thresholds: AuditSpaceGuard.Thresholds(
                        minFreeBytes: audit.minFreeBytes,
                        maxDirectoryBytes: audit.maxDirectoryBytes
                    )
                )
                space.start()
                if let problem = space.problem {
                    logger.error(
                        "audit log unavailable: requests are refused until there is room",
                        metadata: ["airlock.audit.problem": "\(problem)"]
                    )
                }
                auditSpace = space
                recorder = AuditRecorder(log: log, space: space)
            } catch {
                throw EgressSetupError("cannot open the audit log in \(audit.log.directory.path): \(error)")
            }
        } else {
            logger.warning("the egress audit log is off (audit.enabled: false): nothing records what leaves")
        }
        return EgressSetup(
            inspector: ReloadableInspector(compiled.inspector),
            recorder: recorder,
            auditLog: auditLog,
            auditSpace: auditSpace,
            policyVersions: compiled.versions,
            sourceFiles: compiled.sourceFiles
        )
    }

    /// A configuration's policies, compiled, with what they were read from.
    public struct CompiledPolicies: Sendable {
        public var inspector: PolicyInspector
        /// Per vendor, `name@sha256:…` of its policy (`none` for `policy: none`).
        public var versions: [String: String]
        /// The configuration file and every policy, include and term file behind it: what a reload depends on.
        public var sourceFiles: [String]
        /// Candidate policies (`policy_candidate`) that could not be loaded or compiled: ignored, enforcement
        /// unchanged. One message each, for the log.
        public var candidateProblems: [String] = []
    }

    /// Loads and compiles every vendor's policy into a new inspector (for start-up and for reloads).
    public static func compile(
        _ configuration: ProxyConfiguration,
        keys: PseudonymKeys? = nil
    ) throws(EgressSetupError) -> CompiledPolicies {
        var policies: [String: VendorPolicy] = [:]
        var versions: [String: String] = [:]
        // Each policy file compiles once, however many vendors name it.
        var compiled: [String: VendorPolicy] = [:]
        var candidateProblems: [String] = []
        var candidateFiles: [String] = []
        // The key is read only when some vendor has a policy.
        var resolvedKeys = keys
        func vendorKeys() throws(EgressSetupError) -> PseudonymKeys {
            if let resolvedKeys { return resolvedKeys }
            let loaded = try Self.loadKeys(configuration.pseudonymKeyPath)
            resolvedKeys = loaded
            return loaded
        }
        for vendor in configuration.vendors {
            guard case .file(let path)? = vendor.policy else {
                versions[vendor.name] = "none"
                continue
            }
            let policy: VendorPolicy
            if let cached = compiled[path] {
                policy = cached
            } else {
                guard FileManager.default.fileExists(atPath: path) else {
                    throw EgressSetupError("vendor \"\(vendor.name)\": policy file not found: \(path)")
                }
                policy = try Self.loadPolicy(path: path, keys: vendorKeys(), limits: configuration.limits)
                compiled[path] = policy
            }
            policies[vendor.name] = policy
            versions[vendor.name] = policy.identity
            if let candidatePath = vendor.policyCandidate {
                // A candidate never decides: one that cannot be loaded is reported and left out, nothing else.
                do {
                    let candidate = try Self.loadPolicy(
                        path: candidatePath,
                        keys: vendorKeys(),
                        limits: configuration.limits
                    )
                    policies[vendor.name]?.candidate = CandidatePolicy(
                        redactor: candidate.redactor,
                        identity: candidate.identity,
                        sourceFiles: candidate.sourceFiles
                    )
                    candidateFiles += candidate.sourceFiles
                } catch {
                    candidateProblems.append("vendor \(vendor.name): \(error.description)")
                }
            }
        }

        var sourceFiles = configuration.sourcePath.map { [$0] } ?? []
        for policy in compiled.values {
            for file in policy.sourceFiles where !sourceFiles.contains(file) { sourceFiles.append(file) }
        }
        for file in candidateFiles where !sourceFiles.contains(file) { sourceFiles.append(file) }
        return CompiledPolicies(
            inspector: PolicyInspector(policies: policies),
            versions: versions,
            sourceFiles: sourceFiles,
            candidateProblems: candidateProblems
        )
    }

    /// Writes the audit log's final signed checkpoint and releases its directory.
    public func close() async {
        self.auditSpace?.stop()
        try? await self.auditLog?.close()
    }

    private static func loadKeys(_ path: String?) throws(EgressSetupError) -> PseudonymKeys {
        guard let path else {
            throw EgressSetupError("pseudonym_key is not set; run `airlock certs init` or point pseudonym_key at a key")
        }
        do throws(RedactionError) {
            return try PseudonymKeys(contentsOf: URL(fileURLWithPath: path))
        } catch {
            // The key's own message names the file and says how to create one.
            throw EgressSetupError(error.message)
        }
    }

    private static func loadPolicy(
        path: String,
        keys: PseudonymKeys,
        limits: ProxyConfiguration.Limits
    ) throws(EgressSetupError) -> VendorPolicy {
        do {
            return try VendorPolicy.load(path: path, keys: keys, limits: limits)
        } catch let error as PolicyLoadError {
            // Quoted policy values are withheld: this message goes to the service log (a reload that failed) and
            // to a service manager's journal. `airlock check` prints them to the policy's author.
            throw EgressSetupError(
                "the policy \(path) is invalid (quoted values withheld; `airlock check \(path)` shows them):\n"
                    + error.descriptionWithholdingValues
            )
        } catch {
            throw EgressSetupError(
                "the policy \(path) cannot be compiled (\(type(of: error)); `airlock check \(path)` says why)"
            )
        }
    }
}

/// Why the proxy's policies or audit log could not be prepared. One readable message, never a matched value.
public struct EgressSetupError: Error, Sendable, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
