/// The header of a `.npy` file: the Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
///
/// The parser reads only what NumPy writes: a dict of exactly the keys `descr` (a string), `fortran_order`
/// (`True` or `False`) and `shape` (a tuple of non-negative integers), in any order, quoted with `'` or `"`, with
/// an optional trailing comma, followed by spaces and a newline. Anything else is an error saying what was
/// expected at which byte of the header.
struct NumpyHeader {
    /// The dtype as written.
    let descr: String
    /// The element type `descr` names.
    let type: NumpyElementType
    /// The array's shape.
    let shape: [Int]
    /// The number of elements, the product of `shape`.
    let count: Int

    init(parsing bytes: [UInt8], file: String) throws {
        var parser = Parser(bytes: bytes, file: file)
        let fields = try parser.dict()
        func problem(_ message: String) -> DataError { DataError(file: file, message: "the .npy header " + message) }
        for key in fields.keys.sorted() where !["descr", "fortran_order", "shape"].contains(key) {
            throw problem("has an unexpected key '\(key.prefix(40))' (expected descr, fortran_order and shape)")
        }
        guard case .text(let descr)? = fields["descr"] else { throw problem("lacks 'descr' (a dtype string such as '<f4')") }
        guard case .flag(let fortran)? = fields["fortran_order"] else {
            throw problem("lacks 'fortran_order' (True or False)")
        }
        guard case .tuple(let shape)? = fields["shape"] else { throw problem("lacks 'shape' (a tuple such as (100, 3))") }
        guard !fortran else {
            throw problem("says fortran_order: True; Canopy reads C-order arrays (save with np.ascontiguousarray)")
        }
        guard let type = NumpyElementType(descr: descr) else {
            throw problem("has dtype '\(descr.prefix(40))'; Canopy reads <f4, <f8, <i1…<i8, <u1…<u8, |b1 "
                              + "(little- or big-endian)")
        }
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw problem("has a shape \(shape) too large to address") }
            count = product
        }
        self.descr = descr
        self.type = type
        self.shape = shape
        self.count = count
    }

    /// A value in the header's dict.
    enum Value: Equatable { case text(String), flag(Bool), tuple([Int]) }

    /// A recursive-descent reader of the header's bytes.
    private struct Parser {
        let bytes: [UInt8]
        let file: String
        var position = 0

        func fail(_ expected: String) -> DataError {
            let rest = bytes[min(position, bytes.count)...].prefix(24)
            let found = position >= bytes.count ? "the end of the header"
                : "'" + String(decoding: rest, as: UTF8.self) + "'"
            return DataError(file: file, message: "the .npy header is not the dict NumPy writes: expected \(expected) "
                                 + "at byte \(position) of the header, found \(found)")
        }

        mutating func skipSpaces() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        mutating func expect(_ character: Character) throws {
            skipSpaces()
            guard position < bytes.count, bytes[position] == character.asciiValue! else { throw fail("'\(character)'") }
            position += 1
        }

        /// Consumes `character` if it comes next (after spaces).
        mutating func take(_ character: Character) -> Bool {
            skipSpaces()
            guard position < bytes.count, bytes[position] == character.asciiValue! else { return false }
            position += 1
            return true
        }

        mutating func dict() throws -> [String: Value] {
            try expect("{")
            var fields: [String: Value] = [:]
            while !take("}") {
                let key = try string()
                guard fields[key] == nil else { throw fail("each key once ('\(key.prefix(40))' again)") }
                try expect(":")
                fields[key] = try value()
                if !take(",") {
                    try expect("}")
                    break
                }
            }
            skipSpaces()
            guard position == bytes.count else { throw fail("only spaces and a newline after the dict") }
            return fields
        }

        mutating func string() throws -> String {
            skipSpaces()
            guard position < bytes.count, bytes[position] == 0x27 || bytes[position] == 0x22 else {
                throw fail("a quoted string")
            }
            let quote = bytes[position]
            let start = position + 1
            guard let end = bytes[start...].firstIndex(of: quote) else { throw fail("a closing quote") }
            position = end + 1
            return String(decoding: bytes[start..<end], as: UTF8.self)
        }

        mutating func value() throws -> Value {
            skipSpaces()
            guard position < bytes.count else { throw fail("a value") }
            switch bytes[position] {
            case 0x27, 0x22: return .text(try string())
            case UInt8(ascii: "("): return .tuple(try tuple())
            default:
                for (word, flag) in [("True", true), ("False", false)] where bytes[position...].starts(with: word.utf8) {
                    position += word.utf8.count
                    return .flag(flag)
                }
                throw fail("a string, True, False or a tuple")
            }
        }

        mutating func tuple() throws -> [Int] {
            try expect("(")
            var items: [Int] = []
            while !take(")") {
                items.append(try integer())
                if !take(",") {
                    try expect(")")
                    break
                }
            }
            guard items.count <= 32 else { throw fail("at most 32 dimensions") }
            return items
        }

        mutating func integer() throws -> Int {
            skipSpaces()
            let start = position
            while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
            guard position > start, position - start <= 18,
                  let value = Int(String(decoding: bytes[start..<position], as: UTF8.self)) else {
                position = start
                throw fail("a non-negative integer of at most 18 digits")
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "L") { position += 1 }  // Python 2's long
            return value
        }
    }
}
