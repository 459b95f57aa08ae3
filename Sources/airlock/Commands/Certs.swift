import ArgumentParser

// Placeholder while the owning issue is in progress; replaced by the real command.
struct Certs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "certs", abstract: "(in progress)")
}
