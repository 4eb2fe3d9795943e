import XCTest

/// The lines `canopy-mpi-probe` printed: `probe rank=R size=S check=NAME value=V status=ok|FAIL detail...` and
/// `probe rank=R size=S info=NAME value=V`.
struct ProbeOutput {
    /// One result line's fields.
    struct Line {
        var rank: Int
        var size: Int
        var check: String?
        var info: String?
        var value: String
        var ok: Bool
        var detail: String
    }

    let lines: [Line]

    /// Every check the full probe reports, on every rank.
    static let checks = ["launched", "async-buckets", "broadcast", "broadcast-array", "allgather", "barrier", "error",
                         "after-shutdown", "done"]
        + [1, 7, 33, 129, 1_000_003, 1_000_002].flatMap { ["allreduce-float.\($0)", "allreduce-double.\($0)"] }

    init(_ output: String) {
        lines = output.split(separator: "\n").compactMap { text in
            guard text.hasPrefix("probe ") else { return nil }
            var fields: [String: String] = [:]
            var detail: [Substring] = []
            for word in text.split(separator: " ").dropFirst() {
                let parts = word.split(separator: "=", maxSplits: 1)
                if parts.count == 2, ["rank", "size", "check", "info", "value", "status"].contains(String(parts[0])),
                   detail.isEmpty {
                    fields[String(parts[0])] = String(parts[1])
                } else {
                    detail.append(word)
                }
            }
            guard let rank = fields["rank"].flatMap(Int.init), let size = fields["size"].flatMap(Int.init),
                  let value = fields["value"] else { return nil }
            return Line(rank: rank, size: size, check: fields["check"], info: fields["info"], value: value,
                        ok: fields["status"] == "ok" || fields["info"] != nil, detail: detail.joined(separator: " "))
        }
    }

    /// Asserts that `ranks` processes each reported every check of ``checks`` once, all passing, each with the
    /// same value (hash of the result's bits) on every rank.
    func assertAllChecksAgree(ranks: Int, context: String, file: StaticString = #filePath, line: UInt = #line) {
        for failed in lines where !failed.ok {
            XCTFail("\(context): rank \(failed.rank) failed \(failed.check ?? "?"): \(failed.detail)", file: file, line: line)
        }
        XCTAssertEqual(Set(lines.map(\.size)), [ranks], "\(context): group sizes", file: file, line: line)
        for check in Self.checks {
            let reports = lines.filter { $0.check == check }
            XCTAssertEqual(reports.map(\.rank).sorted(), Array(0..<ranks), "\(context): ranks reporting \(check)",
                           file: file, line: line)
            XCTAssertEqual(Set(reports.map(\.value)).count, 1,
                           "\(context): ranks disagree on \(check): \(reports.map { "\($0.rank): \($0.value)" })",
                           file: file, line: line)
        }
    }

    /// The number in `name=N` of `check`'s detail on rank 0.
    func detailNumber(_ name: String, of check: String) -> Int? {
        guard let line = lines.first(where: { $0.check == check && $0.rank == 0 }) else { return nil }
        return line.detail.split(separator: " ").lazy.compactMap { word -> Int? in
            let parts = word.split(separator: "=")
            return parts.count == 2 && parts[0] == name ? Int(parts[1]) : nil
        }.first
    }

    /// Each rank's `info=name` value, by rank.
    func info(_ name: String) -> [Int: String] {
        Dictionary(lines.filter { $0.info == name }.map { ($0.rank, $0.value) }, uniquingKeysWith: { first, _ in first })
    }
}
