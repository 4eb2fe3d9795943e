import Canopy
import Foundation
import XCTest

/// Text inputs (`input.text:`): tokenizer, vocabulary fitted on training rows only, tfidf/counts/tokens values,
/// text through RFC 4180 CSV, the vocabulary saved and re-applied by predict, and placed errors.
final class TextInputTests: ScratchTestCase {
    func testTokenizerSplitsOnNonLettersAndLowercasesUnicode() {
        let tokenizer = Tokenizer()
        XCTAssertEqual(tokenizer.words("Don't stop-loss, 2x!  ÉTÉ\tnaïve"), ["don", "t", "stop", "loss", "2x", "été", "naïve"])
        // Decomposed é (e + U+0301) is composed first, so both spellings give one word.
        XCTAssertEqual(tokenizer.words("cafe\u{301}"), tokenizer.words("café"))
        XCTAssertEqual(tokenizer.words("Straße 東京 ٣ 🙂x_y"), ["straße", "東京", "٣", "x", "y"])
        XCTAssertEqual(Tokenizer(lowercase: false).words("New York"), ["New", "York"])
        XCTAssertEqual(tokenizer.words(""), [])
        XCTAssertEqual(Tokenizer.ngrams(["a", "b", "c"], 1...2), ["a", "b", "c", "a b", "b c"])
        XCTAssertEqual(Tokenizer.ngrams(["a"], 2...3), [])
    }

    private func spec(_ kind: TextVectorizerKind, vocabulary: Int, ngrams: ClosedRange<Int> = 1...1,
                      length: Int = 0) -> TextInputSpec {
        TextInputSpec(column: "t", vectorizer: kind, vocabulary: vocabulary, ngrams: ngrams, length: length)
    }

    private func features(_ vectorizer: TextVectorizer, _ text: String) -> [Float] {
        var out = ArraySlice([Float](repeating: -1, count: vectorizer.spec.featureCount))
        vectorizer.features(text, into: &out)
        return Array(out)
    }

    func testVocabularyIsTheMostFrequentTermsWithTiesByText() {
        let v = TextVectorizer.fitted(spec(.counts, vocabulary: 3), on: ["b a c", "c b d", "e"])
        // counts: b 2, c 2, a 1, d 1, e 1 → b, c (tie by text), then a (before d and e).
        XCTAssertEqual(v.terms, ["b", "c", "a"])
        XCTAssertEqual(features(v, "a a z b"), [1, 0, 2])
        XCTAssertEqual(v.featureNames, ["t:b", "t:c", "t:a"])
        let pairs = TextVectorizer.fitted(spec(.counts, vocabulary: 10, ngrams: 1...2), on: ["x y x y"])
        XCTAssertEqual(pairs.terms, ["x", "x y", "y", "y x"])
        XCTAssertEqual(features(pairs, "x y z x y"), [2, 2, 2, 0, 0, 0, 0, 0, 0, 0], "unfilled slots stay zero")
    }

    /// Hand-computed: n = 2 rows, idf(a) = idf(c) = ln(3/2) + 1 = 1.4054651, idf(b) = ln(3/3) + 1 = 1;
    /// "a b a" → (2·1.4054651, 1) / ‖·‖ = (0.94215562, 0.33517574); "b c" → (0.57973867, 0.81480247).
    func testTfidfIsSmoothIdfTimesCountsL2Normalised() {
        let v = TextVectorizer.fitted(spec(.tfidf, vocabulary: 3), on: ["a b a", "b c"])
        XCTAssertEqual(v.terms, ["a", "b", "c"])
        XCTAssertEqual(v.idf[0], 1.4054651, accuracy: 1e-6)
        XCTAssertEqual(v.idf[1], 1, accuracy: 1e-6)
        for (got, want) in zip(features(v, "a b a"), [0.94215562, 0.33517574, 0] as [Float]) { XCTAssertEqual(got, want, accuracy: 1e-6) }
        for (got, want) in zip(features(v, "B, c!"), [0, 0.57973867, 0.81480247] as [Float]) { XCTAssertEqual(got, want, accuracy: 1e-6) }
        XCTAssertEqual(features(v, "nothing known"), [0, 0, 0], "a row with no vocabulary term stays zero")
    }

    func testTokensAreIdsWithPaddingUnknownAndTruncation() {
        // A vocabulary of 4 ids: 0 padding, 1 unknown, then the 2 most frequent words.
        let v = TextVectorizer.fitted(spec(.tokens, vocabulary: 4, length: 4), on: ["the cat the dog", "the cat"])
        XCTAssertEqual(v.terms, ["the", "cat"])   // dog is beyond the vocabulary
        XCTAssertEqual(features(v, "The dog"), [2, 1, 0, 0])
        XCTAssertEqual(features(v, "cat the cat the cat"), [3, 2, 3, 2])
        XCTAssertEqual(features(v, ""), [0, 0, 0, 0])
        XCTAssertEqual(v.featureNames, ["t[0]", "t[1]", "t[2]", "t[3]"])
    }

    /// Optional cross-check with scikit-learn's TfidfVectorizer on the same vocabulary, when python3 has it.
    func testTfidfMatchesScikitLearnWhenAvailable() throws {
        let texts = ["The cat sat on the mat.", "A dog; a cat, and \"the\" bird", "Birds fly, dogs run", "the end"]
        let v = TextVectorizer.fitted(spec(.tfidf, vocabulary: 6, ngrams: 1...2), on: texts)
        let script = """
        import json, sys
        from sklearn.feature_extraction.text import TfidfVectorizer
        texts, terms = json.load(sys.stdin)
        x = TfidfVectorizer(token_pattern=r"(?u)[^\\W_]+", ngram_range=(1, 2), vocabulary=terms).fit(texts)
        print(json.dumps(x.transform(texts).toarray().tolist()))
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = Pipe()
        do { try process.run() } catch { throw XCTSkip("python3 is not available: \(error)") }
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: [texts, v.terms]))
        input.fileHandleForWriting.closeFile()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let rows = try JSONSerialization.jsonObject(with: data) as? [[Double]] else {
            throw XCTSkip("scikit-learn is not installed for python3 (the hand-computed tfidf test still runs)")
        }
        for (text, row) in zip(texts, rows) {
            for (got, want) in zip(features(v, text), row) { XCTAssertEqual(Double(got), want, accuracy: 1e-5, text) }
        }
    }

    func testTextFieldsGoThroughRFC4180Intact() throws {
        let csv = "id,review,y\r\n1,\"He said \"\"great, really\"\"\nthen left\",0.5\n2,plain text,1\n3,\"\",2\n"
        let file = try write(csv, to: "t.csv")
        let data = try CSVDataset.load(url: URL(fileURLWithPath: file), inputColumns: [], labelColumns: ["y"],
                                       textColumns: ["review"])
        XCTAssertEqual(data.rawColumns["review"], ["He said \"great, really\"\nthen left", "plain text", ""])
        XCTAssertEqual(data.featureCount, 0)
        XCTAssertEqual(data.labels["y"]?.values, [0.5, 1, 2])
        let missing = try write("a,b\n1,2\n", to: "m.csv")
        XCTAssertThrowsError(try CSVDataset.load(url: URL(fileURLWithPath: missing), inputColumns: [],
                                                 labelColumns: ["b"], textColumns: ["reveiw"])) {
            XCTAssertTrue("\($0)".contains("reveiw"), "\($0)")
        }
    }

    /// Each row's text is a unique word w<row> and its label y is the row number, so the split is visible: the
    /// vocabulary holds exactly the training rows' words, never a validation row's.
    func testVocabularyIsFittedOnTrainingRowsOnly() throws {
        let rows = (0..<40).map { "w\($0) common,\($0)" }
        try write((["text,y"] + rows).joined(separator: "\n") + "\n", to: "d.csv")
        try write("text,y\nvalonly common,1\n", to: "v.csv")
        for data in ["{source: d.csv, validation: 0.25, seed: 2}", "{source: d.csv, validation: v.csv}"] {
            let file = try write("""
            name: t
            data: \(data)
            input: {shape: [100], text: {column: text, vectorizer: counts, vocabulary: 100}}
            shared: [{dense: 4}]
            tasks: {y: {head: [{dense: 1}], loss: mse}}
            train: {optimizer: {adam: {lr: 0.01}}, batch_size: 8, epochs: 1, seed: 1}
            """)
            let loaded = try ModelData.load(for: try ModelFile.load(contentsOf: URL(fileURLWithPath: file)))
            let trainWords = Set(loaded.train.labels["y"]!.values.map { "w\(Int($0))" })
            let terms = Set(try XCTUnwrap(loaded.encoding?.text).terms)
            XCTAssertEqual(terms, trainWords.union(["common"]), data)
            XCTAssertFalse(terms.contains("valonly"))
            XCTAssertEqual(loaded.validation.featureCount, 100)
            if data.contains("0.25") { XCTAssertEqual(loaded.validation.rowCount, 10) }
        }
    }

    func testSavedVocabularyGivesIdenticalFeaturesAndPredictReadsUnseenText() throws {
        var lines = ["review,stars,kind"]
        for i in 0..<60 {
            let good = i % 2 == 0
            lines.append("\"\(good ? "great, lovely" : "awful; boring") film \(i)\",\(i % 5),\(good ? "pos" : "neg")")
        }
        try write(lines.joined(separator: "\n") + "\n", to: "reviews.csv")
        try write("review,stars\n\"never seen words, \"\"great\"\"\nsecond line\",3\nawful awful,1\n", to: "new.csv")
        let file = try write("""
        name: reviews
        data: {source: reviews.csv, validation: 0.2, seed: 1}
        input:
          shape: [9]
          columns: [stars]
          text: {column: review, vectorizer: tfidf, vocabulary: 8, ngrams: [1, 2]}
        shared: [{dense: 8}, relu]
        tasks: {kind: {head: [{dense: 2}], loss: cross_entropy, metrics: [accuracy]}}
        train: {optimizer: {adam: {lr: 0.05}}, batch_size: 16, epochs: 15, seed: 1}
        """)
        let spec = try ModelFile.load(contentsOf: URL(fileURLWithPath: file))
        let data = try ModelData.load(for: spec)
        let encoding = try XCTUnwrap(data.encoding)
        let reread = try XCTUnwrap(try InputEncoding(metadata: encoding.metadata, input: spec.input, file: "p"))
        XCTAssertEqual(reread, encoding, "vocabulary and idf read back exactly")
        let raw = try CSVDataset.load(url: URL(fileURLWithPath: path("new.csv")), inputColumns: ["stars"],
                                      labelColumns: [], textColumns: ["review"])
        XCTAssertEqual(reread.apply(to: raw).features, encoding.apply(to: raw).features)
        XCTAssertEqual(data.train.featureNames.first, "stars", "numeric columns come first")

        let trained = try canopy("train", file, "--backend", "cpu", "--out", path("run"))
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let parameters = path("run") + "/parameters.safetensors"
        let saved = try SafeTensorsFile.read(from: URL(fileURLWithPath: parameters)).metadata
        XCTAssertEqual(try InputEncoding(metadata: saved, input: spec.input, file: "p"), encoding)
        let predicted = try canopy("predict", file, "--backend", "cpu", "--checkpoint", parameters,
                                   "--data", path("new.csv"), "--out", path("p.csv"))
        XCTAssertEqual(predicted.status, 0, predicted.stderr)
        let out = try String(contentsOfFile: path("p.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(out.count, 3)
        XCTAssertEqual(out.dropFirst().map { String($0.split(separator: ",")[1]) }, ["pos", "neg"])
    }

    func testTokensAndIndexEncodingReadBackExactlyAndRefuseAnotherModelFile() throws {
        var input = InputSpec(shape: [5], columns: [])
        input.text = TextInputSpec(column: "t", vectorizer: .tokens, vocabulary: 5, length: 4)
        input.categorical = CategoricalInputSpec(columns: ["c"], encoding: .index)
        var train = try Dataset(rowCount: 2, featureCount: 0, features: [], featureNames: [], labels: [:])
        train.rawColumns = ["t": ["b a b", "c \"q\", d"], "c": ["x", "y"]]
        let encoding = try XCTUnwrap(InputEncoding.fitted(for: input, on: train))
        XCTAssertEqual(encoding.apply(to: train).features, [2, 3, 2, 0, 2, 4, 1, 1, 0, 3])
        let reread = try XCTUnwrap(try InputEncoding(metadata: encoding.metadata, input: input, file: "p"))
        XCTAssertEqual(reread.apply(to: train), encoding.apply(to: train))
        var other = input
        other.text?.column = "body"
        XCTAssertThrowsError(try InputEncoding(metadata: encoding.metadata, input: other, file: "p.safetensors")) {
            XCTAssertTrue("\($0)".contains("p.safetensors") && "\($0)".contains("'body'"), "\($0)")
        }
        XCTAssertThrowsError(try InputEncoding(metadata: [:], input: input, file: "p.safetensors")) {
            XCTAssertTrue("\($0)".contains("input_encoding"), "\($0)")
        }
    }

    private func refusal(_ input: String, shared: String = "[{dense: 4}]") throws -> String {
        let file = try write("""
        name: t
        data: {source: d.csv}
        input: \(input)
        shared: \(shared)
        tasks: {y: {head: [{dense: 1}], loss: mse}}
        train: {optimizer: {adam: {lr: 0.01}}, batch_size: 8, epochs: 1, seed: 1}
        """)
        do {
            _ = try RunPlan(try ModelFile.load(contentsOf: URL(fileURLWithPath: file)), device: nil)
            XCTFail("accepted: \(input)")
            return ""
        } catch { return "\(error)" }
    }

    func testBadTextSettingsArePlaced() throws {
        try write("text,n,y\nhello world,1,2\nbye,2,3\n", to: "d.csv")
        let cases: [(String, [String])] = [
            ("{shape: [5], text: {column: text, vectorizer: bag, vocabulary: 5}}", ["model.yaml:3:", "input.text.vectorizer", "bag"]),
            ("{shape: [5], text: {column: text, vectorizer: tfidf, vocabulary: 0}}", ["input.text.vocabulary", "got 0"]),
            ("{shape: [5], text: {column: text, vectorizer: tokens, vocabulary: 5}}", ["input.text", "length"]),
            ("{shape: [5], text: {column: text, vectorizer: counts, vocabulary: 5, length: 3}}", ["input.text.length"]),
            ("{shape: [5], text: {column: text, vectorizer: counts, vocabulary: 5, ngrams: [2, 1]}}", ["input.text.ngrams"]),
            ("{shape: [5], text: {column: text, vectorizer: tokens, vocabulary: 5, length: 5, ngrams: [1, 2]}}", ["input.text.ngrams"]),
            ("{shape: [7], columns: [n], text: {column: text, vectorizer: tfidf, vocabulary: 5}}",
             ["model.yaml:3:", "input.shape", "give 6", "shape: [6]"]),
            ("{shape: [6], columns: [text], text: {column: text, vectorizer: tfidf, vocabulary: 5}}", ["input.text.column", "already"]),
            ("{shape: [5], text: {column: txt, vectorizer: tfidf, vocabulary: 5}}", ["d.csv", "txt", "did you mean 'text'"]),
        ]
        for (input, expected) in cases {
            let message = try refusal(input)
            for part in expected { XCTAssertTrue(message.contains(part), "\(input): \(message)") }
        }
        // tokens' vocabulary counts ids (padding and unknown among them), the same number an embedding takes.
        let tokens = "{shape: [3], text: {column: text, vectorizer: tokens, vocabulary: 50, length: 3}}"
        let tooFew = try refusal(tokens, shared: "[{embedding: {vocabulary: 40, dim: 2}}, flatten]")
        XCTAssertTrue(tooFew.contains("shared[0].embedding.vocabulary: the embedding has 40 rows but input.text "
                                      + "gives ids up to 49"), tooFew)
        let reserved = try refusal("{shape: [3], text: {column: text, vectorizer: tokens, vocabulary: 2, length: 3}}")
        XCTAssertTrue(reserved.contains("input.text.vocabulary") && reserved.contains("at least 3"), reserved)
    }
}
