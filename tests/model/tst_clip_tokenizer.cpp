// The CLIP tokenizer (model/clip_tokenizer.h). Token for token against transformers'
// CLIPTokenizerFast on the folder that tests/model/clip_golden.py writes, named by the environment
// variable FASTGDA_CLIP_GOLDEN (skipped without it): every golden prompt of a Stable Diffusion 1.x
// tokenizer and of a 2.x one (pad "!"), and every code point of planes 0-3 and 14. Without the
// golden: start, end, padding and truncation on a tiny vocabulary written here, the pad token from
// the files beside vocab.json, special-token text, and the errors for bad files.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include "model/clip_tokenizer.h"
#include "support/errors.h"
#include "support/tiny_clip_vocabulary.h"

using namespace fastgda;
using fastgda::testing::errorOf;

namespace {

constexpr const char* kHowToRun =
    "set FASTGDA_CLIP_GOLDEN to a folder written by "
    "`~/.cache/fastgda/venv-torch2.11.0/bin/python tests/model/clip_golden.py DIR` "
    "(transformers as pinned in scripts/requirements-diffusers.txt)";

// Prompts whose ids may differ from transformers', with the reason. None so far: a prompt added
// here must say why it cannot match.
const QStringList kKnownDifferences = {};

QString ids(const std::vector<int64_t>& v, size_t from = 0, size_t count = 8) {
  QStringList out;
  for (size_t i = from; i < v.size() && i < from + count; ++i) out << QString::number(v[i]);
  return out.join(' ');
}

// The prompt with control and non-ASCII characters as \x / \u escapes, for messages.
QString escaped(const QString& s) {
  QString out;
  for (const uint c : s.toUcs4()) {
    if (c >= 0x20 && c < 0x7f)
      out += QChar(c);
    else
      out += QStringLiteral("\\u{%1}").arg(c, 0, 16);
  }
  return out;
}

void writeFile(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  QVERIFY2(f.open(QIODevice::WriteOnly), qPrintable(path));
  f.write(bytes);
}

// A tiny CLIP vocabulary: the 512 byte symbols (so "a</w>" is 320 as in CLIP's), then "ca" 512,
// "cat</w>" 513, <|startoftext|> 514, <|endoftext|> 515; merges "c a" and "ca t</w>".
struct Tiny {
  QTemporaryDir dir;
  QString vocab() const { return dir.filePath("vocab.json"); }
  QString merges() const { return dir.filePath("merges.txt"); }
  ClipTokenizer load(int context = 77) const {
    return ClipTokenizer::load(vocab().toStdString(), merges().toStdString(), context);
  }
};

constexpr int64_t kA = 320, kCat = 513, kStart = 514, kEnd = 515, kBang = 0;

void writeTiny(Tiny& t, const QByteArray& merges = "#version: 0.2\nc a\nca t</w>\n",
               const QStringList& drop = {}) {
  testing::writeTinyClipVocabulary(t.vocab(), t.merges(), merges, drop);
}

QJsonObject addedToken(const char* content, bool normalized) {
  return {{"content", content},
          {"lstrip", false},
          {"normalized", normalized},
          {"rstrip", false},
          {"single_word", false}};
}

// special_tokens_map.json as Stable Diffusion 1.x (pad <|endoftext|>) and 2.x (pad "!") ship it.
QByteArray specialTokensMap(const char* pad) {
  return QJsonDocument(QJsonObject{{"bos_token", addedToken("<|startoftext|>", true)},
                                   {"eos_token", addedToken("<|endoftext|>", true)},
                                   {"pad_token", pad},
                                   {"unk_token", addedToken("<|endoftext|>", true)}})
      .toJson();
}

std::vector<int64_t> padded(std::vector<int64_t> v, size_t n, int64_t pad) {
  v.resize(n, pad);
  return v;
}

struct GoldenResult {
  int prompts = 0, matching = 0;
  QString firstMismatch;
};

GoldenResult compareGolden(const QString& folder) {
  GoldenResult r;
  const ClipTokenizer tok = ClipTokenizer::load(QDir(folder).filePath("vocab.json").toStdString(),
                                                QDir(folder).filePath("merges.txt").toStdString());
  QFile f(QDir(folder).filePath("golden.json"));
  if (!f.open(QIODevice::ReadOnly)) {
    r.firstMismatch = f.fileName() + ": " + f.errorString();
    return r;
  }
  const QJsonArray golden = QJsonDocument::fromJson(f.readAll()).array();
  for (const QJsonValue& v : golden) {
    const QString prompt = v["prompt"].toString();
    std::vector<int64_t> expected;
    for (const QJsonValue& id : v["ids"].toArray()) expected.push_back(id.toInteger());
    const std::vector<int64_t> found = tok.encode(prompt.toStdString());
    ++r.prompts;
    if (found == expected || kKnownDifferences.contains(prompt)) {
      ++r.matching;
      continue;
    }
    if (!r.firstMismatch.isEmpty()) continue;
    size_t at = 0;
    while (at < found.size() && at < expected.size() && found[at] == expected[at]) ++at;
    r.firstMismatch = QStringLiteral("%1: prompt \"%2\": position %3: expected %4, found %5")
                          .arg(folder, escaped(prompt))
                          .arg(at)
                          .arg(ids(expected, at), ids(found, at));
  }
  return r;
}

}  // namespace

class TestClipTokenizer : public QObject {
  Q_OBJECT
 private slots:
  void matchesTransformersOnTheGoldenPrompts() {
    const QString golden = qEnvironmentVariable("FASTGDA_CLIP_GOLDEN");
    if (golden.isEmpty()) QSKIP(kHowToRun);
    QStringList folders = {golden};
    if (QDir(golden).exists("sd2")) folders << QDir(golden).filePath("sd2");
    for (const QString& folder : folders) {
      const GoldenResult r = compareGolden(folder);
      qInfo("%s: %d of %d prompts match transformers", qPrintable(folder), r.matching, r.prompts);
      QVERIFY2(r.prompts >= 500, qPrintable(folder + ": fewer than 500 golden prompts"));
      QVERIFY2(r.matching == r.prompts, qPrintable(r.firstMismatch));
    }
  }

  // "x" c c "7" for every code point c: letters, numbers, other and white space give different
  // pieces, and each character goes through NFC and lower-casing.
  void matchesTransformersOnEveryCodePoint() {
    const QString golden = qEnvironmentVariable("FASTGDA_CLIP_GOLDEN");
    if (golden.isEmpty()) QSKIP(kHowToRun);
    QFile f(QDir(golden).filePath("codepoints.txt"));
    QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(f.fileName() + ": " + f.errorString()));
    const ClipTokenizer tok =
        ClipTokenizer::load(QDir(golden).filePath("vocab.json").toStdString(),
                            QDir(golden).filePath("merges.txt").toStdString());
    int lines = 0;
    QStringList mismatches;
    while (!f.atEnd()) {
      const QList<QByteArray> fields = f.readLine().trimmed().split(' ');
      bool ok = false;
      const char32_t c = fields[0].toUInt(&ok, 16);
      QVERIFY2(ok, fields[0].constData());
      std::vector<int64_t> expected;
      for (qsizetype i = 1; i < fields.size(); ++i) expected.push_back(fields[i].toLongLong());
      // (not QString::fromUcs4, which drops U+FEFF as a byte-order mark)
      QString one;
      if (QChar::requiresSurrogates(c))
        one = QString(QChar(QChar::highSurrogate(c))) + QChar(QChar::lowSurrogate(c));
      else
        one = QChar(char16_t(c));
      const QString text = "x" + one + one + "7";
      const std::vector<int64_t> found = tok.tokenize(text.toStdString());
      ++lines;
      if (found != expected)
        mismatches << QStringLiteral("U+%1 (category %2): expected %3, found %4")
                          .arg(uint(c), 4, 16, QChar('0'))
                          .arg(int(QChar::category(c)))
                          .arg(ids(expected, 0, 12), ids(found, 0, 12));
    }
    qInfo("%d of %d code points match transformers", lines - int(mismatches.size()), lines);
    QVERIFY2(lines > 300000, "codepoints.txt: too few lines");
    QVERIFY2(mismatches.isEmpty(),
             qPrintable(QString::number(mismatches.size()) + " code points differ, first:\n" +
                        mismatches.mid(0, 20).join('\n')));
  }

  void aTinyVocabularyGivesStartTokensEndAndPadding() {
    Tiny t;
    writeTiny(t);
    const ClipTokenizer tok = t.load();
    QCOMPARE(tok.contextLength(), 77);
    QCOMPARE(tok.startId(), kStart);
    QCOMPARE(tok.endId(), kEnd);
    QCOMPARE(tok.padId(), kEnd);  // no config files: the end token
    QCOMPARE(tok.vocabularySize(), int64_t(516));
    QCOMPARE(tok.encode("A  Cat\t"), padded({kStart, kA, kCat, kEnd}, 77, kEnd));
    QCOMPARE(tok.encode(""), padded({kStart, kEnd}, 77, kEnd));
    QCOMPARE(tok.encode(" \n "), padded({kStart, kEnd}, 77, kEnd));
    QCOMPARE(tok.tokenize("cat cats"),
             (std::vector<int64_t>{kCat, 512, int64_t(testing::byteSymbols().indexOf("t")),
                                   256 + int64_t(testing::byteSymbols().indexOf("s"))}));
  }

  void longTextKeepsItsFirstTokens() {
    Tiny t;
    writeTiny(t);
    const ClipTokenizer tok = t.load(5);
    QCOMPARE(tok.encode("a a"), (std::vector<int64_t>{kStart, kA, kA, kEnd, kEnd}));
    QCOMPARE(tok.encode("a a a"), (std::vector<int64_t>{kStart, kA, kA, kA, kEnd}));
    QCOMPARE(tok.encode("a a a cat cat"), (std::vector<int64_t>{kStart, kA, kA, kA, kEnd}));
    QCOMPARE(tok.encode("cat a a a a a a a a a a a"),
             (std::vector<int64_t>{kStart, kCat, kA, kA, kEnd}));
    QVERIFY(errorOf([&] { t.load(1); }).contains("context length 1"));
  }

  void thePadTokenComesFromTheFilesBesideTheVocabulary() {
    {  // SD 2.x: special_tokens_map.json says "!", tokenizer_config.json the end token: the map
       // wins, as in transformers
      Tiny t;
      writeTiny(t);
      writeFile(t.dir.filePath("special_tokens_map.json"), specialTokensMap("!"));
      writeFile(t.dir.filePath("tokenizer_config.json"), R"({"pad_token": "<|endoftext|>"})");
      const ClipTokenizer tok = t.load();
      QCOMPARE(tok.padId(), kBang);
      QCOMPARE(tok.padToken(), std::string("!"));
      QCOMPARE(tok.encode("cat"), padded({kStart, kCat, kEnd}, 77, kBang));
      // "!" is then a special token inside prompts too: each one its own id 0
      QCOMPARE(tok.tokenize("cat!!"), (std::vector<int64_t>{kCat, kBang, kBang}));
      // its <|endoftext|> is matched after lower-casing (every entry says "normalized": true)
      QCOMPARE(tok.tokenize("<|EndOfText|>"), (std::vector<int64_t>{kEnd}));
    }
    {  // SD 1.x
      Tiny t;
      writeTiny(t);
      writeFile(t.dir.filePath("special_tokens_map.json"), specialTokensMap("<|endoftext|>"));
      const ClipTokenizer tok = t.load();
      QCOMPARE(tok.padId(), kEnd);
      QCOMPARE(tok.tokenize("!!"), (std::vector<int64_t>{kBang, 256}));  // "!", "!</w>"
      // the string pad entry makes <|endoftext|> a raw token, as transformers 5 has it: its
      // upper-case text is plain text, <|startoftext|> (all entries normalized) is matched
      QVERIFY(tok.tokenize("<|EndOfText|>") != std::vector<int64_t>{kEnd});
      QCOMPARE(tok.tokenize("<|StartOfText|>"), (std::vector<int64_t>{kStart}));
    }
    {  // an explicit pad token wins over the files
      Tiny t;
      writeTiny(t);
      writeFile(t.dir.filePath("special_tokens_map.json"), specialTokensMap("<|endoftext|>"));
      const ClipTokenizer tok =
          ClipTokenizer::load(t.vocab().toStdString(), t.merges().toStdString(), 77, "!");
      QCOMPARE(tok.padId(), kBang);
      QCOMPARE(tok.encode("")[2], kBang);
    }
  }

  void specialTokenTextBecomesItsToken() {
    Tiny t;
    writeTiny(t);
    const ClipTokenizer tok = t.load();
    QCOMPARE(tok.tokenize("a<|endoftext|>cat"), (std::vector<int64_t>{kA, kEnd, kCat}));
    QCOMPARE(tok.tokenize("<|startoftext|>"), (std::vector<int64_t>{kStart}));
  }

  void aMissingFileIsNamed() {
    Tiny t;
    writeTiny(t);
    const std::string missing = t.dir.filePath("nope.json").toStdString();
    QString message = errorOf([&] { ClipTokenizer::load(missing, t.merges().toStdString()); });
    QVERIFY2(message.startsWith(QString::fromStdString(missing) + ": cannot read"),
             qPrintable(message));
    message = errorOf([&] { ClipTokenizer::load(t.vocab().toStdString(), missing); });
    QVERIFY2(message.startsWith(QString::fromStdString(missing) + ": cannot read"),
             qPrintable(message));
  }

  void aMalformedVocabularyIsNamed() {
    Tiny t;
    writeTiny(t);
    writeFile(t.vocab(), "[1, 2]");
    QString message = errorOf([&] { t.load(); });
    QVERIFY2(message.startsWith(t.vocab() + ": ") && message.contains("must be a JSON object"),
             qPrintable(message));
    writeFile(t.vocab(), "{\"a\": 1,");
    message = errorOf([&] { t.load(); });
    QVERIFY2(message.startsWith(t.vocab() + ": ") && message.contains("is not JSON"),
             qPrintable(message));
    writeFile(t.vocab(), R"({"a": 1, "b": "two"})");
    message = errorOf([&] { t.load(); });
    QVERIFY2(message.contains(R"(token "b" has id "two", expected a whole number)"),
             qPrintable(message));
    writeFile(t.vocab(), R"({"a": 1.5})");
    QVERIFY2(errorOf([&] { t.load(); }).contains(R"(token "a" has id 1.5)"),
             qPrintable(errorOf([&] { t.load(); })));
  }

  void aMalformedMergesLineIsNamed() {
    Tiny t;
    writeTiny(t, "#version: 0.2\nc a\nca t</w> x\n");
    QString message = errorOf([&] { t.load(); });
    QVERIFY2(message == t.merges() +
                            ":3: expected two symbols separated by one space, found "
                            "\"ca t</w> x\"",
             qPrintable(message));
    writeTiny(t, "c a\n\nca t</w>\n");
    message = errorOf([&] { t.load(); });
    QVERIFY2(message.startsWith(t.merges() + ":2: expected two symbols"), qPrintable(message));
  }

  void aMergeOutsideTheVocabularyIsNamed() {
    Tiny t;
    writeTiny(t, "#version: 0.2\nc a\nca t\n");  // "cat" (without </w>) is not a token
    QString message = errorOf([&] { t.load(); });
    QVERIFY2(message == t.merges() + ":3: the merged token \"cat\" is not in " + t.vocab(),
             qPrintable(message));
    writeTiny(t, "#version: 0.2\nc a\nca zz\n");
    message = errorOf([&] { t.load(); });
    QVERIFY2(message == t.merges() + ":3: \"zz\" is not in " + t.vocab(), qPrintable(message));
  }

  void aMissingByteOrSpecialTokenIsNamed() {
    Tiny t;
    writeTiny(t, "#version: 0.2\nc a\nca t</w>\n", {"q</w>"});
    QString message = errorOf([&] { t.load(); });
    QVERIFY2(message.startsWith(t.vocab() + ": has no token \"q</w>\" for byte 113"),
             qPrintable(message));
    writeTiny(t, "#version: 0.2\nc a\nca t</w>\n", {"<|startoftext|>"});
    message = errorOf([&] { t.load(); });
    QVERIFY2(message == t.vocab() +
                            ": has no token \"<|startoftext|>\", the start token (the default "
                            "bos_token)",
             qPrintable(message));
    writeTiny(t);
    writeFile(t.dir.filePath("special_tokens_map.json"), R"({"pad_token": "<pad>"})");
    message = errorOf([&] { t.load(); });
    QVERIFY2(message.contains("has no token \"<pad>\", the pad token (" +
                              t.dir.filePath("special_tokens_map.json") + ": field 'pad_token')"),
             qPrintable(message));
    writeFile(t.dir.filePath("special_tokens_map.json"), R"({"pad_token": 3})");
    message = errorOf([&] { t.load(); });
    QVERIFY2(message.contains("special_tokens_map.json: field 'pad_token': expected a string or "
                              "an object with \"content\", found 3"),
             qPrintable(message));
  }
};

QTEST_GUILESS_MAIN(TestClipTokenizer)
#include "tst_clip_tokenizer.moc"
