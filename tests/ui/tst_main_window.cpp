// The studio window on the built-in bundle, offscreen.
#include <QApplication>
#include <QListView>
#include <QMessageBox>
#include <QTest>
#include <QTimer>

#include "main_window.h"

class TestMainWindow : public QObject {
  Q_OBJECT
 private slots:
  void opensTheBuiltinBundleAndFilters() {
    fastgda::ui::MainWindow window;
    QVERIFY(window.openBundle(FASTGDA_SOURCE_DIR "/models/builtin"));
    window.show();
    QVERIFY(window.summaryText().contains("training images"));
    const int all = window.visibleImages();
    QVERIFY(all > 13000);
    window.setFilter("thumbs up");
    const int thumbs = window.visibleImages();
    // Thumbs up in 4 styles × 6 tones, minus what a vendor lacks.
    QVERIFY2(thumbs >= 20 && thumbs < 40, qPrintable(QString::number(thumbs)));
  }

  void usesTheApplicationIcon() {
    fastgda::ui::MainWindow window;
    // A null pixmap would mean the compiled-in resource is missing.
    for (const int size : {16, 256})
      QVERIFY2(!window.windowIcon().pixmap(size).isNull(), qPrintable(QString::number(size)));
  }

  void badBundleShowsAnErrorAndKeepsTheOldOne() {
    fastgda::ui::MainWindow window;
    QVERIFY(window.openBundle(FASTGDA_SOURCE_DIR "/models/builtin"));
    const QString before = window.summaryText();
    // Close the modal error box as soon as it appears.
    QTimer::singleShot(0, [] {
      for (QWidget* w : QApplication::topLevelWidgets())
        if (auto* box = qobject_cast<QMessageBox*>(w)) box->accept();
    });
    QVERIFY(!window.openBundle("/nonexistent/bundle"));
    QCOMPARE(window.summaryText(), before);
  }
};

QTEST_MAIN(TestMainWindow)
#include "tst_main_window.moc"
