import ArgumentParser

// Placeholder while the owning issue is in progress; replaced by the real command.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "(in progress)")
}
