// CSV quoting and parsing: what spreadsheets expect, and text that needs quoting survives.
#include <QTest>

#include "util/csv.h"
#include "util/error.h"

using namespace fastgda;

class TestCsv : public QObject {
  Q_OBJECT
 private slots:
  void quotesOnlyWhatNeedsIt() {
    QCOMPARE(csvField("plain text"), std::string("plain text"));
    QCOMPARE(csvField("red apple, google style"), std::string("\"red apple, google style\""));
    QCOMPARE(csvField("say \"hi\""), std::string("\"say \"\"hi\"\"\""));
    QCOMPARE(csvRow({"1", "a,b", ""}), std::string("1,\"a,b\",\n"));
  }

  void roundTrips() {
    const std::vector<std::vector<std::string>> rows = {{"rank", "caption"},
                                                        {"1", "red apple, google style"},
                                                        {"2", "a \"quoted\" word"},
                                                        {"3", "two\nlines"},
                                                        {"4", ""},
                                                        {"5", "ünïcödé ☺"}};
    std::string text;
    for (const auto& r : rows) text += csvRow(r);
    QCOMPARE(parseCsv(text, "t.csv"), rows);
    // Windows line ends and a missing final line break read the same.
    QCOMPARE(parseCsv("a,b\r\nc,d", "t.csv"),
             (std::vector<std::vector<std::string>>{{"a", "b"}, {"c", "d"}}));
  }

  void badTextIsNamed() {
    try {
      parseCsv("a,b\n\"open,c\n", "table.csv");
      QFAIL("an unterminated quote was accepted");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("table.csv: line 2"), e.what());
    }
    QVERIFY_THROWS_EXCEPTION(Error, parseCsv("\"a\"b,c\n", "t.csv"));
  }
};

QTEST_GUILESS_MAIN(TestCsv)
#include "tst_csv.moc"
