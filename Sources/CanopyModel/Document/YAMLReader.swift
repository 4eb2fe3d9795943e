import Foundation
import Yams

/// Reads YAML text into a ``DocumentNode`` tree with Yams (libyaml), refusing what a model file never needs:
/// more than one document, nesting deeper than ``ModelLimits/maxNesting``, and alias expansion beyond
/// ``ModelLimits/maxNodes`` nodes (a "billion laughs" file composes cheaply, since Yams shares aliased nodes, but
/// would take forever to walk; the walk here stops at the budget).
struct YAMLReader {
    let fileName: String

    /// The document's root, or nil when the text holds no document (empty, or only comments).
    func read(_ text: String) throws -> DocumentNode? {
        try checkNesting(text)
        let root: Node?
        do {
            root = try Self.onLargeStack { try Parser(yaml: text).singleRoot() }
        } catch let error as YamlError {
            throw syntaxError(error)
        }
        guard let root else { return nil }
        var budget = ModelLimits.maxNodes
        return try convert(root, depth: 0, budget: &budget)
    }

    private func convert(_ node: Node, depth: Int, budget: inout Int) throws -> DocumentNode {
        let mark = (line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
        budget -= 1
        if budget < 0 {
            throw error(mark, "the document expands to more than \(ModelLimits.maxNodes) values "
                            + "(are aliases multiplying it?)")
        }
        if depth > ModelLimits.maxNesting {
            throw error(mark, "lists and mappings are nested more than \(ModelLimits.maxNesting) deep")
        }
        switch node {
        case .scalar(let scalar):
            // Tags (`!!str 16`) are ignored: a value's type comes from its key, and quoting decides string-ness.
            return DocumentNode(content: .scalar(scalar.string, quoted: scalar.style != .plain),
                                line: mark.line, column: mark.column)
        case .sequence(let sequence):
            var items: [DocumentNode] = []
            for item in sequence { items.append(try convert(item, depth: depth + 1, budget: &budget)) }
            return DocumentNode(content: .sequence(items), line: mark.line, column: mark.column)
        case .mapping(let mapping):
            var pairs: [DocumentNode.Pair] = []
            for (key, value) in mapping {
                pairs.append(DocumentNode.Pair(key: try convert(key, depth: depth + 1, budget: &budget),
                                               value: try convert(value, depth: depth + 1, budget: &budget)))
            }
            return DocumentNode(content: .mapping(pairs), line: mark.line, column: mark.column)
        }
    }

    /// Bounds how deep Yams can recurse before it sees the text. Yams composes recursively, about 10 KB of stack
    /// per level in a debug build, so `[[[[…` or `- - - …` thousands deep would overflow the stack. Every `[` and `{`
    /// in the file counts (even in strings and comments, so nothing can hide one), which bounds flow nesting;
    /// the run of spaces and block indicators (`-`, `?`, `:`) that starts each line bounds block nesting. For a
    /// friendlier message in the usual case, brackets are also matched naively and a net depth over
    /// ``ModelLimits/maxNesting`` is refused where it happens.
    private func checkNesting(_ text: String) throws {
        let maxIndent = 4 * ModelLimits.maxNesting
        var depth = 0, total = 0, line = 1, column = 0
        var leading = true
        for scalar in text.unicodeScalars {
            column += 1
            switch scalar {
            case "\n":
                line += 1; column = 0; leading = true
                continue
            case " ", "-", "?", ":":
                if leading && column > maxIndent {
                    throw error((line, column), "lists and mappings are nested more than \(ModelLimits.maxNesting) "
                                    + "deep (a line is indented over \(maxIndent) columns)")
                }
                continue
            case "[", "{":
                depth += 1
                total += 1
                if depth > ModelLimits.maxNesting {
                    throw error((line, column),
                                "lists and mappings are nested more than \(ModelLimits.maxNesting) deep")
                }
                if total > Self.maxFlowCollections {
                    throw error((line, column), "the file opens more than \(Self.maxFlowCollections) '[' and '{'")
                }
            case "]", "}":
                depth = max(0, depth - 1)
            default:
                break
            }
            leading = false
        }
    }

    /// The most `[` and `{` characters a YAML model file may hold.
    static let maxFlowCollections = 2000

    /// Runs `body` on a thread with a 64 MiB stack, enough for Yams at the nesting ``checkNesting(_:)`` allows
    /// whatever thread the caller is on (a dispatch worker has only 512 KiB).
    private static func onLargeStack<T>(_ body: @escaping () throws -> T) throws -> T {
        let box = ResultBox<T>(body: body)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.result = Result { try box.body() }
            done.signal()
        }
        thread.stackSize = 64 << 20
        thread.start()
        done.wait()
        return try box.result!.get()
    }

    private func error(_ mark: (line: Int, column: Int), _ message: String) -> ModelFileError {
        ModelFileError(location: SourceLocation(file: fileName, line: mark.line, column: mark.column),
                       keyPath: "", message: message)
    }

    /// A Yams error as a ModelFileError at the line and column libyaml reports.
    private func syntaxError(_ error: YamlError) -> ModelFileError {
        func describe(_ context: YamlError.Context?, _ problem: String) -> String {
            guard let context else { return "YAML syntax error: \(problem)" }
            return "YAML syntax error: \(problem) (\(context.text) at line \(context.mark.line), "
                + "column \(context.mark.column))"
        }
        switch error {
        case .scanner(let context?, let problem, let mark, _)
            where context.text.contains("simple key") && problem.contains("expected ':'") && mark.column > 1024:
            // libyaml gives up on a plain (unquoted) key longer than 1024 characters.
            return self.error((context.mark.line, context.mark.column), "a key is more than 1024 characters long "
                + "(YAML allows at most 1024 for a key written without quotes)")
        case .composer(let context?, _, let mark, _) where context.text.contains("single document"):
            return self.error((mark.line, mark.column), "a model file holds one YAML document, but another starts here")
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            return self.error((mark.line, mark.column), describe(context, problem))
        case .reader(let problem, let offset, _, let yaml):
            var line = 1, column = 1
            if let offset {
                for character in yaml.prefix(offset) {
                    if character == "\n" { line += 1; column = 1 } else { column += 1 }
                }
            }
            return self.error((line, column), "cannot read the text: \(problem)")
        default:
            return ModelFileError(location: SourceLocation(file: fileName), keyPath: "",
                                  message: "YAML error: \(error)")
        }
    }
}

/// Carries the work to the large-stack thread and its result back to the waiting caller: unchecked `Sendable`,
/// because the caller waits on the semaphore while the thread runs, so the two never touch the box at once.
private final class ResultBox<T>: @unchecked Sendable {
    let body: () throws -> T
    var result: Result<T, Error>?
    init(body: @escaping () throws -> T) { self.body = body }
}
