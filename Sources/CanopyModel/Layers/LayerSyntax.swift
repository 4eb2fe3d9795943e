/// How a model file writes one layer word and its settings, read by the decoder in every form:
///
/// - a bare word, when no setting is required: `- relu`, `- flatten`;
/// - the shorthand, a value for the ``shorthand`` setting: `- dense: 64`, `- maxpool: 2`, `- dropout: 0.1`;
/// - a mapping of settings, when ``takesMapping``: `- conv2d: {filters: 16, kernel: 3}`, `- maxpool: {kernel: 3}`;
/// - a graph node, with the settings beside `name`, `op` and `in`: `{name: c1, op: conv2d, filters: 16, kernel: 3}`.
///
/// Missing settings take their defaults; a missing required one is an error naming it.
public struct LayerSyntax: Sendable {
    /// The word naming the layer (`conv2d`).
    public let keyword: String
    /// The settings, in the order messages list them and the decoder reads them.
    public let settings: [LayerSetting]
    /// The setting a plain value gives (`units` for `dense: 64`), or nil when the layer has no shorthand.
    public let shorthand: String?
    /// Whether `{keyword: {key: value, ...}}` is accepted (a layer with only a shorthand, like dropout, says no;
    /// its one setting then lives at `<layer>.<keyword>`, not `<layer>.<keyword>.<key>`).
    public let takesMapping: Bool
    /// The value part of an example (`64`, `{filters: 16, kernel: 3, padding: 1}`) for messages.
    public let example: String
    /// One line for people: what the layer computes.
    public let summary: String
    /// Makes the layer from decoded settings (every setting present once defaults are applied).
    let make: @Sendable (LayerSettings) -> LayerKind

    /// Describes a word; `make` builds the layer from settings whose types and defaults this syntax declares.
    public init(keyword: String, settings: [LayerSetting] = [], shorthand: String? = nil, takesMapping: Bool = true,
                example: String = "", summary: String, make: @escaping @Sendable (LayerSettings) -> LayerKind) {
        precondition(shorthand == nil || settings.contains { $0.key == shorthand },
                     "\(keyword): the shorthand must be one of the settings")
        precondition(settings.allSatisfy { $0.key == shorthand || !$0.isRequired } || shorthand == nil,
                     "\(keyword): with a shorthand, every other setting needs a default")
        self.keyword = keyword; self.settings = settings; self.shorthand = shorthand
        self.takesMapping = takesMapping && !settings.isEmpty; self.example = example; self.summary = summary
        self.make = make
    }

    /// Whether the bare word is not enough (some setting has no default).
    public var needsValue: Bool { settings.contains(where: \.isRequired) }
    /// The keys a mapping or graph node may give.
    public var keys: [String] { settings.map(\.key) }
    /// A whole example: `{dense: 64}`, `{conv2d: {filters: 16, kernel: 3, padding: 1}}`, or the bare word.
    public var fullExample: String { settings.isEmpty ? keyword : "{\(keyword): \(example)}" }
    /// What the settings mapping looks like, for "expected ..." messages: `dense's settings such as {units: 64}`.
    var mappingDescription: String {
        let mapping = example.hasPrefix("{") ? example : "{\(shorthand ?? keys[0]): \(example)}"
        return "\(keyword)'s settings such as \(mapping)"
    }

    /// The key path of setting `key` of the layer at `layerPath` written in a layer list:
    /// `shared[0].conv2d.kernel`, or `shared[5].dropout` when the layer takes no mapping.
    func settingPath(_ key: String, inList layerPath: String) -> String {
        takesMapping ? "\(layerPath).\(keyword).\(key)" : "\(layerPath).\(keyword)"
    }
}

/// One setting of a layer: its key, its type and its default.
public struct LayerSetting: Sendable {
    /// The type of value a setting takes.
    public enum Kind: Sendable {
        /// An integer (`units: 64`), a number (`p: 0.1`), or a list of integers (`shape: [4, 8, 8]`).
        case integer, number, integers
        /// One of these words (`init: pytorch`); another word is refused with a "did you mean".
        case word([String])
        /// `true` or `false` (`bias: false`).
        case boolean
        /// An integer for both directions, or a list of two integers `[height, width]` (`kernel: 3`,
        /// `kernel: [3, 5]`); an integer default applies to both.
        case pair
    }
    /// What a missing setting becomes.
    public enum Default: Sendable {
        /// No default: the setting must be written.
        case required
        /// This integer.
        case integer(Int)
        /// This number.
        case number(Float)
        /// The value of another (earlier) setting: a pooling stride defaults to its kernel.
        case sameAs(String)
        /// This word.
        case word(String)
        /// This truth value.
        case boolean(Bool)
    }

    /// The key (`filters`).
    public let key: String
    /// Its type.
    public let kind: Kind
    /// Its default.
    public let fallback: Default

    /// Whether the setting must be written.
    public var isRequired: Bool { if case .required = fallback { return true } else { return false } }

    /// An integer setting, required unless it has a default.
    public static func integer(_ key: String, default fallback: Default = .required) -> LayerSetting {
        LayerSetting(key: key, kind: .integer, fallback: fallback)
    }

    /// A list-of-integers setting (`shape: [4, 8, 8]`); always required.
    public static func integers(_ key: String) -> LayerSetting {
        LayerSetting(key: key, kind: .integers, fallback: .required)
    }

    /// A setting of one integer for both directions or a pair `[height, width]` (`kernel: 3`, `stride: [1, 2]`),
    /// required unless it has a default (an integer default, or `.sameAs` another pair setting).
    public static func pair(_ key: String, default fallback: Default = .required) -> LayerSetting {
        LayerSetting(key: key, kind: .pair, fallback: fallback)
    }

    /// A number setting, required unless it has a default.
    public static func number(_ key: String, default fallback: Default = .required) -> LayerSetting {
        LayerSetting(key: key, kind: .number, fallback: fallback)
    }

    /// A setting that takes one of `choices` (`init: he | glorot | pytorch`), `fallback` (one of them) when missing.
    public static func word(_ key: String, among choices: [String], default fallback: String) -> LayerSetting {
        precondition(choices.contains(fallback), "\(key): the default '\(fallback)' is not among the choices")
        return LayerSetting(key: key, kind: .word(choices), fallback: .word(fallback))
    }

    /// A `true`/`false` setting (`bias: false`), `fallback` when missing.
    public static func boolean(_ key: String, default fallback: Bool) -> LayerSetting {
        LayerSetting(key: key, kind: .boolean, fallback: .boolean(fallback))
    }
}

/// A layer's decoded settings, defaults applied: what ``LayerSyntax`` hands a layer type to make a layer.
public struct LayerSettings: Sendable {
    /// A decoded value.
    public enum Value: Sendable, Equatable {
        case integer(Int), number(Float), integers([Int]), word(String), boolean(Bool)
        /// A ``LayerSetting/Kind/pair`` setting's value, `[height, width]` (both equal when one integer was given).
        case pair(Int, Int)
    }
    private var values: [String: Value]

    /// The written values, with every missing setting's default filled in (in the syntax's order, so `sameAs`
    /// reads an earlier setting).
    init(_ written: [String: Value], _ syntax: LayerSyntax) {
        values = written
        for setting in syntax.settings where values[setting.key] == nil {
            switch setting.fallback {
            case .required: preconditionFailure("\(syntax.keyword): required setting '\(setting.key)' was not read")
            case .integer(let value):
                if case .pair = setting.kind { values[setting.key] = .pair(value, value) } else { values[setting.key] = .integer(value) }
            case .number(let value): values[setting.key] = .number(value)
            case .sameAs(let other): values[setting.key] = values[other]
            case .word(let value): values[setting.key] = .word(value)
            case .boolean(let value): values[setting.key] = .boolean(value)
            }
        }
    }

    /// The integer setting `key`.
    public func int(_ key: String) -> Int {
        guard case .integer(let value)? = values[key] else { preconditionFailure("no integer setting '\(key)'") }
        return value
    }

    /// The list-of-integers setting `key`.
    public func ints(_ key: String) -> [Int] {
        guard case .integers(let value)? = values[key] else { preconditionFailure("no integer-list setting '\(key)'") }
        return value
    }

    /// The pair setting `key`: (height, width).
    public func pair(_ key: String) -> (height: Int, width: Int) {
        guard case .pair(let height, let width)? = values[key] else { preconditionFailure("no pair setting '\(key)'") }
        return (height, width)
    }

    /// The number setting `key`.
    public func float(_ key: String) -> Float {
        guard case .number(let value)? = values[key] else { preconditionFailure("no number setting '\(key)'") }
        return value
    }

    /// The word setting `key`.
    public func word(_ key: String) -> String {
        guard case .word(let value)? = values[key] else { preconditionFailure("no word setting '\(key)'") }
        return value
    }

    /// The true-or-false setting `key`.
    public func bool(_ key: String) -> Bool {
        guard case .boolean(let value)? = values[key] else { preconditionFailure("no true-or-false setting '\(key)'") }
        return value
    }
}
