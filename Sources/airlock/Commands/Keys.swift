import AirlockRedaction
import AirlockSupport
import ArgumentParser
import Foundation

/// `airlock keys list|rotate|retire --key-file FILE`: the pseudonym keyring, changed only by these explicit steps.
struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, rotate or retire the pseudonym keys of a keyring file.",
        discussion: """
            The key file lists keys as "<id> <base64>", the current one first. New pseudonyms use the current key;
            responses are restored with every key listed, so pseudonyms minted before a rotation still come back
            until their key is retired. A running server reads the file at start.
            Exit codes: 0 done; 1 the file cannot be read, written or changed as asked; 64 bad usage.
            """,
        subcommands: [List.self, Rotate.self, Retire.self]
    )

    struct Options: ParsableArguments {
        @Option(name: .long, help: "The keyring (pseudonym_key of the configuration).")
        var keyFile: String = "Certs/pseudonym.key"
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the key ids, current first.")
        @OptionGroup var options: Options

        func run() throws {
            let file = try Keys.read(self.options.keyFile)
            for (index, entry) in file.entries.enumerated() {
                print(index == 0 ? "\(entry.id) (current)" : entry.id)
            }
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a fresh key in front: the new current key.")
        @OptionGroup var options: Options
        @Option(name: .long, help: "The new key's id (letters, digits, . _ -), e.g. 2027-q1.")
        var id: String

        func run() throws {
            var file = try Keys.read(self.options.keyFile)
            try Keys.change { () throws(RedactionError) in try file.rotate(newID: self.id) }
            try Keys.write(file, to: self.options.keyFile)
            print("\(self.id) is the current key; restart the servers to use it")
        }
    }

    struct Retire: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a key: the pseudonyms it minted no longer restore."
        )
        @OptionGroup var options: Options
        @Option(name: .long, help: "The id of the key to remove (not the current one).")
        var id: String

        func run() throws {
            var file = try Keys.read(self.options.keyFile)
            try Keys.change { () throws(RedactionError) in try file.retire(id: self.id) }
            try Keys.write(file, to: self.options.keyFile)
            print("\(self.id) retired; restart the servers to stop restoring its pseudonyms")
        }
    }

    static func read(_ path: String) throws -> PseudonymKeyFile {
        try Self.change { () throws(RedactionError) in
            let keys = try PseudonymKeys(contentsOf: URL(fileURLWithPath: path))
            return PseudonymKeyFile(entries: keys.ring)
        }
    }

    /// Runs `body`, printing its error and exiting 1 when it fails.
    static func change<T>(_ body: () throws(RedactionError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            FileHandle.standardError.write(Data("airlock: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// Replaces the file atomically, readable by its owner only.
    static func write(_ file: PseudonymKeyFile, to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        guard
            FileManager.default.createFile(
                atPath: temporary,
                contents: Data(file.render().utf8),
                attributes: [.posixPermissions: 0o600]
            ), rename(temporary, path) == 0
        else {
            unlink(temporary)
            FileHandle.standardError.write(Data("airlock: cannot write \(path)\n".utf8))
            throw ExitCode(1)
        }
    }
}
