// fastgda-studio: the desktop application. Opens the built-in bundle, or the folder given.
#include <QApplication>
#include <QCommandLineParser>

#include "main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("FastGDA Studio"));
  QApplication::setOrganizationName(QStringLiteral("FastGDA"));  // where QSettings keeps settings
  // Lets Wayland compositors match the window to the installed .desktop file and its icon.
  QGuiApplication::setDesktopFileName(QStringLiteral(FASTGDA_APP_ID));
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Data attribution for text-to-image models."));
  parser.addHelpOption();
  parser.addPositionalArgument(QStringLiteral("bundle"),
                               QStringLiteral("Bundle folder (default: the one chosen in "
                                              "Settings, else the built-in bundle)."));
  parser.process(app);
  const QString bundle = parser.positionalArguments().isEmpty()
                             ? fastgda::ui::MainWindow::startupBundle()
                             : parser.positionalArguments().front();
  fastgda::ui::MainWindow window;
  window.openBundle(bundle);
  window.show();
  return app.exec();
}
