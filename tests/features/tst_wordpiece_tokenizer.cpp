// BERT's WordPiece tokenizer (features/wordpiece_tokenizer.h) and the text encoders that carry it
// (`torchscript:FILE` feature spaces from scripts/export-encoder.py). Token for token against
// transformers' BertTokenizer on the folder that tests/features/wordpiece_golden.py writes, named
// by FASTGDA_WORDPIECE_GOLDEN: the built-in prompts, tricky ones and every code point of planes
// 0-2 inside a word. An exported encoder (FASTGDA_TEXT_ENCODER, with the reference embeddings of
// FASTGDA_TEXT_ENCODER_REFERENCE) against transformers' embeddings. Each skips without its
// variables (the PyTorch 2.x flavour sets them); a tiny vocabulary written here runs always.
#include <torch/torch.h>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include "features/feature_space.h"
#include "features/wordpiece_tokenizer.h"
#include "support/errors.h"

using namespace fastgda;
using fastgda::testing::errorOf;

namespace {

// Ids 0-12.
const std::string kTinyVocabulary =
    "[PAD]\n[UNK]\n[CLS]\n[SEP]\nred\napple\n,\n##s\nun\n##aff\n##able\ncafe\n!\n";

QString ids(const std::vector<int64_t>& v) {
  QStringList out;
  for (const int64_t i : v) out << QString::number(i);
  return out.join(' ');
}

}  // namespace

class TestWordPieceTokenizer : public QObject {
  Q_OBJECT

 private slots:
  void wordsPiecesAndSpecialTokens() {
    const auto t = WordPieceTokenizer::fromVocabulary(kTinyVocabulary, "tiny", 16);
    QCOMPARE(ids(t.encode("Red apples, unaffable!")), QStringLiteral("2 4 5 7 6 8 9 10 12 3"));
    QCOMPARE(ids(t.encode("red apple")), QStringLiteral("2 4 5 3"));
    QCOMPARE(ids(t.encode("RED\tapple\n")), QStringLiteral("2 4 5 3"));     // case, white space
    QCOMPARE(ids(t.encode("apples")), QStringLiteral("2 5 7 3"));           // a piece inside a word
    QCOMPARE(ids(t.encode("Café")), QStringLiteral("2 11 3"));              // accents stripped
    QCOMPARE(ids(t.encode("red,apple!")), QStringLiteral("2 4 6 5 12 3"));  // punctuation splits
    QCOMPARE(ids(t.encode("pear")), QStringLiteral("2 1 3"));               // no piece fits: [UNK]
    QCOMPARE(ids(t.encode("")), QStringLiteral("2 3"));
    QCOMPARE(ids(WordPieceTokenizer::fromVocabulary(kTinyVocabulary, "tiny", 8)
                     .encode("red red red red red red red red")),
             QStringLiteral("2 4 4 4 4 4 4 3"));  // at most max_length ids
    QCOMPARE(t.padId(), int64_t(0));
  }

  void badVocabulariesAreNamed() {
    QVERIFY(errorOf([] {
              WordPieceTokenizer::fromVocabulary("[PAD]\n[UNK]\n[SEP]\n", "v.pt", 8);
            }).contains("v.pt: the vocabulary (3 tokens) has no [CLS]"));
    QVERIFY(errorOf([] {
              WordPieceTokenizer::fromVocabulary(kTinyVocabulary, "v.pt", 1);
            }).contains("max_length is 1"));
  }

  void matchesTransformersOnTheGolden() {
    const QByteArray dir = qgetenv("FASTGDA_WORDPIECE_GOLDEN");
    if (dir.isEmpty())
      QSKIP(
          "set FASTGDA_WORDPIECE_GOLDEN to a folder written by "
          "`~/.cache/fastgda/venv-torch2.11.0/bin/python tests/features/wordpiece_golden.py DIR`");
    QFile vocab(dir + "/vocab.txt"), golden(dir + "/golden.json");
    QVERIFY(vocab.open(QIODevice::ReadOnly) && golden.open(QIODevice::ReadOnly));
    const QJsonObject g = QJsonDocument::fromJson(golden.readAll()).object();
    const auto t = WordPieceTokenizer::fromVocabulary(vocab.readAll().toStdString(), "vocab.txt",
                                                      g["max_length"].toInt());
    const QJsonArray texts = g["texts"].toArray(), expected = g["ids"].toArray();
    QCOMPARE(texts.size(), expected.size());
    QVERIFY(texts.size() > 190000);
    int differences = 0;
    QStringList examples;
    for (qsizetype i = 0; i < texts.size(); ++i) {
      std::vector<int64_t> want;
      for (const QJsonValue& v : expected[i].toArray()) want.push_back(v.toInteger());
      const std::vector<int64_t> got = t.encode(texts[i].toString().toStdString());
      if (got == want) continue;
      if (++differences <= 10) {
        QString shown;
        for (const char32_t c : texts[i].toString().toUcs4())
          shown += c < 0x80 && c >= 0x20
                       ? QString(QChar(c))
                       : QStringLiteral("\\u%1").arg(uint(c), 4, 16, QLatin1Char('0'));
        examples
            << QStringLiteral("\"%1\": %2 against %3").arg(shown.left(80), ids(got), ids(want));
      }
    }
    QVERIFY2(
        differences == 0,
        qPrintable(
            QStringLiteral("%1 of %2 texts differ, e.g.\n").arg(differences).arg(texts.size()) +
            examples.join('\n')));
  }

  // The C++ side (tokenizer, padding, mask) gives the embeddings transformers gives.
  void anExportedTextEncoderMatchesTransformers() {
    const QByteArray file = qgetenv("FASTGDA_TEXT_ENCODER");
    const QByteArray referenceFile = qgetenv("FASTGDA_TEXT_ENCODER_REFERENCE");
    if (file.isEmpty() || referenceFile.isEmpty())
      QSKIP(
          "set FASTGDA_TEXT_ENCODER and FASTGDA_TEXT_ENCODER_REFERENCE to the files of "
          "`scripts/export-encoder.py minilm FILE --write-reference REFERENCE`");
    QFile f(referenceFile);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonObject reference = QJsonDocument::fromJson(f.readAll()).object();
    std::vector<std::string> texts;
    for (const QJsonValue& t : reference["texts"].toArray())
      texts.push_back(t.toString().toStdString());
    const QJsonArray rows = reference["embeddings"].toArray();
    QCOMPARE(rows.size(), qsizetype(texts.size()));
    auto space = makeFeatureSpace("torchscript:" + file.toStdString(), {});
    QCOMPARE(space->dim(), int64_t(rows[0].toArray().size()));
    const int64_t n = static_cast<int64_t>(texts.size());
    const torch::Tensor features = space->extract(torch::zeros({n, 3, 8, 8}), texts);
    double worst = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < space->dim(); ++j)
        worst = std::max(worst,
                         std::abs(features[i][j].item<double>() - rows[i].toArray()[j].toDouble()));
    QVERIFY2(worst < 1e-4, qPrintable(QStringLiteral("max |C++ - transformers| = %1").arg(worst)));
  }
};

QTEST_MAIN(TestWordPieceTokenizer)
#include "tst_wordpiece_tokenizer.moc"
