import Foundation

/// Several kernel files built as one program: the programs a plan needs, compiled together.
///
/// Why: a driver's compiler pays a fixed cost per program on top of the code it compiles (PoCL parses the whole
/// OpenCL C header again for each, about 0.1 s on a CPU), so a plan that needs five files pays it five times; one
/// program for all five pays it once (measured on PoCL, W1's five files: 0.31–0.46 s as one program against
/// 0.71–0.75 s as five). Kernels are still compiled one by one at their first launch, so a bundle compiles no
/// kernel the plan does not launch.
///
/// The source is `common.cl` once, then each file after a `#line` directive (build logs name the right file and
/// line); every file's `-D` tunables are passed to the whole program. Files can share a program because their
/// kernels' and helpers' names are distinct (the kernel table, generated from every file, requires it of kernels)
/// and each tunable belongs to the files that declare it (`ROW_TEAM_WG` sizes the row kernels' scratch in every
/// file that has any). Members are in file order, so that the same files make the same source in every run, and
/// the driver's cache and the disk cache find it again.
struct CLProgramBundle: Hashable {
    /// The programs (file, options) built together, at most one per file, in file order.
    let members: [CLProgramKey]
    /// The build options: the `-D` tunables of every member, and the other options they all share.
    let options: String

    /// The files' names, e.g. `matmul.cl`.
    var files: [String] { members.map(\.file.rawValue) }

    /// A name for messages and the disk cache: the files' stems joined by `+`, e.g. `loss+matmul.cl`.
    var label: String {
        members.map { $0.file.rawValue.hasSuffix(".cl") ? String($0.file.rawValue.dropLast(3)) : $0.file.rawValue }
            .joined(separator: "+") + ".cl"
    }

    /// The programs of `keys` grouped for building: one bundle of every key whose file appears once and whose
    /// options agree with the others' (a `-D` name given two values, or other options that differ, cannot share a
    /// program), and each remaining key alone. A single key is a bundle of one (built from its own file as ever).
    static func grouping(_ keys: [CLProgramKey]) -> [CLProgramBundle] {
        var together: [CLProgramKey] = [], alone: [CLProgramKey] = []
        var files: Set<CLKernelFile> = []
        var defines: [String: String] = [:]
        var others: [String]?
        for key in keys {
            guard let parsed = parse(key.options), !files.contains(key.file),
                  others == nil || others! == parsed.others,
                  parsed.defines.allSatisfy({ defines[$0.key] == nil || defines[$0.key] == $0.value })
            else {
                alone.append(key)
                continue
            }
            files.insert(key.file)
            others = parsed.others
            defines.merge(parsed.defines) { first, _ in first }
            together.append(key)
        }
        var bundles: [CLProgramBundle] = []
        if !together.isEmpty {
            let members = together.sorted { $0.file.rawValue < $1.file.rawValue }
            let options = members.count == 1 ? members[0].options
                : ((others ?? []) + defines.keys.sorted().map { "-D\($0)=\(defines[$0]!)" }).joined(separator: " ")
            bundles.append(CLProgramBundle(members: members, options: options))
        }
        bundles += alone.map { CLProgramBundle(members: [$0], options: $0.options) }
        return bundles
    }

    /// The options split into `-DNAME=VALUE` defines and the other options (in order); nil when an option is a
    /// define without a value or a `-D` followed by a space, which this does not merge.
    private static func parse(_ options: String) -> (defines: [String: String], others: [String])? {
        var defines: [String: String] = [:], others: [String] = []
        for token in options.split(separator: " ").map(String.init) {
            guard token.hasPrefix("-D") else {
                others.append(token)
                continue
            }
            let body = token.dropFirst(2)
            guard let equals = body.firstIndex(of: "="), equals != body.startIndex else { return nil }
            let name = String(body[..<equals]), value = String(body[body.index(after: equals)...])
            if let existing = defines[name], existing != value { return nil }
            defines[name] = value
        }
        return (defines, others)
    }
}

extension KernelSources {
    /// The source of `bundle`'s program: a single file's program source for a bundle of one, else `common.cl`
    /// once and then each file, each after a `#line` directive.
    func programSource(of bundle: CLProgramBundle) throws -> String {
        if bundle.members.count == 1 { return try programSource(of: bundle.files[0]) }
        var text = "#line 1 \"common.cl\"\n" + (try source(of: "common.cl"))
        for file in bundle.files {
            text += "\n#line 1 \"\(file)\"\n" + (try source(of: file))
        }
        return text
    }
}
