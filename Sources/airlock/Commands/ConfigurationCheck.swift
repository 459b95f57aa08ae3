import AirlockAudit
import AirlockPolicy
import AirlockProxy
import AirlockRedaction
import AirlockTLS
import Foundation

/// `airlock check --config FILE`: the configuration as `airlock serve` reads it, every policy it names (compiled), and
/// every file it needs (listener certificates and keys, client and vendor CAs, the pseudonym key, the audit signing
/// key and directory; callback secret files are read by the configuration itself). Nothing is bound or opened for
/// writing. Each problem is one `file:line:col: message` line, pointing into the configuration for its files and
/// into the policy for a policy's own problems.
struct ConfigurationCheck {
    private let reading: ConfigurationReading
    private(set) var problems: [String] = []
    private(set) var passed: [String] = []

    /// Checks the configuration at `path`; `problems` empty means `airlock serve --config path` has what it needs.
    init(path: String) {
        self.reading = ConfigurationReading.read(path: path)
        switch self.reading.result {
        case .failure(let error):
            self.problems.append(error.description)
        case .success(let configuration):
            self.check(configuration)
        }
    }

    private mutating func check(_ configuration: ProxyConfiguration) {
        self.checkListener(configuration.listen, "listen")
        if let listen = configuration.callbacks?.listen { self.checkListener(listen, "callbacks.listen") }
        for vendor in configuration.vendors {
            self.checkTrustRoots(vendor.trustRoots, pins: vendor.pinnedSPKISHA256, "vendor \"\(vendor.name)\"")
        }
        for route in configuration.callbacks?.routes ?? [] {
            self.checkTrustRoots(route.trustRoots, pins: [], "callback route \"\(route.path)\"")
        }
        let policies = self.checkPolicies(configuration.vendors)
        if policies > 0 { self.checkPseudonymKey(configuration.pseudonymKeyPath) }
        if let audit = configuration.audit, audit.enabled { self.checkAudit(audit.log) }
        if self.problems.isEmpty {
            let audit = configuration.audit.map { $0.enabled ? "audit log in \($0.log.directory.path)" : "audit off" }
            self.passed.insert(
                "OK \(self.reading.path) (\(configuration.vendors.count) vendors, \(policies) policies, "
                    + "\(audit ?? "audit off"))",
                at: 0
            )
        }
    }

    private mutating func checkListener(_ listen: ProxyConfiguration.Listen, _ what: String) {
        let files = [
            (listen.tls.certificatePath, "\(what).tls.certificate"), (listen.tls.keyPath, "\(what).tls.key"),
        ]
        var usable = true
        for (path, name) in files + (listen.tls.clientCAPath.map { [($0, "\(what).tls.client_ca")] } ?? []) {
            usable = self.requireFile(path, name) && usable
        }
        guard usable else { return }
        do throws(TLSError) {
            _ = try TLSServerContext(
                configuration: TLSServerConfiguration(
                    certificateChainPath: listen.tls.certificatePath,
                    privateKeyPath: listen.tls.keyPath,
                    clientCAPath: listen.tls.clientCAPath
                )
            )
        } catch {
            self.report(listen.tls.certificatePath, "\(what).tls: \(error.message)")
        }
    }

    private mutating func checkTrustRoots(_ roots: TLSTrustRoots, pins: [String], _ owner: String) {
        if case .file(let path) = roots, !self.requireFile(path, "\(owner) ca") { return }
        do throws(TLSError) {
            _ = try TLSClientContext(configuration: TLSClientConfiguration(trustRoots: roots, pinnedSPKISHA256: pins))
        } catch {
            switch roots {
            case .file(let path): self.report(path, "\(owner) ca: \(error.message)")
            case .system: self.problems.append("\(self.reading.path): \(owner): \(error.message)")
            }
        }
    }

    /// Loads and compiles each policy file once; the number of policy files.
    private mutating func checkPolicies(_ vendors: [ProxyConfiguration.Vendor]) -> Int {
        var seen: [String] = []
        for vendor in vendors {
            guard case .file(let path)? = vendor.policy, !seen.contains(path) else { continue }
            seen.append(path)
            guard self.requireFile(path, "vendor \"\(vendor.name)\" policy") else { continue }
            for report in PolicyCheck.run(paths: [path]) {
                switch report.result {
                case .failure:
                    self.report(path, "vendor \"\(vendor.name)\" policy is invalid:")
                    self.problems += report.lines
                case .success(let policy):
                    if let problem = Check.compileProblem(policy, path: path) {
                        self.report(path, "vendor \"\(vendor.name)\" policy does not compile:")
                        self.problems.append(problem)
                    } else {
                        self.passed += report.lines
                    }
                }
            }
        }
        return seen.count
    }

    private mutating func checkPseudonymKey(_ path: String?) {
        guard let path else {
            self.problems.append("\(self.reading.path): pseudonym_key is not set (a policy needs it)")
            return
        }
        guard self.requireFile(path, "pseudonym_key") else { return }
        do throws(RedactionError) {
            _ = try PseudonymKeys(contentsOf: URL(fileURLWithPath: path))
        } catch {
            self.report(path, "pseudonym_key: \(error.message)")
        }
    }

    private mutating func checkAudit(_ log: AuditConfiguration) {
        if let key = log.signingKeyPath, self.requireFile(key.path, "audit.signing_key") {
            do throws(AuditError) {
                try SigningKeyCheck.validate(path: key)
            } catch {
                self.report(key.path, "audit.signing_key: \(error.message)")
            }
        }
        // The log creates its directory: an existing one must be a writable directory, a new one needs a writable
        // parent somewhere up the tree.
        var directory = log.directory.path
        var isDirectory: ObjCBool = false
        while !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && directory != "/" {
            directory = URL(fileURLWithPath: directory).deletingLastPathComponent().path
        }
        if !isDirectory.boolValue {
            self.report(log.directory.path, "audit.directory: \(directory) is not a directory")
        } else if !FileManager.default.isWritableFile(atPath: directory) {
            self.report(log.directory.path, "audit.directory: \(directory) is not writable by this user")
        }
    }

    /// Whether `path` is a readable file; otherwise reports "not found", "is a directory" or "cannot be read".
    private mutating func requireFile(_ path: String, _ what: String) -> Bool {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            self.report(path, "\(what) not found: \(path)")
        } else if isDirectory.boolValue {
            self.report(path, "\(what) is a directory: \(path)")
        } else if !FileManager.default.isReadableFile(atPath: path) {
            self.report(path, "\(what) cannot be read by this user: \(path)")
        } else {
            return true
        }
        return false
    }

    private mutating func report(_ file: String, _ message: String) {
        self.problems.append("\(self.reading.location(of: file)): \(message)")
    }
}
